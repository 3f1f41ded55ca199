"""Rendering executed notebooks into branded reports: nbconvert HTML and the Quarto wrapper."""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote

import nbconvert
import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from matplotlib.figure import Figure
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
from notebook_support import executed_notebook
from ruamel.yaml import YAML

from evaltools import __version__
from evaltools.errors import OutputError, ParamsError, RenderError
from evaltools.render import (
    RenderOutcome,
    ReportMeta,
    find_quarto,
    format_long_date,
    nbconvert_html,
    render_html,
    render_quarto,
    render_report,
)
from evaltools.render import exporter as exporter_module
from evaltools.render import quarto as quarto_module
from evaltools.render import report as report_module
from evaltools.render.nbconvert_html import heading_id, is_numeric_text
from evaltools.report.brand import load_brand

REPORT_DATE = dt.date(2026, 11, 22)
MISSING_QUARTO = "Quarto CLI not installed (set QUARTO_PATH or put quarto on PATH)"


# ---------------------------------------------------------------------------
# The test notebook
# ---------------------------------------------------------------------------


def _png() -> str:
    fig = Figure(figsize=(4, 2.5))
    ax = fig.add_subplot()
    ax.bar(["Før", "Efter"], [2.20, 1.93])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table_html() -> str:
    table = pd.DataFrame(
        {
            "Skala": ["Angst/depression (1-4)", "PTSD (1-4)", "Økonomisk stress (1-100)"],
            "Før": [2.20, 2.73, 50.34],
            "Efter": [1.93, 2.70, 54.03],
            "Andel forbedret": ["71 %", "36 %", "40 %"],
        }
    )
    return table._repr_html_()


def build_notebook() -> nbformat.NotebookNode:
    """A small executed notebook with every kind of cell a report meets."""
    nb = executed_notebook()
    nb.cells = [
        new_code_cell(
            "grantee = 'PARAM_SOURCE'",
            metadata={"tags": ["parameters"]},
            outputs=[new_output("stream", name="stdout", text="PARAM_OUTPUT\n")],
        ),
        new_code_cell(
            "grantee = 'INJECTED_SOURCE'",
            metadata={"tags": ["injected-parameters"]},
            outputs=[new_output("stream", name="stdout", text="INJECTED_OUTPUT\n")],
        ),
        new_markdown_cell("# Rapporttitel"),
        new_markdown_cell("## Sammenfatning\n\nFire ud af fem har haft fremgang."),
        new_markdown_cell("## Resultater før og efter"),
        new_markdown_cell("### Psykiske senfølger"),
        new_code_cell(
            "CODE_SOURCE_MARKER = summary_table()\nCODE_SOURCE_MARKER",
            execution_count=3,
            outputs=[
                new_output(
                    "execute_result",
                    execution_count=3,
                    data={"text/html": _table_html(), "text/plain": "TEXT_PLAIN_REPR"},
                )
            ],
        ),
        new_code_cell(
            "plot_scores()",
            execution_count=4,
            outputs=[
                new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
                new_output(
                    "display_data",
                    data={"text/markdown": "**Figur 1.** Score før og efter forløbet."},
                ),
            ],
        ),
        new_code_cell(
            "print('hidden')",
            metadata={"tags": ["remove-output"]},
            outputs=[new_output("stream", name="stdout", text="REMOVED_OUTPUT\n")],
        ),
        new_markdown_cell("REMOVED_CELL", metadata={"tags": ["remove-cell"]}),
        new_code_cell(
            "print('HIDDEN_SOURCE')",
            metadata={"jupyter": {"source_hidden": True}},
            outputs=[new_output("stream", name="stdout", text="VISIBLE_OUTPUT\n")],
        ),
        new_code_cell(
            "import warnings",
            outputs=[new_output("stream", name="stderr", text="STDERR_WARNING\n")],
        ),
        new_markdown_cell("### Metode\n\nSe [dokumentationen](https://example.org/metode)."),
        new_markdown_cell("#### Detalje\n\nUden for indholdsfortegnelsen."),
    ]
    return nb


def _meta(language: str = "da") -> ReportMeta:
    return ReportMeta(
        grantee="Mødrehjælpen",
        intervention="Ud af voldens skygge",
        period="2025",
        date=REPORT_DATE,
        language=language,
    )


