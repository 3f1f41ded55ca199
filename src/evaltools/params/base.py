"""What every parameter section builds on: the frozen base model, texts in both languages,
data paths resolved beside the parameter file, and options for reading a data file."""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

Analysis = Literal["prepost", "register_panel"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def identifier(value: str) -> str:
    """`value` unchanged if it is a name of letters, digits and underscores (not starting
    with a digit); else ValueError, reported at the key by pydantic."""
    if not _IDENT.match(value):
        raise ValueError("must be a name of letters, digits and underscores")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(_Model):
    """A text in Danish and English; a plain string in the YAML means the same in both."""

    da: str
    en: str

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"da": value, "en": value}
        return value

    def get(self, language: str) -> str:
        """Return the text in `language` (``"da"`` or ``"en"``)."""
        return self.da if language == "da" else self.en


def _resolve_data_path(value: str | Path, info: ValidationInfo) -> Path:
    """Resolve `value` against the params file's folder, then each folder above it."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    base = (info.context or {}).get("base_dir")
    if base is None:
        return path
    base = Path(base)
    for folder in (base, *base.parents):
        candidate = folder / path
        if candidate.exists() or glob_matches(candidate):
            return candidate.resolve()
    # Not found: keep the path relative to the params file so the error names it.
    return (base / path).resolve()


def glob_matches(path: Path) -> bool:
    """Whether `path` is a glob pattern (``data/*.parquet``) that matches at least one file."""
    return any(c in str(path) for c in "*?[") and bool(glob.glob(str(path), recursive=True))


class ReadOptions(_Model):
    """How to read a data file when the defaults (detected from the file) are not right."""

    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    where: str | None = Field(
        default=None,
        description="A SQL row filter (e.g. `year >= 2010`), pushed down into the file scan "
        "by DuckDB (Parquet/CSV files or a glob).",
    )
    sql: str | None = Field(
        default=None,
        description="A SQL SELECT over the view `data` (the data file or glob), run by DuckDB; "
        "`where` then filters its result.",
    )


# --------------------------------------------------------------------------- indicator system
# Phases, progression rules, client statistics, single-choice items and survey-export intake
# (the `indicators` part of a report, notebooks/indicators.ipynb). Every key is optional.
