"""What the pre/post report tables read from a result: its settings, the rows over all
clients, one row per scale, and the note on which measurements 'before' and 'after' are.

Used by :mod:`evaltools.prepost.tables` and :mod:`evaltools.prepost.steering`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evaltools.choices import Language
from evaltools.errors import DataError
from evaltools.params.models import Scale
from evaltools.prepost.result import PrePostResult
from evaltools.report.i18n import is_missing, text
from evaltools.report.table import occasion_name


def table_settings(result: PrePostResult) -> tuple[pd.DataFrame, tuple[Scale, ...], Language, int]:
    """The change table, scales, language and minimum cell size a table is made with."""
    return result.table, result.scales, result.language, result.min_cell_size


def all_clients_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows over all clients (no group)."""
    return table[table["group_var"].isna()]


def one_row(rows: dict[str, list[dict[str, Any]]], scale: str, what: str) -> dict[str, Any] | None:
    """The one row of `scale` among rows by scale (None if none; two are an error)."""
    found = rows.get(scale, [])
    if len(found) > 1:
        many = f"the table has {len(found)} rows for scale '{scale}' and {what}"
        raise DataError(f"{many}; expected one")
    return found[0] if found else None


def occasions_note(rows: pd.DataFrame, language: str) -> str | None:
    """'Before = first measurement, after = last measurement' when all rows agree."""
    if rows.empty or "from_occasion" not in rows or "to_occasion" not in rows:
        return None
    froms = {str(v) for v in rows["from_occasion"] if not is_missing(v)}
    tos = {str(v) for v in rows["to_occasion"] if not is_missing(v)}
    if len(froms) != 1 or len(tos) != 1:
        return None
    first = rows["from_occasion"].dropna().iloc[0]
    last = rows["to_occasion"].dropna().iloc[0]
    return text(
        "prepost_tab_note_occasions",
        language,
        before=occasion_name(first, language),
        after=occasion_name(last, language),
    )


#: The change table's columns that the steering and results tables read.
TABLE_COLUMNS = ("scale", "group_var", "group_value", "n_paired", "mean_pre", "mean_post",
                 "mean_change", "share_improved", "suppressed")  # fmt: skip