@pytest.fixture(scope="module")
def brand():
    return load_brand("default")


@pytest.fixture(scope="module")
def notebook_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nb") / "analysis.ipynb"
    nbformat.write(build_notebook(), path)
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, notebook_file, brand) -> str:
    out = tmp_path_factory.mktemp("report_da") / "report.html"
    assert render_html(notebook_file, out, brand=brand, meta=_meta("da")) == out
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def soup(rendered) -> BeautifulSoup:
    return BeautifulSoup(rendered, "html.parser")


# ---------------------------------------------------------------------------
# nbconvert HTML
# ---------------------------------------------------------------------------


def test_no_code_inputs_or_prompts(rendered):
    assert "CODE_SOURCE_MARKER" not in rendered
    assert "HIDDEN_SOURCE" not in rendered
    assert "plot_scores" not in rendered
    assert "In&nbsp;[" not in rendered and "In [" not in rendered
    assert "Out[" not in rendered
    assert "jp-InputPrompt" not in rendered and "jp-OutputPrompt" not in rendered
    assert "cm-editor" not in rendered  # the code editor markup of input cells
    assert "VISIBLE_OUTPUT" in rendered  # a hidden input still shows its output


def test_parameter_removed_and_stderr_cells_show_nothing(rendered):
    for marker in (
        "PARAM_SOURCE",
        "PARAM_OUTPUT",
        "INJECTED_SOURCE",
        "INJECTED_OUTPUT",
        "REMOVED_OUTPUT",
        "REMOVED_CELL",
        "STDERR_WARNING",
    ):
        assert marker not in rendered, marker


def test_logo_is_embedded_as_data_uri(soup, brand):
    logo = soup.select_one("header.report-header img.report-logo")
    assert logo is not None
    prefix = "data:image/svg+xml;base64,"
    assert logo["src"].startswith(prefix)
    assert base64.b64decode(logo["src"][len(prefix) :]) == brand.logo.read_bytes()
    assert logo["alt"] == "evaltools"


def test_brand_colours_and_fonts_are_in_the_css(soup, brand):
    css = "\n".join(style.get_text() for style in soup.find_all("style"))
    assert f"--brand-primary: {brand.primary};" in css
    assert f"--brand-accent: {brand.accent};" in css
    assert "var(--brand-primary)" in css
    assert f"--brand-font-base: {brand.base_font};" in css
    assert "font-family: var(--brand-font-base)" in css


def test_table_of_contents_links_h2_and_h3_headings(soup):
    toc = soup.select_one("nav#report-toc")
    assert toc is not None and toc.h2.get_text() == "Indhold"
    links = [(a["href"], a.get_text()) for a in toc.select("a")]
    assert links == [
        ("#sammenfatning", "Sammenfatning"),
        ("#resultater-foer-og-efter", "Resultater før og efter"),
        ("#psykiske-senfoelger", "Psykiske senfølger"),
        ("#metode", "Metode"),
    ]
    main = soup.select_one("main.report-body")
    for href, label in links:
        target = main.find(id=href[1:])
        assert target is not None and target.name in ("h2", "h3"), href
        assert target.get_text(strip=True) == label
    # h3 entries are nested under their h2; h1 and h4 headings stay out of the TOC
    nested = [a.get_text() for a in toc.select("ol > li > ol > li > a")]
    assert nested == ["Psykiske senfølger", "Metode"]
    assert main.find(id="detalje") is not None and main.find(id="detalje").name == "h4"


def test_title_block_in_danish(soup):
    header = soup.select_one("header.report-header")
    assert header.select_one(".report-title").get_text() == "Ud af voldens skygge"
    assert header.select_one(".report-kind").get_text() == "Effektevaluering"
    items = {
        dt_.get_text(): dd.get_text()
        for dt_, dd in zip(header.select("dt"), header.select("dd"), strict=True)
    }
    assert items == {
        "Bevillingsmodtager": "Mødrehjælpen",
        "Periode": "2025",
        "Dato": "22. november 2026",
    }
    assert soup.html["lang"] == "da"


