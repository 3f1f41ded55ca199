"""Small-cell suppression: what a table or figure may show about people is decided here alone
(:mod:`~evaltools.privacy.suppression`).
"""
