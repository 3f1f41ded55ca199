"""Which data formats evaltools reads, and what a CSV file looks like (encoding, separator,
decimal mark), shared by the file readers (:mod:`~evaltools.data.readers`) and the DuckDB
scans (:mod:`~evaltools.data.duckdb_source`)."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

from evaltools.errors import DataError, MissingColumnError

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".sav": "spss",
    ".zsav": "spss",
    ".dta": "stata",
    ".sas7bdat": "sas",
}
SUPPORTED = tuple(FORMATS)  # the file extensions read
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_GLOB_CHARS = frozenset("*?[")
HINTS = {
    ".xls": " Save it as .xlsx in Excel (File > Save As) and point `data` at that file.",
    ".sas7bcat": " A .sas7bcat is a SAS format catalogue: point `data` at the .sas7bdat file.",
}


def is_glob(path: str | Path) -> bool:
    """Whether `path` is a glob pattern (``*``, ``?`` or ``[``) rather than one file."""
    return any(ch in _GLOB_CHARS for ch in str(path))


def check_columns(source: object, available: list[str], wanted: list[str] | None) -> None:
    """Raise a :class:`MissingColumnError` naming `source` if a `wanted` column is not
    `available` (:func:`missing_columns`)."""
    missing = [c for c in (wanted or []) if c not in available]
    if missing:
        raise missing_columns(source, available, missing)


def missing_columns(
    source: object, available: list[str], missing: list[str], *, named_in: str = ""
) -> MissingColumnError:
    """The error for `missing` columns of `source`, with the nearest available name for each
    (did you mean ...?) and the columns there are; `named_in`: the key that names them."""
    names = [str(c) for c in available]
    near = [
        f"'{c}': did you mean '{match[0]}'?"
        for c in missing
        if (match := difflib.get_close_matches(str(c), names, n=1, cutoff=0.6))
    ]
    hint = f" ({'; '.join(near)})" if near else ""
    where = f" named in {named_in}" if named_in else ""
    place = "the file" if named_in else "the data"
    return MissingColumnError(
        f"{source}: column(s) {missing}{where} are not in {place}{hint}; its columns are "
        f"{available}.",
        columns=[str(c) for c in missing],
    )


def check_unique_header(source: object, header: list[object]) -> None:
    """Raise a DataError naming `source` and the column if a name is in `header` twice.

    Readers rename a repeated name (``score``, ``score.1``) and the first one would be used
    without a word; empty names (a trailing separator) are left alone.
    """
    seen: dict[str, int] = {}
    for number, raw in enumerate(header, start=1):
        name = "" if raw is None or (isinstance(raw, float) and raw != raw) else str(raw)
        if not name.strip():
            continue
        if name in seen:
            raise DataError(
                f"{source}: the column name {name!r} is in the header twice (columns "
                f"{seen[name]} and {number}); give each column its own name."
            )
        seen[name] = number


def detect_encoding(raw: bytes) -> str:
    """The first of :data:`ENCODINGS` that decodes `raw` (else ``latin-1``)."""
    for encoding in ENCODINGS:
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def detect_separator(text: str, path: Path) -> str:
    """The field separator of CSV `text` (tab for ``.tsv``), sniffed from its first lines."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = text.splitlines()[0]
        return max(",;\t|", key=header.count)


def detect_decimal(text: str, sep: str) -> str:
    """The decimal mark of CSV `text`; a decimal comma only where fields are not comma-separated."""
    if sep == ",":
        return "."
    lines = text.splitlines()[1:200]
    comma = sum(_looks_like_decimal_comma(field) for line in lines for field in line.split(sep))
    return "," if comma > 0 else "."


def _looks_like_decimal_comma(field: str) -> bool:
    field = field.strip().strip('"')
    head, _, tail = field.partition(",")
    return bool(tail) and head.lstrip("-").isdigit() and tail.isdigit()