def test_footer_names_version_and_date(soup):
    footer = soup.select_one("footer.report-footer")
    assert (
        footer.get_text(strip=True) == f"Genereret med evaltools {__version__} · 22. november 2026"
    )


def test_no_scripts_or_network_resources(rendered, soup):
    assert soup.find("script") is None
    assert soup.find("link") is None
    assert soup.find("iframe") is None
    for img in soup.find_all("img"):
        assert img["src"].startswith("data:image/"), img["src"][:40]
    lowered = rendered.lower()
    for needle in ("cdnjs", "mathjax", "require.js", "@import", "url(http"):
        assert needle not in lowered, needle
    # the only absolute URL is the author's own hyperlink in a markdown cell
    hrefs = [a["href"] for a in soup.find_all("a") if a["href"].startswith(("http:", "https:"))]
    assert hrefs == ["https://example.org/metode"]


class _StrictParser(HTMLParser):
    """Checks that every element is closed in order (void elements excepted)."""

    VOID: ClassVar[set[str]] = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def test_html_is_well_formed(rendered):
    assert rendered.lstrip().lower().startswith("<!doctype html>")
    parser = _StrictParser()
    parser.feed(rendered)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    for tag in ("html", "head", "body", "main", "header", "footer", "nav", "title"):
        assert parser.counts.get(tag) == 1, tag


def test_tables_mark_numeric_columns_right_aligned(soup):
    table = soup.select_one("main table.dataframe")
    assert table is not None and not table.has_attr("border")
    header = [th.get_text(strip=True) for th in table.select("thead th")]
    assert header == ["", "Skala", "Før", "Efter", "Andel forbedret"]
    numeric_heads = [th.get_text(strip=True) for th in table.select("thead th.num")]
    assert numeric_heads == ["Før", "Efter", "Andel forbedret"]
    first_row = table.select("tbody tr")[0]
    cells = first_row.find_all("td")
    assert [("num" in (td.get("class") or [])) for td in cells] == [False, True, True, True]
    assert soup.find("style").get_text().count("tbody tr:nth-child(even)") == 1


def test_every_cell_of_a_numeric_column_is_marked_even_with_the_same_text():
    # bs4 Tags with the same markup are equal: de-duplicating the column's cells by equality
    # left the second "0,02" without class num (right-aligned in HTML by its inline style only,
    # left-aligned by the Typst PDF, which reads the class)
    soup = BeautifulSoup(
        "<table><thead><tr><th>Skala</th><th>SMD</th></tr></thead><tbody>"
        "<tr><th>A</th><td>0,02</td></tr><tr><th>B</th><td>0,02</td></tr>"
        "<tr><th>C</th><td>1,01</td></tr><tr><th>D</th><td>1,01</td></tr>"
        "<tr><th>E</th><td rowspan='2'>−0,30</td></tr><tr><th>F</th></tr></tbody></table>",
        "html.parser",
    )
    nbconvert_html._mark_numeric_cells(soup.table)
    assert [("num" in td.get("class", [])) for td in soup.select("td")] == [True] * 5
    assert "num" in soup.select("thead th")[1]["class"]


def test_figures_are_embedded_and_captioned(soup):
    image = soup.select_one("main .jp-RenderedImage img")
    assert image["src"].startswith("data:image/png;base64,")
    caption = soup.select_one("main .figure-caption")
    assert caption is not None
    assert caption.get_text(" ", strip=True) == "Figur 1. Score før og efter forløbet."
    assert image["alt"] == "Figur 1. Score før og efter forløbet."


def test_print_css_is_a4_and_keeps_figures_and_tables_whole(soup):
    css = soup.find("style").get_text()
    assert "size: A4" in css
    assert "@media print" in css
    assert "break-inside: avoid" in css


def test_english_report_frame(tmp_path, notebook_file, brand):
    out = render_html(notebook_file, tmp_path / "report.html", brand=brand, meta=_meta("en"))
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    items = [dd.get_text() for dd in soup.select("header dd")]
    assert items == ["Mødrehjælpen", "2025", "22 November 2026"]
    assert soup.select_one(".report-kind").get_text() == "Impact evaluation"
    assert soup.select_one("nav#report-toc h2").get_text() == "Contents"
    assert soup.select_one("footer").get_text(strip=True) == (
        f"Generated with evaltools {__version__} · 22 November 2026"
    )
    assert soup.html["lang"] == "en"


