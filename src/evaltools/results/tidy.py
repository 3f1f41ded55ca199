"""The base of every analysis result: a tidy DataFrame at its core.

A result says what it found in one tidy table (:meth:`TidyResult.tidy`, one row per estimate);
everything else is derived from it: the ``results.json`` records (:meth:`TidyResult.records`),
the estimates, standard errors and confidence intervals, and the display (``summary()``,
``_repr_html_`` from :class:`~evaltools.report.display.ResultDisplay`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from evaltools.report.display import ResultDisplay
from evaltools.results.io import json_safe


class TidyResult(ResultDisplay):
    """Mixin of a result whose core is :meth:`tidy`.

    A subclass implements :meth:`tidy` and the display hooks of
    :class:`~evaltools.report.display.ResultDisplay`, and names the columns of its tidy table
    that hold the estimate, its standard error and its confidence interval.
    """

    #: Column of :meth:`tidy` holding the estimates.
    estimate_column: ClassVar[str] = "estimate"
    #: Column holding their standard errors (None: the result has none).
    se_column: ClassVar[str | None] = "se"
    #: Columns holding the lower and upper confidence bounds (None: the result has none).
    interval_columns: ClassVar[tuple[str, str] | None] = ("ci_low", "ci_high")
    #: Columns written by :meth:`records` (None: all of them).
    record_keys: ClassVar[tuple[str, ...] | None] = None

    def tidy(self) -> pd.DataFrame:
        """The result as a tidy DataFrame, one row per estimate."""
        raise NotImplementedError

    def records(self) -> list[dict[str, Any]]:
        """The rows of :meth:`tidy` as JSON-safe dicts (:data:`record_keys` only, if set)."""
        frame = self.tidy()
        keys = list(self.record_keys or frame.columns)
        return json_safe([{k: row.get(k) for k in keys} for row in frame.to_dict("records")])

    def estimates(self) -> pd.Series:
        """The estimates, from :meth:`tidy`."""
        return self.tidy()[self.estimate_column]

    def std_errors(self) -> pd.Series:
        """The standard errors, from :meth:`tidy`; raises AttributeError if there are none."""
        if self.se_column is None:
            raise AttributeError(f"{type(self).__name__} has no standard errors")
        return self.tidy()[self.se_column]

    def conf_int(self) -> pd.DataFrame:
        """The confidence intervals (lower and upper bound columns), from :meth:`tidy`.

        Raises AttributeError if the result has none.
        """
        if self.interval_columns is None:
            raise AttributeError(f"{type(self).__name__} has no confidence intervals")
        return self.tidy()[list(self.interval_columns)]
