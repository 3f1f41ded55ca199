"""The two renderers side by side on one demo grantee, read as a reader gets them.

One demo grantee (Familiehuset Nord: Danish, theory of change, pre/post and register parts,
the Nordlys Fonden brand with its DejaVu Serif font files) is run once with ``evaltools run
--renderer nbconvert``; its executed notebooks are then rendered with Quarto as well
(``render_report(..., renderer="quarto")``, HTML and PDF through Typst). Both HTML files are
parsed and compared: the same section headings, the same cell texts in every table, the same
figures with the same captions. The Quarto HTML must carry the brand colour and load nothing
from the network; its PDF must embed the brand's font. Skipped where Quarto is not installed.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup, Tag
from demo_reports import run_report
from pypdf import PdfReader

from evaltools.params.loading import load_params
from evaltools.render import ReportMeta, find_quarto, render_report
from evaltools.render.report_notebook import build_report_notebook
from evaltools.report.brand import load_brand
from evaltools.report.summary import summary_markdown
from evaltools.results.io import read_document
from evaltools.run.notebook_files import CYCLE_NOTEBOOK

pytestmark = [
    pytest.mark.quarto,
    pytest.mark.skipif(
        find_quarto() is None,
        reason="Quarto CLI not installed (set QUARTO_PATH or put quarto on PATH)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params" / "demo" / "familiehuset_nord.yml"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The nbconvert report folder and the Quarto render of the same executed notebooks."""
    import nbformat

    base = tmp_path_factory.mktemp("side_by_side")
    nb_folder = run_report(PARAMS, base / "nbconvert")
    params = load_params(PARAMS)
    parts = [nb_folder / f"{name}.ipynb" for name in params.notebooks]  # as the pipeline
    if params.cycle is not None:
        parts.append(nb_folder / CYCLE_NOTEBOOK)
    if params.theory_of_change is not None:
        parts.insert(0, nb_folder / "theory_of_change.ipynb")
    source = base / "_report.ipynb"
    summary = summary_markdown(params, read_document(nb_folder / "results.json"))
    nbformat.write(build_report_notebook(parts, opening=summary), source)  # as the pipeline
    meta = ReportMeta.from_params(params)
    brand = load_brand(params.brand)
    quarto_folder = base / "quarto"
    outcome = render_report(source, quarto_folder, brand=brand, meta=meta, renderer="quarto")
    assert outcome.renderer == "quarto"
    assert [p.name for p in outcome.files] == ["report.html", "report.pdf"]
    return {"nbconvert": nb_folder, "quarto": quarto_folder}


def _soup(folder: Path) -> BeautifulSoup:
    return BeautifulSoup((folder / "report.html").read_text(encoding="utf-8"), "html.parser")


def _body(soup: BeautifulSoup) -> Tag:
    body = soup.select_one("main.report-body") or soup.select_one("main#quarto-document-content")
    assert body is not None
    return body


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


def _headings(soup: BeautifulSoup) -> list[str]:
    return [_text(h) for h in _body(soup).find_all(["h1", "h2", "h3"])]


def _table_cells(soup: BeautifulSoup) -> list[list[str]]:
    """Every table's header and body cell texts, table by table (captions left out)."""
    return [
        [_text(cell) for cell in table.select("thead th, tbody th, tbody td")]
        for table in _body(soup).find_all("table")
    ]


def _figure_captions(soup: BeautifulSoup) -> list[str]:
    """The figure captions, "Figur 1: ..." in document order."""
    texts = [_text(t) for t in _body(soup).find_all(["p", "figcaption", "em"])]
    captions = [t for t in texts if re.match(r"^Figur \d+:", t)]
    return list(dict.fromkeys(captions))