def test_one_exporter_renders_every_report_of_a_process_alike(
    tmp_path, notebook_file, brand, rendered, monkeypatch
):
    # the exporter (and its compiled template) is made once and kept; a report rendered after
    # another (English, another notebook) comes out as the first one did
    made = []

    class Counted(exporter_module.ReportExporter):
        def __init__(self, **kwargs):
            made.append(self)
            super().__init__(**kwargs)

    monkeypatch.setattr(exporter_module, "ReportExporter", Counted)
    monkeypatch.setattr(exporter_module, "_THREAD", threading.local())
    other = new_notebook(cells=[new_markdown_cell("# Andet\n\n## Afsnit\n\nTekst.")])
    nbformat.write(other, tmp_path / "other.ipynb")
    render_html(notebook_file, tmp_path / "en.html", brand=brand, meta=_meta("en"))
    render_html(tmp_path / "other.ipynb", tmp_path / "other.html", brand=brand, meta=_meta())
    again = render_html(notebook_file, tmp_path / "again.html", brand=brand, meta=_meta("da"))
    assert len(made) == 1
    assert again.read_text(encoding="utf-8") == rendered


def test_failed_render_keeps_the_previous_report(tmp_path, brand):
    out = tmp_path / "report.html"
    out.write_text("GOOD OLD REPORT", encoding="utf-8")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(RenderError, match=r"broken\.ipynb: not a readable notebook"):
        render_html(broken, out, brand=brand, meta=_meta())
    assert out.read_text(encoding="utf-8") == "GOOD OLD REPORT"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.ipynb", "report.html"]


def test_unwritable_output_raises_output_error(tmp_path, notebook_file, brand):
    target = tmp_path / "report.html"
    target.mkdir()  # a folder where the file should go
    with pytest.raises(OutputError, match=r"report\.html: could not write the report"):
        render_html(notebook_file, target, brand=brand, meta=_meta())
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


# ---------------------------------------------------------------------------
# Small pieces: dates, ids, numbers, metadata
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "language", "expected"),
    [
        (dt.date(2026, 11, 22), "da", "22. november 2026"),
        (dt.date(2026, 11, 22), "en", "22 November 2026"),
        (dt.date(2025, 5, 1), "da", "1. maj 2025"),
        (dt.date(2025, 3, 9), "en", "9 March 2025"),
    ],
)
def test_format_long_date(date, language, expected):
    assert format_long_date(date, language) == expected


def test_report_meta_checks_its_fields():
    with pytest.raises(ParamsError, match=r"`language` must be one of \{'da', 'en'\}, got 'de'"):
        ReportMeta("G", "I", "2025", REPORT_DATE, language="de")
    with pytest.raises(ParamsError, match=r"`date` must be a datetime\.date, got '2026-11-22'"):
        ReportMeta("G", "I", "2025", "2026-11-22")
    with pytest.raises(ParamsError, match="`grantee` must be a non-empty text"):
        ReportMeta(" ", "I", "2025", REPORT_DATE)
    assert ReportMeta("G", "I", "2025", REPORT_DATE).long_date == "22. november 2026"


def test_heading_id_makes_ascii_ids():
    assert heading_id("Resultater før og efter") == "resultater-foer-og-efter"
    assert heading_id("Årsrapport 2025: Æbler & pærer") == "aarsrapport-2025-aebler-paerer"
    assert heading_id("2025") == "section-2025"
    assert heading_id("???") == "section"


@pytest.mark.parametrize(
    "value",
    [
        "2,20",
        "1.234,5",
        "−0,28",
        "-0.45",
        "+3,70",
        "83 %",
        "83%",
        "< 0,001",
        "1 064",
        "[−0,45; −0,20]",
        "(1.2, 3.4)",
    ],
)
def test_numeric_cells(value):
    assert is_numeric_text(value)


@pytest.mark.parametrize("value", ["Angst (1-4)", "Fase 1", "", "ja", "2025-11-22", "n = 5"])
def test_non_numeric_cells(value):
    assert not is_numeric_text(value)


# ---------------------------------------------------------------------------
# render_report
# ---------------------------------------------------------------------------


