"""Privacy: no person id or data row in any output, and no small group recoverable by subtraction.

Two kinds of tests:

- *Leak scan* (end to end, ``e2e``): the demo is run (``evaltools demo``) and every file under
  its output folder is scanned: report HTML, PDF text, executed notebooks (sources, outputs,
  metadata), JSON, and the metadata of every embedded image, for every person id of the input
  data and for every data row (any 5 consecutive values of a row, as text or as a table
  row). The scanner itself is first shown to find planted leaks.
- *Differencing attacks* on :func:`evaltools.prepost.analysis.analyse_prepost` with hand-made
  data in
  which a small group (lost clients, a late starter, a small department) would be recoverable
  by subtracting one published number from another; the test plays the attacker on the
  published numbers and asserts that the secret is not among the results.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import shutil
import subprocess
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from demo_reports import demo_failure, demo_output
from matplotlib.text import Text

from evaltools.data.demo import demo_params_files
from evaltools.data.readers import read_analysis_data
from evaltools.params.loading import load_params
from evaltools.params.models import PrePost
from evaltools.prepost.analysis import analyse_prepost
from evaltools.prepost.figures import trajectory_figure
from evaltools.prepost.tables import attrition_table
from evaltools.privacy.cross_table import protect_against
from evaltools.privacy.suppression import Cell, protect_differences

#: Consecutive values of one data row that count as the row (5: a person's answers on one
#: scale, or group, occasion, date and the first items; no false hits on the demo reports).
ROW_WINDOW = 5

# --------------------------------------------------------------------------- the scanner


@dataclass
class PersonData:
    """What must never appear in an output: person ids and data rows (as windows of values)."""

    ids: set[str] = field(default_factory=set)
    id_columns: set[str] = field(default_factory=set)
    windows: set[tuple[str, ...]] = field(default_factory=set)
    rows: int = 0
    persons: int = 0

    def add(self, frame: pd.DataFrame, id_column: str) -> None:
        """Add the persons and rows of one data table."""
        self.ids |= {str(v) for v in frame[id_column].dropna().unique()}
        self.id_columns.add(id_column)
        self.rows += len(frame)
        self.persons += int(frame[id_column].nunique())
        values = frame.drop(columns=[id_column])
        for row in values.itertuples(index=False):
            run: list[str] = []
            for value in [*row, None]:
                token = None if _missing(value) else normalise(str(value))
                if token:
                    run.append(token)
                    continue
                self.windows.update(windows(run))
                run = []


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


_NUMBER = re.compile(r"^[-+−]?\d+(?:[.,]\d+)?$")


def normalise(token: str) -> str:
    """A value as text, the same however it was printed: '2.0', '2' and '2,0' are all '2'."""
    token = token.strip().strip("\"'").replace("−", "-")
    if _NUMBER.match(token):
        number = float(token.replace(",", "."))
        return str(int(number)) if number.is_integer() else f"{number:g}"
    return token


def windows(tokens: list[str]) -> Iterator[tuple[str, ...]]:
    """Every run of :data:`ROW_WINDOW` consecutive tokens."""
    for start in range(len(tokens) - ROW_WINDOW + 1):
        yield tuple(tokens[start : start + ROW_WINDOW])


_BLOB = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+|[A-Za-z0-9+/=]{200,}")
_SPLIT = re.compile(r"<[^>]*>|[\s,;|]+")
_SPLIT_KEEP_DECIMALS = re.compile(r"<[^>]*>|[\s;|]+|,(?!\d)|(?<!\d),")


def tokens(text: str, *, decimal_comma: bool = False) -> list[str]:
    """The words and numbers of `text` (tags, separators and base64 blobs removed).

    Commas separate, unless `decimal_comma`, where a comma between digits is a decimal mark
    ("2,5" is one number, as in Danish text).
    """
    split = _SPLIT_KEEP_DECIMALS if decimal_comma else _SPLIT
    return [normalise(t) for t in split.split(_BLOB.sub(" ", text)) if t and t.strip()]


_WORD = re.compile(r"[\w.,-]+")


def words(text: str) -> set[str]:
    """The words of `text` as an id would stand in it ("FN-0001", "100002"), base64 removed.

    A number inside a longer number (``1.107658``) is not the word ``107658``.
    """
    return {w.strip(".,-") for w in _WORD.findall(_BLOB.sub(" ", text))}


def person_data(params_files: Iterable[Path]) -> PersonData:
    """The persons and rows of every analysis' data of the given parameter files."""
    data = PersonData()
    for params_file in params_files:
        params = load_params(params_file)
        for name in params.analyses:
            spec = getattr(params, name)
            data.add(read_analysis_data(spec), spec.id)
    return data


@dataclass(frozen=True)
class Hit:
    """One leak found: which file, which part of it, and what."""

    path: str
    part: str
    what: str


