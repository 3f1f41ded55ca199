"""How the pre/post report names things: scales, their ranges and scores, groups, occasions.

Shared by the pre/post tables (:mod:`evaltools.prepost.tables`), figures
(:mod:`evaltools.prepost.figures`) and findings (:mod:`evaltools.prepost.findings`), so that a
scale, a group or a number reads the same in a table, a figure and a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype
from pandas.core.dtypes.cast import maybe_box_native

from evaltools.errors import DataError
from evaltools.params.models import Scale
from evaltools.report.i18n import catalogue, fmt_number, is_missing, text


def rows_by_scale(rows: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """`rows` of a result's table by scale name, each a dict with its index as ``_index``: a
    table or figure reads its rows once, not with a pandas filter per scale (those lookups were
    a fifth of the figures' building time and two thirds of the steering table's)."""
    by_scale: dict[str, list[dict[str, Any]]] = {}
    for index, record in zip(rows.index, records(rows), strict=True):
        record["_index"] = index
        by_scale.setdefault(str(record["scale"]), []).append(record)
    return by_scale


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")``, the same values (pandas 3's boxing of object and extension
    columns' numpy scalars), read column by column: pandas takes each column through ``iloc``
    for every call, three times this function's time on a result table's rows."""
    columns = frame.columns.tolist()
    rows = [
        dict(zip(columns, values, strict=True))
        for values in zip(*(column for _, column in frame.items()), strict=True)
    ]
    boxed = [
        name
        for name, dtype in zip(columns, frame.dtypes, strict=True)
        if dtype == np.dtype(object) or isinstance(dtype, ExtensionDtype)
    ]
    for row in rows if boxed else ():
        for name in boxed:
            row[name] = maybe_box_native(row[name])
    return rows


def scales_by_name(table: pd.DataFrame, scales: Sequence[Scale]) -> dict[str, Scale]:
    """The scales of `scales` that appear in `table`, in the order of `scales`.

    Raises DataError if `table` holds a scale that `scales` does not describe.
    """
    known = {s.name: s for s in scales}
    unknown = sorted({str(n) for n in table["scale"].unique()} - set(known))
    if unknown:
        raise DataError(f"the table holds scale(s) {unknown} not among the scales {list(known)}")
    present = set(table["scale"].astype(str))
    return {name: s for name, s in known.items() if name in present}


def score_decimals(scale: Scale) -> int:
    """Decimals used for scores on `scale`: 2 on short scales (span <= 10), else 1."""
    low, high = scale.range
    return 2 if high - low <= 10 else 1


def fmt_score(value: float | None, scale: Scale, language: str) -> str:
    """A score, mean or difference on `scale`, with the scale's decimals (or '–')."""
    return fmt_number(value, language, score_decimals(scale))


def fmt_bound(value: float) -> str:
    """A scale bound without needless decimals (``1``, ``100``, ``0.5``)."""
    return f"{value:g}"


def fmt_range(scale: Scale, language: str) -> str:
    """The scale's range as ``1–4`` (Danish decimal comma for fractional bounds)."""
    low, high = (fmt_bound(v).replace("-", "−") for v in scale.range)
    if language == "da":
        low, high = low.replace(".", ","), high.replace(".", ",")
    return f"{low}–{high}"


def scale_label(scale: Scale, language: str, *, with_range: bool = True) -> str:
    """The scale's label, with its range when `with_range`: ``Angst/depression (1–4)``."""
    label = scale.label.get(language)
    return f"{label} ({fmt_range(scale, language)})" if with_range else label


def group_header(
    by: str,
    value: Any,
    language: str,
    labels: Mapping[Any, str] | None = None,
    by_label: str | None = None,
) -> str:
    """How a group value is named in a header.

    The value's entry in `labels` if any; else ``Fase 1`` for phase 1 (a number gets the
    column's name, `by_label` or the catalogue's); else the value itself.
    """
    if labels and value in labels:
        return labels[value]
    if labels and str(value) in labels:
        return labels[str(value)]
    shown = value
    if isinstance(value, float) and value.is_integer():
        shown = int(value)
    if isinstance(shown, int) or (isinstance(shown, str) and shown.strip().isdigit()):
        return text(
            "prepost_tab_group_numbered",
            language,
            group=by_label or group_var_label(by, language),
            value=str(shown).strip(),
        )
    return str(shown)


def group_var_label(by: str, language: str) -> str:
    """The name of a grouping column in words (``Fase``, ``Afdeling``), else the column name."""
    key = f"prepost_group_{by}"
    return text(key, language) if key in catalogue() else by


def lower_first(label: str) -> str:
    """`label` for use inside a sentence: ``Angst/depression`` -> ``angst/depression``.

    Abbreviations (``PTSD``) keep their capitals.
    """
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def group_values(rows: pd.DataFrame, labels: Mapping[Any, str] | None = None) -> list[Any]:
    """The group values in `rows`: first those in `labels`, in its order, then the rest."""
    values = [v for v in pd.unique(rows["group_value"]) if not is_missing(v)]
    if not labels:
        return values
    keys = list(labels)

    def rank(value: Any) -> int:
        for i, key in enumerate(keys):
            if key == value or str(key) == str(value):
                return i
        return len(keys)

    return sorted(values, key=rank)  # stable: values not in `labels` keep their order


def scale_order(scales: Sequence[Scale], language: str) -> list[Scale]:
    """`scales` grouped by outcome area (areas in first-seen order), as in the tables."""
    return row_headers(scales, language)[2]


def row_headers(
    scales: Sequence[Scale], language: str, *, with_range: bool = True
) -> tuple[tuple[str, ...], list[tuple[str, ...]], list[Scale]]:
    """Row header names and cells, scales grouped by outcome area (areas in first-seen order)."""
    areas: dict[str, list[Scale]] = {}
    other = text("prepost_tab_area_other", language)
    has_area = any(s.area is not None for s in scales)
    for s in scales:
        area = s.area.get(language) if s.area is not None else other
        areas.setdefault(area, []).append(s)
    ordered = [s for group in areas.values() for s in group]
    label = text("prepost_tab_scale_range" if with_range else "prepost_tab_scale", language)
    if not has_area:
        return (
            (label,),
            [(scale_label(s, language, with_range=with_range),) for s in ordered],
            ordered,
        )
    names = (text("prepost_tab_area", language), label)
    rows = [
        (area, scale_label(s, language, with_range=with_range))
        for area, group in areas.items()
        for s in group
    ]
    return names, rows, ordered


def check_by(table: pd.DataFrame, by: str | None) -> None:
    """Raise ValueError unless `by` is None or a grouping column (``group_var``) of `table`."""
    if by is None:
        return
    known = sorted({str(v) for v in table["group_var"].dropna().unique()})
    if by not in known:
        shown = ", ".join(map(repr, known))
        raise ValueError(f"`by` must be one of {{{shown}}} or None, got {by!r}")
