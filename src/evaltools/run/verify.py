"""Does a report still match its inputs? Recompute the hashes listed in ``provenance.json``.

``provenance.json`` (written by the pipeline beside each report) lists every input (parameter
file, data, notebooks, brand files) with its path and SHA-256, and every output of the report
folder with its SHA-256. :func:`verify_report` recomputes them all and says, file by file,
whether it is unchanged, changed or missing; ``evaltools verify reports/<slug>/`` prints it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from evaltools.run.provenance import package_versions, sha256

Status = Literal["unchanged", "changed", "missing", "unlisted", "unreadable"]
PROVENANCE = "provenance.json"
_BAD: frozenset[str] = frozenset({"changed", "missing", "unreadable"})


@dataclass(frozen=True)
class VerifyLine:
    """One file checked: what it is, where, and whether it still matches its recorded hash.

    Attributes
    ----------
    kind
        ``"input"``, ``"output"`` or ``"provenance"``.
    role
        The input's role in ``provenance.json`` (``params``, ``data:prepost``,
        ``notebook:prepost``, ``brand``), or the output's file name.
    path
        The file checked.
    status
        ``unchanged``; ``changed`` (its SHA-256 differs from the recorded one); ``missing``;
        ``unlisted`` (a file in the report folder that provenance.json does not list);
        ``unreadable`` (provenance.json itself can't be read).
    recorded, actual
        The recorded and the recomputed SHA-256 (empty when there is none).
    """

    kind: str
    role: str
    path: Path
    status: Status
    recorded: str = ""
    actual: str = ""

    def __str__(self) -> str:
        return f"{self.status:<10} {self.kind:<6} {self.role:<18} {self.path}"


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify_report` found, file by file.

    Attributes
    ----------
    folder
        The report folder checked.
    lines
        One :class:`VerifyLine` per file: inputs first, then outputs, then unlisted files.
    packages
        Packages whose installed version differs from the recorded one:
        ``{name: (recorded, installed)}`` (installed is ``""`` when it is not installed).
        Information only: a report matches its inputs whatever is installed now, but
        rerunning it may give other numbers.
    strict
        Whether unlisted files count as a mismatch.
    """

    folder: Path
    lines: list[VerifyLine] = field(default_factory=list)
    packages: dict[str, tuple[str, str]] = field(default_factory=dict)
    strict: bool = False

    @property
    def ok(self) -> bool:
        """True when every listed file is unchanged (and, if `strict`, none is unlisted)."""
        bad = _BAD | ({"unlisted"} if self.strict else set())
        return bool(self.lines) and not any(line.status in bad for line in self.lines)

    @property
    def problems(self) -> list[VerifyLine]:
        """The lines that make the report not match (changed, missing, unreadable...)."""
        bad = _BAD | ({"unlisted"} if self.strict else set())
        return [line for line in self.lines if line.status in bad]

    @property
    def table(self) -> pd.DataFrame:
        """One row per file: kind, role, path, status, recorded and actual SHA-256."""
        return pd.DataFrame(
            [
                {
                    "kind": line.kind,
                    "role": line.role,
                    "path": str(line.path),
                    "status": line.status,
                    "recorded": line.recorded,
                    "actual": line.actual,
                }
                for line in self.lines
            ],
            columns=["kind", "role", "path", "status", "recorded", "actual"],
        )

    def summary(self) -> str:
        """A few lines for the terminal: the verdict, then every file that is not unchanged."""
        counts = self.table["status"].value_counts().to_dict() if self.lines else {}
        tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        verdict = "matches its inputs" if self.ok else "does NOT match its inputs"
        out = [f"{self.folder}: the report {verdict} ({tally or 'nothing checked'})."]
        out += [str(line) for line in self.lines if line.status != "unchanged"]
        for name, (recorded, installed) in sorted(self.packages.items()):
            now = installed or "not installed"
            out.append(f"note: {name} was {recorded} when the report was made, now {now}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(line.status)}</td><td>{escape(line.kind)}</td>"
            f"<td>{escape(line.role)}</td><td>{escape(str(line.path))}</td></tr>"
            for line in self.lines
        )
        verdict = "matches its inputs" if self.ok else "does <b>not</b> match its inputs"
        return (
            f"<p>{escape(str(self.folder))}: the report {verdict}.</p>"
            "<table><thead><tr><th>status</th><th>kind</th><th>role</th><th>path</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )


def verify_report(folder: str | Path, *, strict: bool = False) -> VerifyResult:
    """Recompute the hashes in `folder`/provenance.json and compare them with the files.

    Parameters
    ----------
    folder
        A report folder (``reports/<slug>/``) holding ``provenance.json``.
    strict
        Also count files in the folder that provenance.json does not list (e.g. a file
        copied in afterwards) as a mismatch. Hidden files (``.name``) are never listed.

    Returns
    -------
    VerifyResult
        ``.ok`` is True when every input (at its recorded absolute path) and every output
        (in `folder`) has the recorded SHA-256; ``.lines`` has one line per file.
    """
    folder = Path(folder)
    provenance_path = folder / PROVENANCE
    document, problem = _read_provenance(provenance_path)
    if document is None:
        line = VerifyLine("provenance", PROVENANCE, provenance_path, problem)
        return VerifyResult(folder, [line], strict=strict)

    lines: list[VerifyLine] = []
    for entry in document.get("inputs", []):
        path = Path(str(entry.get("path", "")))
        lines.append(_check("input", str(entry.get("role", "")), path, entry.get("sha256", "")))
    outputs = document.get("outputs", {})
    for name in sorted(outputs):
        lines.append(_check("output", name, folder / name, str(outputs[name])))
    listed = set(outputs) | {PROVENANCE}
    if folder.is_dir():  # level reports are in subfolders (levels/<level>/)
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
            if path.is_file() and name not in listed and not hidden:
                lines.append(VerifyLine("output", name, path, "unlisted", "", sha256(path)))
    return VerifyResult(folder, lines, _package_changes(document.get("packages", {})), strict)


def _read_provenance(path: Path) -> tuple[dict[str, Any] | None, Status]:
    if not path.is_file():
        return None, "missing"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, "unreadable"
    if not isinstance(document, dict):
        return None, "unreadable"
    return document, "unchanged"


def _check(kind: str, role: str, path: Path, recorded: Any) -> VerifyLine:
    recorded = str(recorded or "")
    if not path.is_file():
        return VerifyLine(kind, role, path, "missing", recorded)
    actual = sha256(path)
    status: Status = "unchanged" if actual == recorded else "changed"
    return VerifyLine(kind, role, path, status, recorded, actual)


def _package_changes(recorded: dict[str, Any]) -> dict[str, tuple[str, str]]:
    installed = package_versions()
    return {
        name: (str(version), installed.get(name, ""))
        for name, version in recorded.items()
        if installed.get(name) != version
    }