def _stylesheets(soup: BeautifulSoup) -> str:
    """All CSS of the page: <style> elements and embedded ``data:text/css`` stylesheets."""
    sheets = [s.get_text() for s in soup.find_all("style")]
    for link in soup.find_all("link", href=True):
        href = str(link["href"])
        head, _, data = href.partition(",")
        if head.startswith("data:text/css"):
            sheets.append(
                base64.b64decode(data).decode() if head.endswith(";base64") else unquote(data)
            )
    return "\n".join(sheets)


def _figure_images(soup: BeautifulSoup) -> list[Tag]:
    body = _body(soup)
    return [img for img in body.find_all("img") if not img.find_parent(class_="evaltools-brand")]


def test_same_sections(reports):
    nbconvert, quarto = _soup(reports["nbconvert"]), _soup(reports["quarto"])
    assert _headings(quarto) == _headings(nbconvert)
    assert len(_headings(quarto)) >= 10
    # the summary opens the report, then the theory of change; register follows pre/post
    joined = " | ".join(_headings(quarto))
    assert joined.index("Sammenfatning") < joined.index("Forandringsteori")
    assert joined.index("Forandringsteori") < joined.index("Før- og eftermålinger")
    assert joined.index("Før- og eftermålinger") < joined.index("Registeranalyse")


def test_same_numbers_in_tables(reports):
    nbconvert = _table_cells(_soup(reports["nbconvert"]))
    quarto = _table_cells(_soup(reports["quarto"]))
    assert len(quarto) == len(nbconvert) >= 8
    assert quarto == nbconvert
    numbers = [c for table in quarto for c in table if re.search(r"\d", c)]
    assert len(numbers) > 200
    assert any("," in c for c in numbers)  # Danish decimal comma


def test_same_figures_and_captions(reports):
    nbconvert, quarto = _soup(reports["nbconvert"]), _soup(reports["quarto"])
    assert len(_figure_images(quarto)) == len(_figure_images(nbconvert)) >= 6
    captions = _figure_captions(quarto)
    assert captions == _figure_captions(nbconvert)
    assert [c.split(":")[0] for c in captions] == [
        f"Figur {n}" for n in range(1, len(captions) + 1)
    ]


def test_quarto_html_is_branded_and_loads_nothing_from_the_network(reports):
    html = (reports["quarto"] / "report.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    brand = load_brand(load_params(PARAMS).brand)
    styles = _stylesheets(soup)
    assert f"--bs-primary: {brand.primary}".lower() in styles.lower()  # Bootstrap from the brand
    assert soup.select_one(".evaltools-brand img")["src"].startswith("data:image/svg+xml")
    title = soup.select_one("#title-block-header")
    assert title is not None and "Ud af voldens skygge" in _text(title)
    assert "Familiehuset Nord" in _text(title)
    remote = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        for element in soup.find_all(tag):
            assert not remote.match(str(element.get(attr, ""))), element
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", styles)
    assert not re.search(r"@import\s+(url\()?['\"]?(https?:)?//", styles)
    # the brand's font files, embedded
    assert re.search(r'@font-face\{font-family:"DejaVu Serif";src:url\(data:font/', styles)
    assert not soup.select("main pre code")  # no code shown


def test_quarto_pdf_pages_embed_the_brand_font(reports):
    reader = PdfReader(reports["quarto"] / "report.pdf")
    assert len(reader.pages) >= 8
    fonts: set[str] = set()
    for page in reader.pages:
        for font in (page.get("/Resources", {}).get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and any(
                    k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
                ):
                    fonts.add(str(font["/BaseFont"]).split("+")[-1])
    assert any(f.startswith("DejaVuSerif") for f in fonts), fonts
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Ud af voldens skygge" in text and "Familiehuset Nord" in text
    # the first table's numbers are on the pages too
    first_table = _table_cells(_soup(reports["quarto"]))[0]
    numbers = [c for c in first_table if re.fullmatch(r"\d+", c)]
    counts = Counter(re.findall(r"\d+", text))
    assert numbers and all(counts[n] for n in numbers)