def test_render_report_auto_without_quarto_uses_nbconvert(
    tmp_path, notebook_file, brand, monkeypatch
):
    monkeypatch.setattr(report_module, "find_quarto", lambda: None)
    outcome = render_report(
        notebook_file, tmp_path / "out", brand=brand, meta=_meta(), formats=("html",)
    )
    assert isinstance(outcome, RenderOutcome)
    assert outcome.renderer == "nbconvert"
    assert outcome.version == nbconvert.__version__
    assert outcome.files == [tmp_path / "out" / "report.html"]
    assert outcome.pdf_engine == ""
    assert "Ud af voldens skygge" in outcome.files[0].read_text(encoding="utf-8")


def test_render_report_checks_formats(tmp_path, notebook_file, brand):
    with pytest.raises(
        ParamsError, match=r"`formats` must be one of \{'html', 'pdf'\}, got 'docx'"
    ):
        render_report(notebook_file, tmp_path, brand=brand, meta=_meta(), formats=("docx",))
    with pytest.raises(ParamsError, match="`formats` is empty"):
        render_report(notebook_file, tmp_path, brand=brand, meta=_meta(), formats=())
    assert list(tmp_path.iterdir()) == []


def test_render_report_checks_renderer(tmp_path, notebook_file, brand):
    with pytest.raises(
        ParamsError,
        match=r"`renderer` must be one of \{'auto', 'nbconvert', 'quarto', 'typst'\}, got 'word'",
    ):
        render_report(notebook_file, tmp_path, brand=brand, meta=_meta(), renderer="word")


def test_render_report_quarto_missing_is_a_render_error(
    tmp_path, notebook_file, brand, monkeypatch
):
    monkeypatch.setattr(report_module, "find_quarto", lambda: None)
    monkeypatch.setattr(quarto_module, "find_quarto", lambda: None)
    with pytest.raises(RenderError, match="Quarto CLI not found"):
        render_report(notebook_file, tmp_path, brand=brand, meta=_meta(), renderer="quarto")


# ---------------------------------------------------------------------------
# Quarto: finding it, and the command line our wrapper runs (no Quarto needed)
# ---------------------------------------------------------------------------


def _fake_executable(folder: Path, name: str = "quarto") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_find_quarto_prefers_quarto_path(tmp_path, monkeypatch):
    on_path = _fake_executable(tmp_path / "bin")
    chosen = _fake_executable(tmp_path / "opt", "quarto-custom")
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.setenv("QUARTO_PATH", str(chosen))
    assert find_quarto() == chosen
    monkeypatch.delenv("QUARTO_PATH")
    assert find_quarto() == on_path


