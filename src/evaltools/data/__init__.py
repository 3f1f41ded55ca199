"""Data in: readers for every supported format and DuckDB (:mod:`~evaltools.data.readers`),
validation and the data-quality summary (:mod:`~evaltools.data.validation`), and the seeded
demo data (:mod:`~evaltools.data.demo`, :mod:`~evaltools.data.demo_prepost`,
:mod:`~evaltools.data.demo_register`).
"""