def png_text_chunks(png: bytes) -> dict[str, str]:
    """The tEXt, zTXt and iTXt metadata of a PNG file, and 'tIME' if it has a timestamp."""
    chunks: dict[str, str] = {}
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        return chunks
    at = 8
    while at + 8 <= len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        kind = png[at + 4 : at + 8]
        body = png[at + 8 : at + 8 + length]
        at += 12 + length
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            chunks[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            chunks[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            chunks[key.decode("latin-1")] = (zlib.decompress(text) if compressed else text).decode(
                "utf-8"
            )
        elif kind == b"tIME":
            chunks["tIME"] = body.hex()
    return chunks


_PNG_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")


def embedded_pngs(text: str) -> list[bytes]:
    """The PNG images embedded in HTML or markdown as data URIs."""
    return [base64.b64decode(re.sub(r"\s", "", m)) for m in _PNG_URI.findall(text)]


def pdf_text(path: Path) -> str | None:
    """The text and document metadata of a PDF (pypdf, else pdftotext/pdfinfo); None if neither."""
    try:
        import pypdf
    except ImportError:
        pypdf = None
    if pypdf is not None:
        reader = pypdf.PdfReader(path)
        info = json.dumps({k: str(v) for k, v in (reader.metadata or {}).items()})
        return info + "\n" + "\n".join(page.extract_text() or "" for page in reader.pages)
    if shutil.which("pdftotext") is None:
        return None
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    if shutil.which("pdfinfo"):
        text += (
            "\n"
            + subprocess.run(
                ["pdfinfo", str(path)], capture_output=True, text=True, check=False
            ).stdout
        )
    return text


class Scanner:
    """Scans files for person ids, data rows and identifying image metadata."""

    def __init__(self, data: PersonData, *, forbidden_paths: Iterable[str] = ()) -> None:
        self.data = data
        self.forbidden_paths = [p for p in forbidden_paths if p]
        self.hits: list[Hit] = []
        self.pdf_skipped: list[str] = []
        self.parts_scanned = 0

    def scan_tree(self, root: Path) -> list[Hit]:
        """Scan every file under `root` (hidden ones too)."""
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.scan_file(path)
        return self.hits

    def scan_file(self, path: Path) -> None:
        suffix = path.suffix.lower()
        raw = path.read_bytes()
        if suffix == ".pdf":
            text = pdf_text(path)
            if text is None:
                self.pdf_skipped.append(str(path))
            else:
                self.text(path, "pdf text", text)
        elif suffix == ".png":
            self.png(path, "image", raw)
        elif suffix == ".ipynb":
            self.notebook(path, json.loads(raw.decode("utf-8")))
        else:
            text = raw.decode("utf-8", errors="replace")
            self.text(path, "text", text)
            for i, png in enumerate(embedded_pngs(text)):
                self.png(path, f"embedded image {i}", png)

    def text(self, path: Path, part: str, text: str) -> None:
        self.parts_scanned += 1
        for person in sorted(words(text) & self.data.ids):
            self.hits.append(Hit(str(path), part, f"person id {person!r}"))
        for decimal_comma in (False, True):
            for window in windows(tokens(text, decimal_comma=decimal_comma)):
                if window in self.data.windows:
                    self.hits.append(Hit(str(path), part, f"data row values {window}"))
        for row in _html_rows(text):
            for window in windows(row):
                if window in self.data.windows:
                    self.hits.append(Hit(str(path), part, f"data row in a table {window}"))

    def png(self, path: Path, part: str, png: bytes) -> None:
        for key, value in png_text_chunks(png).items():
            where = f"{part} metadata {key!r}"
            if key == "tIME":
                self.hits.append(Hit(str(path), where, "a timestamp"))
                continue
            self.text(path, where, f"{key} {value}")
            for fragment in self.forbidden_paths:
                if fragment in value:
                    self.hits.append(Hit(str(path), where, f"a local path ({fragment})"))

    def notebook(self, path: Path, notebook: dict) -> None:
        self.text(path, "notebook metadata", json.dumps(notebook.get("metadata", {})))
        for index, cell in enumerate(notebook.get("cells", [])):
            where = f"cell {index}"
            self.text(path, f"{where} source", "".join(cell.get("source", "")))
            for output in cell.get("outputs", []):
                if "text" in output:
                    self.text(path, f"{where} stream", "".join(output["text"]))
                for mime, value in output.get("data", {}).items():
                    value = "".join(value) if isinstance(value, list) else str(value)
                    if mime.startswith("image/png"):
                        self.png(path, f"{where} {mime}", base64.b64decode(value))
                    else:
                        self.text(path, f"{where} {mime}", value)
                        for i, png in enumerate(embedded_pngs(value)):
                            self.png(path, f"{where} {mime} image {i}", png)


def _html_rows(text: str) -> Iterator[list[str]]:
    """The cells of every HTML table row in `text`, normalised, one list per row."""
    if "<tr" not in text:
        return
    for row in BeautifulSoup(text, "html.parser").find_all("tr"):
        cells = [normalise(c.get_text(" ", strip=True)) for c in row.find_all(["td", "th"])]
        yield [c for c in cells if c]


def person_tables(notebook: dict, data: PersonData, *, max_rows: int) -> list[str]:
    """Outputs of `notebook` that look like a table of persons.

    That is: a pandas DataFrame display (``class="dataframe"`` or its ``[n rows x m columns]``
    footer), a table with a person-id column, or a table with more than `max_rows` rows.
    """
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []):
            data_ = output.get("data", {})
            html = "".join(data_.get("text/html", ""))
            plain = "".join(data_.get("text/plain", "")) + "".join(output.get("text", ""))
            if 'class="dataframe"' in html or re.search(r"\[\d+ rows x \d+ columns\]", plain):
                found.append(f"cell {index}: a pandas DataFrame")
            if not html:
                continue
            for table in BeautifulSoup(html, "html.parser").find_all("table"):
                headers = {th.get_text(strip=True) for th in table.find_all("th")}
                if headers & data.id_columns:
                    found.append(f"cell {index}: a table with an id column")
                if len(table.find_all("tr")) > max_rows:
                    found.append(f"cell {index}: a table of {len(table.find_all('tr'))} rows")
    return found


# --------------------------------------------------------------------------- scanner works


def _fake_people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": ["ZZ-0001", "ZZ-0001", "ZZ-0002", "ZZ-0002"],
            "department": ["Nord", "Nord", "Syd", "Syd"],
            "measurement": [1, 2, 1, 2],
            "a1": [2, 1, 4, 3],
            "a2": [3, 2, 1, 4],
            "stress": [52.5, 40.25, 61.0, 58.5],
        }
    )