def test_find_quarto_none_when_missing(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("QUARTO_PATH", str(tmp_path / "nowhere" / "quarto"))
    with pytest.warns(UserWarning, match="QUARTO_PATH=.* is not an executable file"):
        assert find_quarto() is None


class FakeQuarto:
    """Stands in for subprocess.run: records each command and writes what Quarto would."""

    def __init__(self, version: str = "1.6.40", fail_with: str | None = None) -> None:
        self.version = version
        self.fail_with = fail_with
        self.calls: list[tuple[list[str], Path | None]] = []
        self.workdir_files: list[str] = []
        self.front_matter: dict | None = None
        self.cell_sources: list[str] = []

    def __call__(self, argv, *, cwd=None, **kwargs):
        argv = list(argv)
        self.calls.append((argv, Path(cwd) if cwd else None))
        if argv[1:] == ["--version"]:
            return subprocess.CompletedProcess(argv, 0, stdout=f"{self.version}\n", stderr="")
        if self.fail_with:
            return subprocess.CompletedProcess(argv, 1, stdout="", stderr=self.fail_with)
        cwd = Path(cwd)
        self.workdir_files = sorted(p.name for p in cwd.iterdir())
        nb = nbformat.read(cwd / argv[2], as_version=4)
        first = nb.cells[0]
        assert first.cell_type == "raw"
        self.front_matter = YAML(typ="safe").load(first.source.strip().strip("-"))
        self.cell_sources = [c.source for c in nb.cells[1:]]
        out = cwd  # Quarto writes beside the input when no --output-dir is given
        for fmt in argv[argv.index("--to") + 1].split(","):  # Quarto splits --to at commas
            suffix = {"html": ".html", "typst": ".pdf"}[fmt]
            (out / f"{Path(argv[2]).stem}{suffix}").write_text(f"rendered {fmt}", encoding="utf-8")
        return subprocess.CompletedProcess(argv, 0, stdout="", stderr="")


def test_render_quarto_runs_the_documented_command_line(
    tmp_path, notebook_file, brand, monkeypatch
):
    quarto = _fake_executable(tmp_path / "bin")
    fake = FakeQuarto()
    monkeypatch.setattr(quarto_module.subprocess, "run", fake)
    out = tmp_path / "out"
    files = render_quarto(notebook_file, out, brand=brand, meta=_meta(), quarto=quarto)

    assert files == [out / "report.html", out / "report.pdf"]
    assert (out / "report.html").read_text() == "rendered html"
    assert (out / "report.pdf").read_text() == "rendered typst"
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.pdf"]
    argvs = [argv for argv, _ in fake.calls]
    assert argvs == [
        [str(quarto), "--version"],
        [
            str(quarto),
            "render",
            "report.ipynb",
            "--no-execute",
            "--to",
            "html,typst",  # both formats in one run: Quarto starts once
        ],
    ]
    workdir = fake.calls[1][1]
    assert workdir is not None
    assert not workdir.exists()  # the temporary working folder is cleaned up
    # _brand.yml and the logos sit beside the notebook, where Quarto looks for them
    assert {"_brand.yml", "logo.svg", "logo-mark.svg", "report.ipynb"} <= set(fake.workdir_files)
    assert "evaltools-quarto.css" in fake.workdir_files  # the Quarto template's stylesheet


def test_render_quarto_front_matter_and_cleaned_cells(tmp_path, notebook_file, brand, monkeypatch):
    fake = FakeQuarto()
    monkeypatch.setattr(quarto_module.subprocess, "run", fake)
    render_quarto(
        notebook_file,
        tmp_path,
        brand=brand,
        meta=_meta(),
        formats=("html",),
        quarto=_fake_executable(tmp_path / "bin"),
    )
    fm = fake.front_matter
    assert fm["title"] == "Ud af voldens skygge"
    assert fm["author"] == "Mødrehjælpen"
    assert fm["subtitle"] == "Periode: 2025"
    assert fm["date"] == "2026-11-22"
    assert fm["date-format"] == "long"
    assert fm["lang"] == "da"
    assert fm["toc"] is True and fm["toc-title"] == "Indhold"
    assert fm["execute"]["echo"] is False
    assert fm["format"]["html"]["embed-resources"] is True
    assert fm["format"]["typst"]["papersize"] == "a4"
    joined = "\n".join(fake.cell_sources)
    for marker in ("PARAM_SOURCE", "INJECTED_SOURCE", "REMOVED_CELL"):
        assert marker not in joined


def test_render_quarto_keeps_the_notebooks_own_front_matter(tmp_path, brand, monkeypatch):
    nb = build_notebook()
    nb.cells.insert(0, new_raw_cell("---\ntitle: Old title\nbibliography: refs.bib\n---"))
    path = tmp_path / "with_yaml.ipynb"
    nbformat.write(nb, path)
    fake = FakeQuarto()
    monkeypatch.setattr(quarto_module.subprocess, "run", fake)
    render_quarto(
        path,
        tmp_path / "out",
        brand=brand,
        meta=_meta(),
        formats=("html",),
        quarto=_fake_executable(tmp_path / "bin"),
    )
    assert fake.front_matter["bibliography"] == "refs.bib"
    assert fake.front_matter["title"] == "Ud af voldens skygge"
    assert not any(s.startswith("---") for s in fake.cell_sources)


def test_render_quarto_failure_carries_stderr(tmp_path, notebook_file, brand, monkeypatch):
    fake = FakeQuarto(fail_with="ERROR: Unknown format typst")
    monkeypatch.setattr(quarto_module.subprocess, "run", fake)
    out = tmp_path / "out"
    with pytest.raises(RenderError, match=r"exit code 1\):\nERROR: Unknown format typst"):
        render_quarto(
            notebook_file, out, brand=brand, meta=_meta(), quarto=_fake_executable(tmp_path / "bin")
        )
    assert not out.exists() or list(out.iterdir()) == []


def test_render_quarto_needs_version_1_6(tmp_path, notebook_file, brand, monkeypatch):
    monkeypatch.setattr(quarto_module.subprocess, "run", FakeQuarto(version="1.5.57"))
    with pytest.raises(
        RenderError, match=r"Quarto 1.5.57 .* too old: _brand.yml needs Quarto >= 1.6"
    ):
        render_quarto(
            notebook_file,
            tmp_path,
            brand=brand,
            meta=_meta(),
            quarto=_fake_executable(tmp_path / "bin"),
        )


def test_render_quarto_checks_formats(tmp_path, notebook_file, brand):
    with pytest.raises(
        ParamsError, match=r"`formats` must be one of \{'html', 'typst'\}, got 'docx'"
    ):
        render_quarto(notebook_file, tmp_path, brand=brand, formats=("docx",))


def test_render_report_auto_uses_quarto_when_installed(tmp_path, notebook_file, brand, monkeypatch):
    quarto = _fake_executable(tmp_path / "bin")
    monkeypatch.setattr(report_module, "find_quarto", lambda: quarto)
    monkeypatch.setattr(quarto_module.subprocess, "run", FakeQuarto())
    outcome = render_report(notebook_file, tmp_path / "out", brand=brand, meta=_meta())
    assert outcome == RenderOutcome(
        "quarto",
        "1.6.40",
        [tmp_path / "out" / "report.html", tmp_path / "out" / "report.pdf"],
        "quarto 1.6.40 typst",
    )


# ---------------------------------------------------------------------------
# Quarto itself (only where it is installed)
# ---------------------------------------------------------------------------


@pytest.mark.quarto
@pytest.mark.skipif(find_quarto() is None, reason=MISSING_QUARTO)
def test_real_quarto_renders_html_and_pdf(tmp_path, notebook_file, brand):
    files = render_quarto(notebook_file, tmp_path, brand=brand, meta=_meta())
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert files == [tmp_path / "report.html", tmp_path / "report.pdf"]
    assert "Ud af voldens skygge" in html
    assert "CODE_SOURCE_MARKER" not in html and "PARAM_SOURCE" not in html
    # embed-resources puts the stylesheets into data: URLs, percent-encoded
    assert brand.primary.lower() in unquote(html).lower()
    assert (tmp_path / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert os.path.getsize(tmp_path / "report.pdf") > 1000


def test_report_file_gets_the_usual_permissions(tmp_path, notebook_file, brand):
    old = os.umask(0o022)
    try:
        out = render_html(notebook_file, tmp_path / "report.html", brand=brand, meta=_meta())
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_several_h1_sections_make_the_toc_list_h1_and_h2(tmp_path, brand):
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# Før- og eftermålinger\n\n## Nøgleresultater\n\n### Detalje"),
        new_markdown_cell("# Registereffekt\n\n## Matchning\n\n## Effekt pr. år"),
    ]
    path = tmp_path / "two.ipynb"
    nbformat.write(nb, path)
    out = render_html(path, tmp_path / "report.html", brand=brand, meta=_meta())
    toc = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser").select_one("nav#report-toc")
    top = [li.a.get_text() for li in toc.select("nav > ol > li")]
    nested = [a.get_text() for a in toc.select("nav > ol > li > ol > li > a")]
    assert top == ["Før- og eftermålinger", "Registereffekt"]
    assert nested == ["Nøgleresultater", "Matchning", "Effekt pr. år"]


def test_notebook_without_headings_has_no_toc(tmp_path, brand):
    nb = new_notebook()
    nb.cells = [new_markdown_cell("Kun tekst.")]
    path = tmp_path / "plain.ipynb"
    nbformat.write(nb, path)
    out = render_html(path, tmp_path / "report.html", brand=brand, meta=_meta())
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    assert soup.find("nav") is None
    assert soup.select_one("main").get_text(strip=True) == "Kun tekst."


def test_wide_tables_are_marked(tmp_path, brand):
    wide = pd.DataFrame([[1.5] * 10], columns=[f"k{i}" for i in range(10)])
    nb = new_notebook()
    nb.cells = [
        new_code_cell(
            "wide",
            outputs=[new_output("display_data", data={"text/html": wide.to_html(index=False)})],
        )
    ]
    path = tmp_path / "wide.ipynb"
    nbformat.write(nb, path)
    out = render_html(path, tmp_path / "report.html", brand=brand, meta=_meta())
    table = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser").select_one("main table")
    assert "table--wide" in table["class"]
    assert all("num" in td["class"] for td in table.select("td"))


def test_outputs_cannot_load_from_the_network(tmp_path, brand):
    html = (
        '<script src="https://cdn.example.org/lib.js"></script>'
        '<link rel="stylesheet" href="//cdn.example.org/x.css">'
        '<style>@import url("https://fonts.example.org/f.css"); p.keep { color: red; }</style>'
        '<img src="http://example.org/pixel.gif">'
        '<p class="keep">Tabel <a href="https://example.org/kilde">kilde</a></p>'
    )
    nb = new_notebook()
    nb.cells = [new_code_cell("x", outputs=[new_output("display_data", data={"text/html": html})])]
    path = tmp_path / "remote.ipynb"
    nbformat.write(nb, path)
    out = render_html(path, tmp_path / "report.html", brand=brand, meta=_meta())
    main = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser").select_one("main")
    assert main.find("script") is None and main.find("link") is None and main.find("img") is None
    assert "@import" not in main.style.get_text() and "p.keep" in main.style.get_text()
    assert main.select_one("p.keep a")["href"] == "https://example.org/kilde"


# ---------------------------------------------------------------------------
# What the print layout (report.pdf) relies on
# ---------------------------------------------------------------------------


def test_markdown_that_introduces_a_table_keeps_with_it(soup):
    cells = soup.select("main.report-body > .jp-Cell")
    marked = [c.get_text(" ", strip=True)[:30] for c in cells if "keep-with-next" in c["class"]]
    # "### Psykiske senfølger" comes right before the table; the headings before it do not
    assert marked == ["Psykiske senfølger"]
    css = soup.find("style").get_text()
    assert ".keep-with-next { break-after: avoid;" in css


def test_a_tables_note_stays_with_the_table_not_with_the_figure_after_it(tmp_path, brand):
    # a table, its note, then a figure in one cell (the steering and board reports): the note
    # was marked keep-with-next and printed on the figure's page, away from its table (page
    # review of the demo PDFs); a heading in the same place still introduces the figure
    png = _png()
    outputs = [
        new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>"}),
        new_output("display_data", data={"text/markdown": "– i kolonnen Antal (n): skjult."}),
        new_output("display_data", data={"image/png": png}),
        new_output("display_data", data={"text/html": "<table><tr><td>2</td></tr></table>"}),
        new_output("display_data", data={"text/markdown": "### Næste figur"}),
        new_output("display_data", data={"image/png": png}),
    ]
    nb = new_notebook()
    nb.cells = [new_code_cell("x", outputs=outputs)]
    path = tmp_path / "note.ipynb"
    nbformat.write(nb, path)
    out = render_html(path, tmp_path / "report.html", brand=brand, meta=_meta())
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    children = soup.select("main .jp-OutputArea > .jp-OutputArea-child")
    classes = [set(c["class"]) & {"table-note", "keep-with-next"} for c in children]
    assert classes == [set(), {"table-note"}, set(), set(), {"keep-with-next"}, set()]
    css = soup.find("style").get_text()
    assert ".table-note { break-before: avoid;" in css


def test_head_carries_document_metadata(soup):
    def meta(name):
        return soup.find("meta", attrs={"name": name})["content"]

    assert meta("author") == "Mødrehjælpen"
    assert meta("description") == "Effektevaluering: Ud af voldens skygge (Mødrehjælpen, 2025)"
    assert meta("dcterms.created") == "2026-11-22"


def test_running_logo_for_page_headers_is_hidden_on_screen(soup, brand):
    running = soup.select_one(".report-page > .report-running-logo img")
    assert running is not None and running["src"].startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(running["src"].split(",", 1)[1]) == brand.logo_small.read_bytes()
    assert ".report-running-logo { display: none; }" in soup.find("style").get_text()
