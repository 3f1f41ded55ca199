"""``results.json``: its schema, writing and reading (:mod:`~evaltools.results.io`)."""
