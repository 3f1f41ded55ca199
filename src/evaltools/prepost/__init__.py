"""The pre/post analysis of an indicator system: scale scores (:mod:`~evaltools.prepost.scales`),
paired change and reliable change (:mod:`~evaltools.prepost.analysis`), and its tables,
figures and findings in words.
"""