def _png_with_text(key: str, value: str) -> bytes:
    """A 1x1 PNG with one tEXt chunk."""
    import struct

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    text = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", text)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def test_scanner_finds_planted_leaks(tmp_path: Path) -> None:
    people = _fake_people()
    data = PersonData()
    data.add(people, "client_id")
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "report.html").write_text(
        "<table><tr><th>Afdeling</th><td>2,50</td><td>1,75</td><td>61 %</td></tr></table>",
        encoding="utf-8",
    )
    assert Scanner(data).scan_tree(clean) == []

    leaky = tmp_path / "leaky"
    leaky.mkdir()
    # 1. A df.head() of the data without the id column, as pandas renders it in a notebook.
    head = people.drop(columns="client_id").head().to_html()
    # 2. The same rows as text, Danish decimals, in a markdown output.
    line = "Syd; 2; 3; 4; 58,5 (client ZZ-0001.)"
    # 3. An image whose metadata names a client and a local path.
    png = base64.b64encode(_png_with_text("Comment", f"ZZ-0002 {tmp_path}")).decode()
    notebook = {
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "source": "data.head()",
                "outputs": [
                    {"output_type": "execute_result", "data": {"text/html": head}},
                    {"output_type": "display_data", "data": {"text/markdown": line}},
                    {"output_type": "display_data", "data": {"image/png": png}},
                ],
            }
        ],
    }
    (leaky / "prepost.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    hits = Scanner(data, forbidden_paths=[str(tmp_path)]).scan_tree(leaky)
    assert all(h.path.endswith("prepost.ipynb") and h.part.startswith("cell 0") for h in hits)
    assert any("data row in a table" in h.what for h in hits)
    assert any(h.what.startswith("data row values") and "markdown" in h.part for h in hits)
    assert any(h.what == "person id 'ZZ-0002'" and "metadata" in h.part for h in hits)
    assert any(h.what == "person id 'ZZ-0001'" and "markdown" in h.part for h in hits)
    assert any(h.what.startswith("a local path") for h in hits)
    assert person_tables(notebook, data, max_rows=50) == ["cell 0: a pandas DataFrame"]


def test_ids_are_found_as_words_not_inside_numbers() -> None:
    assert words("id 100002, and 1.100002 or 2,100002; <td>FN-0001</td>") >= {"100002", "FN-0001"}
    assert "100002" not in words("1.100002 2,100002 x100002")


def test_png_metadata_reader_reads_text_chunks() -> None:
    assert png_text_chunks(_png_with_text("Software", "x 1.0")) == {"Software": "x 1.0"}


# --------------------------------------------------------------------------- demo leak scan


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_output(tmp_path_factory)


@pytest.fixture(scope="module")
def demo_people() -> PersonData:
    return person_data(demo_params_files())


@pytest.mark.e2e
def test_demo_outputs_hold_no_person_id_and_no_data_row(
    demo: Path, demo_people: PersonData, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert len(demo_people.ids) > 100 and all(len(i) >= 5 for i in demo_people.ids)
    forbidden = [str(Path.home()), str(demo.parent)]
    scanner = Scanner(demo_people, forbidden_paths=forbidden)
    hits = scanner.scan_tree(demo)
    assert hits == [], "\n".join(f"{h.path} [{h.part}]: {h.what}" for h in hits[:20])
    assert scanner.parts_scanned > 100
    # Whatever a failed grantee left behind was scanned too; now require a complete demo.
    assert demo_failure(tmp_path_factory) == ""
    folders = sorted(p.name for p in demo.iterdir() if p.is_dir())
    reports = [name for name in folders if not name.startswith("_")]
    assert reports == sorted(load_params(f).report_slug for f in demo_params_files())
    # the previous round and the portfolio over both rounds were scanned with the rest
    assert {"_portfolio", "_previous_round"} <= set(folders)


@pytest.mark.e2e
def test_demo_pdf_text_is_scanned(demo: Path, demo_people: PersonData) -> None:
    pdfs = sorted(demo.rglob("*.pdf"))
    if not pdfs:
        pytest.skip("the reports have no report.pdf (the PDF renderer is not part of this run)")
    text = pdf_text(pdfs[0])
    if text is None:
        pytest.skip("neither pypdf nor pdftotext is installed: PDF text can't be read")
    assert len(tokens(text)) > 100  # the scan above read real text, not an empty page
    hits = Scanner(demo_people).scan_tree(pdfs[0].parent)
    assert hits == []


@pytest.mark.e2e
def test_demo_images_carry_no_identifying_metadata(demo: Path) -> None:
    images = []
    for html in demo.rglob("report.html"):
        images += embedded_pngs(html.read_text(encoding="utf-8"))
    assert len(images) >= 3
    for png in images:
        chunks = png_text_chunks(png)
        # Nothing about the machine, user, software version or time of the run.
        assert set(chunks) <= {"Title", "Description"}, chunks


#: More table rows than any aggregate table of the reports has (scales x groups, years...),
#: fewer than any demo data table has rows.
MAX_TABLE_ROWS = 60


@pytest.mark.e2e
def test_executed_notebooks_hold_no_table_of_persons(demo: Path, demo_people: PersonData):
    notebooks = sorted(demo.rglob("*.ipynb"))
    assert len(notebooks) >= 3
    for notebook_path in notebooks:
        notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
        found = person_tables(notebook, demo_people, max_rows=MAX_TABLE_ROWS)
        assert found == [], notebook_path
        sources = "\n".join("".join(c.get("source", "")) for c in notebook["cells"])
        assert ".head(" not in sources and "display(data" not in sources


@pytest.mark.e2e
def test_report_states_the_disclosure_rule(demo: Path) -> None:
    for html in sorted(demo.rglob("report.html")):
        text = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser").get_text(" ")
        rule = re.search(r"(Fortrolighed|Confidentiality)\.?\s+(.{0,300})", text)
        assert rule, f"{html}: no disclosure note in the method notes"
        assert re.search(r"færre end \d+|fewer than \d+", rule.group(2))


# --------------------------------------------------------------------------- differencing


def _spec(groups=(), compare=("first", "last")) -> PrePost:
    scale = {
        "name": "sc",
        "label": "Score",
        "score": "sc",
        "range": [0, 100],
        "higher_is_better": True,
        "reliability": 0.8,
    }
    return PrePost.model_validate(
        {"data": "unused.csv", "groups": list(groups), "compare": list(compare), "scales": [scale]}
    )


def _rows(values: dict[str, dict[int, float]], **columns: dict[str, object]) -> pd.DataFrame:
    """Long data from {client: {occasion: score}} and per-client group columns."""
    rows = []
    for client, by_occasion in values.items():
        for occasion, score in by_occasion.items():
            row = {"client_id": client, "measurement": occasion, "sc": score}
            row.update({name: column[client] for name, column in columns.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def _published(result) -> list[tuple[str, float, float]]:
    """Every (what, n, sum of scores) a reader can take from the result's tables.

    The change table's before and after means over n_paired, the trajectories' means over n,
    the attrition table's baseline means of the followed-up and the lost (and their sum over
    n_baseline when both are shown), and for every group variable the sum of its visible
    groups: what a reader could add up.
    """
    out = []
    for r in result.table.to_dict("records"):
        if not _missing(r["n_paired"]):
            name = f"{r['group_var']}={r['group_value']}"
            out.append((f"pre {name}", r["n_paired"], r["n_paired"] * r["mean_pre"]))
            out.append((f"post {name}", r["n_paired"], r["n_paired"] * r["mean_post"]))
    for r in result.trajectories.to_dict("records"):
        if not _missing(r["n"]) and r["n"] > 0:
            name = f"t{r['occasion']} {r['group_var']}={r['group_value']}"
            out.append((name, r["n"], r["n"] * r["mean"]))
    for r in result.attrition.to_dict("records"):
        parts = []
        for part in ("followup", "lost"):
            n, mean = r[f"n_{part}"], r[f"mean_baseline_{part}"]
            if not _missing(n) and not _missing(mean):
                parts.append((f"attrition {part}", n, n * mean))
        out += parts
        if len(parts) == 2:
            out.append(("attrition baseline", parts[0][1] + parts[1][1], parts[0][2] + parts[1][2]))
    # Sums of the visible groups of one variable (change table; trajectories per occasion).
    sums: dict[str, list[tuple[float, float]]] = {}
    for what, n, total in out:
        kind, _, rest = what.partition(" ")
        var = rest.split("=")[0]
        if var not in ("None", "") and "attrition" not in what:
            sums.setdefault(f"{kind} {var}", []).append((n, total))
    for key, members in sums.items():
        if len(members) >= 2:
            out.append((f"sum of {key}", sum(n for n, _ in members), sum(t for _, t in members)))
    return out


def _recoverable(result, k: int) -> list[tuple[str, str, float, float]]:
    """Every (a, b, n_a - n_b, mean of the difference) with 0 < n_a - n_b < k."""
    found = []
    for (a, na, sa), (b, nb, sb) in itertools.permutations(_published(result), 2):
        if 0 < na - nb < k:
            found.append((a, b, na - nb, (sa - sb) / (na - nb)))
    return found


def _assert_secret_safe(result, secret_n: int, secret_mean: float, k: int = 5) -> None:
    leaks = [
        f for f in _recoverable(result, k) if f[2] == secret_n and math.isclose(f[3], secret_mean)
    ]
    assert leaks == [], leaks


def test_lost_clients_mean_is_not_recoverable_from_trajectory_and_change_table():
    # 12 clients measured twice, 2 measured once (lost). Occasion-1 mean over 14 minus the
    # change table's before mean over 12 would give the 2 lost clients' mean: (30 + 80) / 2.
    values = {f"c{i:02d}": {1: 40.0 + i, 2: 45.0 + i} for i in range(12)}
    values |= {"lost1": {1: 30.0}, "lost2": {1: 80.0}}
    result = analyse_prepost(_rows(values), spec=_spec())
    _assert_secret_safe(result, 2, 55.0)
    att = result.attrition.iloc[0]
    # Only the lost clients' count and mean go: the baseline (14) and the followed-up (12,
    # mean 45.5) are the occasion-1 count and the change table's n and before mean.
    assert pd.isna(att["n_lost"]) and pd.isna(att["mean_baseline_lost"])
    assert (att["n_baseline"], att["n_followup"]) == (14, 12)
    assert att["mean_baseline_followup"] == pytest.approx(45.5)
    trajectory = result.trajectories.set_index("occasion")
    assert trajectory.loc[1, "suppressed"] and pd.isna(trajectory.loc[1, "n"])
    assert not trajectory.loc[2, "suppressed"]  # the paired clients' after-measurement
    counts = result.occasion_counts.set_index("occasion")
    # The occasion-1 count stays: it equals the clients in all shown beside it, and without
    # the occasion-1 mean it gives away no score (issue 13: never hide a number shown elsewhere).
    assert counts.loc[1, "n_sc"] == counts.loc[1, "n_clients"] == 14
    assert counts.loc[2, "n_sc"] == 12
    # The main result stays.
    overall = result.table.iloc[0]
    assert overall["n_paired"] == 12 and not overall["suppressed"]
    # How each hidden count is to be shown: small ones as "< 5", the others as hidden.
    reasons = result.hidden_counts("attrition").iloc[0].to_dict()
    assert reasons == {"n_baseline": None, "n_followup": None, "n_lost": "primary"}
    assert result.hidden_counts("occasion_counts").set_index(counts.index).loc[1, "n_sc"] is None


def test_the_leak_is_real_without_cross_table_protection(monkeypatch):
    # The same data with the cross-table check switched off: the attack finds the secret.
    import evaltools.prepost.analysis as prepost

    monkeypatch.setattr(prepost, "protect_across_tables", lambda *args: None)
    values = {f"c{i:02d}": {1: 40.0 + i, 2: 45.0 + i} for i in range(12)}
    values |= {"lost1": {1: 30.0}, "lost2": {1: 80.0}}
    result = analyse_prepost(_rows(values), spec=_spec())
    with pytest.raises(AssertionError):
        _assert_secret_safe(result, 2, 55.0)


def test_late_starters_score_is_not_recoverable_from_attrition_and_trajectory():
    # 'late' has no score at occasion 1, so its baseline is its occasion-2 score (77): the
    # attrition table's baseline (followed-up + lost, 17 clients) minus occasion 1 (16).
    values = {f"c{i:02d}": {1: 40.0 + i, 2: 50.0 + i} for i in range(10)}
    values |= {f"l{i}": {1: 20.0 + 3 * i} for i in range(6)}
    values |= {"late": {2: 77.0, 3: 70.0}}
    result = analyse_prepost(_rows(values), spec=_spec())
    _assert_secret_safe(result, 1, 77.0)


def test_last_measurements_before_the_end_are_not_recoverable():
    # Everyone is paired; 20 end at occasion 3, 2 end at occasion 2 (scores 10 and 90). The
    # change table's after mean (22 clients) minus the occasion-3 mean (20) gives the 2.
    values = {f"c{i:02d}": {1: 40.0 + i, 3: 50.0 + i} for i in range(20)}
    values |= {"e1": {1: 45.0, 2: 10.0}, "e2": {1: 46.0, 2: 90.0}}
    result = analyse_prepost(_rows(values), spec=_spec())
    _assert_secret_safe(result, 2, 50.0)
    assert result.table.iloc[0]["n_paired"] == 22


def test_lost_clients_of_one_department_are_not_recoverable():
    # Overall 9 lost (safe), but department B has 10 paired and 2 lost (scores 5 and 95):
    # B's occasion-1 mean (12) minus B's before mean (10) would give the 2.
    values = {f"a{i:02d}": {1: 40.0 + i, 2: 42.0 + i} for i in range(15)}
    values |= {f"b{i:02d}": {1: 30.0 + i, 2: 35.0 + i} for i in range(10)}
    values |= {f"x{i}": {1: 60.0 + i} for i in range(7)}
    values |= {"b_lost1": {1: 5.0}, "b_lost2": {1: 95.0}}
    dept = {c: ("B" if c.startswith("b") else "A") for c in values}
    result = analyse_prepost(_rows(values, dept=dept), spec=_spec(groups=["dept"]))
    _assert_secret_safe(result, 2, 50.0)
    # The change table's departments stay; the trajectories give way.
    table = result.table.set_index("group_value")
    assert table.loc["B", "n_paired"] == 10 and table.loc["A", "n_paired"] == 15


def test_nested_groups_of_two_variables_do_not_give_away_their_difference():
    # Every 'aftercare' client is in department A, which has 3 more clients (changes +30).
    values, dept, phase = {}, {}, {}
    for i in range(20):
        client = f"c{i:02d}"
        values[client] = {1: 40.0 + i, 2: 41.0 + i}
        dept[client] = "A" if i < 13 else "B"
        phase[client] = "aftercare" if i < 10 else "course"
    for i in (10, 11, 12):  # in A but not aftercare: change +30 each
        values[f"c{i:02d}"] = {1: 40.0, 2: 70.0}
    data = _rows(values, dept=dept, phase=phase)
    result = analyse_prepost(data, spec=_spec(groups=["dept", "phase"]))
    table = result.table
    shown = table[~table["suppressed"].astype(bool)]
    pre = {(r["group_var"], r["group_value"]): r for r in shown.to_dict("records")}
    a, aftercare = pre.get(("dept", "A")), pre.get(("phase", "aftercare"))
    assert a is None or aftercare is None, "A minus aftercare would give 3 clients' change"


def test_no_nested_cells_differ_by_a_small_group_on_demo_data():
    """An independent check on the demo grantees' data: per scale, the paired clients'
    before and after measurements, the measurements at each occasion and the attrition
    table's baseline, overall and per group; no two shown ones are nested with a difference
    of 1 to 4."""
    from evaltools.data.demo_prepost import GRANTEES, generate_indicator_data
    from evaltools.prepost.scales import score_scales

    for grantee in GRANTEES.values():
        params = load_params(next(f for f in demo_params_files() if f.stem == grantee.slug))
        assert params.prepost.compare == ("first", "last")  # as recomputed below
        spec, k = params.prepost, params.min_cell_size
        data = generate_indicator_data(grantee)
        result = analyse_prepost(data, spec=spec, min_cell_size=k)
        scored_all = score_scales(data.reset_index(drop=True), spec.scales)
        for scale in spec.scales:
            cells = _independent_cells(scored_all, spec, scale.name, result)
            for (a, sa), (b, sb) in itertools.permutations(cells, 2):
                if sb < sa:
                    assert not 0 < len(sa) - len(sb) < k, (grantee.slug, scale.name, a, b)


def _independent_cells(scored: pd.DataFrame, spec: PrePost, scale: str, result):
    """(name, set of (client, occasion)) of every shown cell of `scale`, recomputed here."""
    rows = scored[scored[scale].notna()]
    by_client = rows.sort_values([spec.id, spec.occasion]).groupby(spec.id)
    first, last = by_client.head(1), by_client.tail(1)
    paired_ids = set(by_client.size().loc[lambda n: n >= 2].index)
    shown = []
    table = result.table[result.table["scale"] == scale]
    for r in table.to_dict("records"):
        if r["suppressed"]:
            continue
        members = first[first[spec.id].isin(paired_ids)]
        if not _missing(r["group_var"]):
            members = members[members[r["group_var"]] == r["group_value"]]
        ids = set(members[spec.id])
        pre = {
            (c, o) for c, o in zip(first[spec.id], first[spec.occasion], strict=True) if c in ids
        }
        post = {(c, o) for c, o in zip(last[spec.id], last[spec.occasion], strict=True) if c in ids}
        shown += [(f"pre {r['group_value']}", pre), (f"post {r['group_value']}", post)]
    traj = result.trajectories[result.trajectories["scale"] == scale]
    for r in traj.to_dict("records"):
        if r["suppressed"]:
            continue
        at = rows[rows[spec.occasion] == r["occasion"]]
        if not _missing(r["group_var"]):
            at = at[at[r["group_var"]] == r["group_value"]]
        shown.append(
            (
                f"t{r['occasion']} {r['group_value']}",
                set(zip(at[spec.id], at[spec.occasion], strict=True)),
            )
        )
    att = result.attrition[result.attrition["scale"] == scale].iloc[0]
    base = set(zip(first[spec.id], first[spec.occasion], strict=True))
    followed = {(c, o) for c, o in base if c in paired_ids}
    if not _missing(att["n_baseline"]):
        shown.append(("attrition baseline", base))
    if not _missing(att["n_followup"]):
        shown.append(("attrition followed-up", followed))
    if not _missing(att["n_lost"]):
        shown.append(("attrition lost", base - followed))
    return shown


# --------------------------------------------------------------------------- protect_differences


def _cell(key, members, priority=0, hidden=False):
    return Cell(key, (frozenset(members),), priority, hidden)


def test_protect_differences_hides_the_less_central_of_two_nested_cells():
    everyone = _cell("all", range(14), priority=2)
    paired = _cell("paired", range(12), priority=0)
    other = _cell("other", range(100, 120), priority=1)
    hidden = protect_differences([everyone, paired, other], min_cell_size=5)
    assert hidden == {"all": "complementary"}


def test_protect_differences_allows_equal_and_large_differences():
    cells = [_cell("a", range(10)), _cell("b", range(10)), _cell("c", range(15), priority=1)]
    assert protect_differences(cells, min_cell_size=5) == {}


def test_protect_differences_checks_the_sum_of_a_family():
    # Groups 6 + 7 of a total 15: the 2 without a group are recoverable; hide a group (the
    # smaller one), after which the other group alone leaves 9.
    total = _cell("total", range(15), priority=0)
    g1 = _cell("g1", range(6), priority=1)
    g2 = _cell("g2", range(6, 13), priority=1)
    hidden = protect_differences([total, g1, g2], min_cell_size=5, families=[["g1", "g2"]])
    assert hidden == {"g1": "complementary"}


def test_protect_differences_primary_and_argument_checks():
    hidden = protect_differences(
        [_cell("small", range(3)), _cell("big", range(30))], min_cell_size=5
    )
    assert hidden == {"small": "primary"}
    with pytest.raises(ValueError, match="`min_cell_size` must be a whole number"):
        protect_differences([], min_cell_size=0)
    with pytest.raises(ValueError, match="own `key`"):
        protect_differences([_cell("a", [1]), _cell("a", [2])], min_cell_size=5)
    with pytest.raises(ValueError, match="not given"):
        protect_differences([_cell("a", [1])], min_cell_size=5, families=[["a", "zz"]])
    mismatched = Cell("m", (frozenset({1, 2}), frozenset({1})))
    with pytest.raises(ValueError, match="differ in size"):
        protect_differences([mismatched], min_cell_size=5)


def test_hidden_counts_names_the_table():
    values = {f"c{i:02d}": {1: 40.0 + i, 2: 45.0 + i} for i in range(8)}
    result = analyse_prepost(_rows(values), spec=_spec())
    assert list(result.hidden_counts("table").columns) == ["n_paired"]
    with pytest.raises(ValueError, match="`name` must be one of"):
        result.hidden_counts("nope")


def test_demo_grantee_tables_carry_no_ids():
    """Directly on the analysis result (no notebook): no id in any published table."""
    params = load_params(demo_params_files()[0])
    data = read_analysis_data(params.prepost)
    result = analyse_prepost(data, spec=params.prepost, min_cell_size=params.min_cell_size)
    ids = set(data[params.prepost.id].astype(str))
    text = " ".join(
        frame.to_csv()
        for frame in (result.table, result.trajectories, result.attrition, result.occasion_counts)
    )
    text += json.dumps(result.records()) + result.summary() + result._repr_html_()
    assert not [i for i in ids if i in text]
    assert np.isfinite(result.table["n_paired"].astype(float)).any()


# ------------------------------------------------- the fewest and smallest cells (issue 13, item 3)


def test_protect_differences_hides_the_fewest_cells_not_the_first_ranked():
    # 20 clients at baseline (their first measurement), 19 of them at occasion 1: hiding the
    # baseline alone would not do (followed up + lost add up to it), so hiding it costs the
    # lost cell too; hiding the occasion-1 trajectory point costs one cell.
    followup, lost = _cell("followup", range(14), 3), _cell("lost", range(14, 20), 3)
    baseline = _cell("baseline", range(20), 3)
    occasion1 = _cell("occasion1", range(19), 2)
    cells = [followup, lost, baseline, occasion1]
    hidden = protect_differences(cells, min_cell_size=5, families=[["followup", "lost"]])
    assert hidden == {"occasion1": "complementary"}


def test_attrition_rows_stay_whole_when_one_client_starts_late():
    # 14 clients from occasion 1, one first measured at occasion 2: the attrition table's
    # baseline (15) holds the occasion-1 trajectory (14) and one more. Only the occasion-1
    # mean is hidden; its count (shown as the clients in all) and the attrition row stay.
    values = {f"c{i:02d}": {1: 40.0 + i, 2: 45.0 + i} for i in range(8)}
    values |= {f"l{i:02d}": {1: 30.0 + i} for i in range(6)}
    values |= {"late": {2: 70.0, 3: 72.0}}
    result = analyse_prepost(_rows(values), spec=_spec())
    att = result.attrition.iloc[0]
    assert (att["n_baseline"], att["n_followup"], att["n_lost"]) == (15, 9, 6)
    assert not att["suppressed"] and not pd.isna(att["difference"])
    counts = result.occasion_counts.set_index("occasion")
    assert counts.loc[1, "n_sc"] == 14
    trajectory = result.trajectories.set_index("occasion")
    assert trajectory.loc[1, "suppressed"]
    _assert_secret_safe(result, 1, 70.0)


def test_trajectory_figure_says_why_a_complement_point_is_missing():
    # issue 13, item 1 for figures: the occasion-1 point hidden above rests on 14 clients;
    # its note must not say "fewer than 5".
    values = {f"c{i:02d}": {1: 40.0 + i, 2: 45.0 + i} for i in range(8)}
    values |= {f"l{i:02d}": {1: 30.0 + i} for i in range(6)}
    values |= {"late": {2: 70.0, 3: 72.0}}
    result = analyse_prepost(_rows(values), spec=_spec(), language="en")
    figure = trajectory_figure(result, palette=["#1F3A5F"])
    notes = " ".join(
        t.get_text().replace("\n", " ") for t in figure.findobj(Text) if "Not shown" in t.get_text()
    )
    # each note starts "Not shown" (finish() wraps them; the lines are joined again here)
    sentences = ["Not shown" + s for s in notes.split("Not shown")[1:]]
    small = " ".join(s for s in sentences if "because there are fewer than" in s)
    complement = " ".join(s for s in sentences if "can't be worked out" in s)
    assert "measurement 3" in small and "measurement 1" not in small  # 1 client at occasion 3
    assert "measurement 1" in complement


# ------------------------------------------- attrition: never hide a number shown elsewhere


def test_attrition_hides_only_the_lost_when_the_rest_is_shown_elsewhere():
    # issue 12 leftover (vejen_videre's "Frafald" was all "–"): 20 clients at occasion 1, 17
    # followed up, 3 lost. The 20 is the occasion-1 count and the 17 (with its before mean)
    # the change table's n: hiding them in the attrition table protects nothing. Only the
    # lost clients' count, mean and the comparison go; the lost clients' mean stays safe.
    values = {f"c{i:02d}": {1: 40.0 + i, 2: 45.0 + i} for i in range(17)}
    values |= {"lost1": {1: 10.0}, "lost2": {1: 90.0}, "lost3": {1: 20.0}}
    result = analyse_prepost(_rows(values), spec=_spec())
    att = result.attrition.iloc[0]
    overall = result.table.iloc[0]
    counts = result.occasion_counts.set_index("occasion")
    assert att["n_baseline"] == counts.loc[1, "n_sc"] == 20
    assert att["n_followup"] == overall["n_paired"] == 17
    assert att["mean_baseline_followup"] == pytest.approx(overall["mean_pre"])
    assert pd.isna(att["n_lost"]) and pd.isna(att["mean_baseline_lost"])
    assert pd.isna(att["difference"]) and pd.isna(att["p_value"])
    assert result.hidden_counts("attrition").iloc[0].to_dict() == {
        "n_baseline": None,
        "n_followup": None,
        "n_lost": "primary",
    }
    _assert_secret_safe(result, 3, 40.0)
    table = attrition_table(result)
    started, followed, lost = table.cells[0][:3]
    assert (started, followed, lost) == ("20", "17", "< 5")


def test_attrition_keeps_its_complement_when_the_numbers_are_not_shown_elsewhere():
    # As above plus a client first measured at occasion 2 and followed up: the baseline
    # (21) is no occasion's count, so it stays hidden as the lost clients' complement; the
    # followed-up (18) is the change table's n and is shown.
    values = {f"c{i:02d}": {1: 40.0 + i, 2: 45.0 + i} for i in range(17)}
    values |= {"lost1": {1: 10.0}, "lost2": {1: 90.0}, "lost3": {1: 20.0}}
    values |= {"late": {2: 60.0, 3: 61.0}}
    result = analyse_prepost(_rows(values), spec=_spec())
    att = result.attrition.iloc[0]
    assert pd.isna(att["n_lost"]) and pd.isna(att["n_baseline"])
    assert att["n_followup"] == result.table.iloc[0]["n_paired"] == 18
    _assert_secret_safe(result, 3, 40.0)


def test_protect_against_hides_what_a_published_table_hides_and_keeps_that_table():
    # the pre/post tables hide a group row of 20 (as a complement); another table showing
    # the same 20 measurements must hide it too; a row nested in a shown pre/post cell with
    # 2 more measurements is hidden there, not the pre/post cell (already published)
    hidden_row = _cell(("table", 1), range(20), hidden=True)
    overall = _cell(("table", 0), range(100))
    same, nested, fine = (
        _cell("same", range(20)),
        _cell("nested", range(98)),
        _cell("fine", range(50)),
    )
    found = protect_against([same, nested, fine], [hidden_row, overall], [], 5)
    assert found == {"same": "complementary", "nested": "complementary"}
