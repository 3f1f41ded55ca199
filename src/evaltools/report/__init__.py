"""What every report part shares: texts in Danish and English (:mod:`~evaltools.report.i18n`,
``locale/*.yml``), the brand (:mod:`~evaltools.report.brand`), result display
(:mod:`~evaltools.report.display`) and the notebooks' set-up (:mod:`~evaltools.report.notebook`).
"""
