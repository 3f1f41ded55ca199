"""Data in: the formats read and CSV detection (:mod:`~evaltools.data.formats`), file readers
(:mod:`~evaltools.data.readers`), DuckDB scans of large extracts
(:mod:`~evaltools.data.duckdb_source`), checks (:mod:`~evaltools.data.validation`), the
data-quality counts (:mod:`~evaltools.data.quality`), and the seeded demo data
(:mod:`~evaltools.data.demo`, :mod:`~evaltools.data.demo_prepost`,
:mod:`~evaltools.data.demo_register`).
"""
