"""``report.pdf`` from the branded report HTML, with WeasyPrint (no TeX, no browser).

The PDF is the same document as ``report.html`` (same stylesheet, fonts, logo and figures)
laid out on A4 pages by `WeasyPrint <https://doc.courtbouillon.org/weasyprint/>`_, with the
PDF stylesheet ``evaltools/templates/pdf.css`` added:

- A4 pages with a running header (the brand's small logo, the intervention and grantee) and
  footer (the report's kind and period, and "Side 3 af 12" / "Page 3 of 12" from the text
  catalogue, with CSS page counters); none of it on the first page but the page number;
- the first page holds the title block with the logo and the contents, whose entries get
  their page numbers (``target-counter``); each analysis (``h1``) starts on a new page;
- figures, tables, table rows and headings are never split across pages where avoidable,
  headings stay with what follows;
- a table wider than the page is scaled down to fit (its type size is reduced; see
  :func:`fit_wide_tables`), and one that would need type smaller than
  :data:`MIN_PORTRAIT_FONT_PT` gets a landscape A4 page of its own;
- no code: the HTML holds none (see :mod:`evaltools.render.prepare`);
- nothing is fetched: only ``data:`` URLs are allowed (everything is embedded in the HTML).

Quarto renders its own PDF through Typst (:mod:`evaltools.render.quarto`); this module is
the PDF path of the nbconvert renderer.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from evaltools.atomic import write_report_file
from evaltools.errors import RenderError
from evaltools.render.meta import ReportMeta
from evaltools.render.nbconvert_html import read_report_html
from evaltools.render.pdf_images import image_cache, images_apart, pass_png_through
from evaltools.render.pdf_parse import keep_tokenizer_patterns
from evaltools.render.pdf_probe import table_sizes
from evaltools.render.pdf_styles import (
    STYLE_ELEMENT,
    page_rules,
    pdf_css,
    split_font_faces,
    split_styles,
    without_repeated_styles,
)
from evaltools.render.pdf_text import keep_text_layouts, remember_text_widths, share_pango_setup

A4_WIDTH_MM = 210.0
A4_HEIGHT_MM = 297.0
SIDE_MARGIN_MM = 18.0  # as in pdf.css: @page { margin: ... 18mm }
MIN_PORTRAIT_FONT_PT = 6.0  # a table that needs smaller type goes on a landscape page
MIN_TABLE_FONT_PT = 5.5  # a table is not scaled below this type size
PAGE_TEXT_MM = A4_HEIGHT_MM - 22.0 - 20.0  # as in pdf.css: the text height of a portrait page
PAGE_TEXT_PX = PAGE_TEXT_MM * 96 / 25.4
PROBE_PAGE_HEIGHT_MM = 20000.0  # the probe's pages: each table laid out once, never moved on
HOLE_FILL = 0.6  # a page less full than this before a table that moved on whole is a hole
PX_PER_MM = 96 / 25.4
PT_PER_PX = 0.75
TABLE_ATTR = "data-pdf-table"
_TABLE_TAG = re.compile(r"<table(?=[\s>])", re.IGNORECASE)
_TABLE_ELEMENT = re.compile(r"<table\s[^>]*?data-pdf-table=.*?</table>", re.IGNORECASE | re.DOTALL)
_CELL_START = '<div class="jp-Cell '


@dataclass(frozen=True)
class TableFit:
    """How a table too wide for the page is set: its type size, and whether on a landscape page.

    Attributes
    ----------
    font_pt
        The table's type size in points.
    landscape
        Whether the table gets a landscape A4 page of its own.
    breakable
        Whether the table may break across pages (between rows, the header repeated): set for
        a table that, kept whole, would leave a half-empty page before it
        (:func:`tables_after_holes`).
    """

    font_pt: float
    landscape: bool = False
    breakable: bool = False


@cache
def _weasyprint() -> Any:
    """The ``weasyprint`` module, with the submodules used here loaded.

    Raises
    ------
    RenderError
        If WeasyPrint (or the Pango library it needs) cannot be loaded.
    """
    # Imported here, not at the top: importing WeasyPrint loads the Pango system library, which
    # may be missing; the HTML report must not need it, only report.pdf does.
    try:
        import pydyf  # WeasyPrint's PDF writer
        import tinyhtml5.inputstream  # WeasyPrint's HTML parser
        import weasyprint  # with its document, css, layout and text submodules
        import weasyprint.formatting_structure.boxes
        import weasyprint.images
        import weasyprint.layout.preferred
        import weasyprint.text.fonts
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise RenderError(
            f"WeasyPrint is needed for report.pdf and could not be loaded: {exc}"
        ) from exc
    pass_png_through(weasyprint.images, pydyf)
    keep_tokenizer_patterns(tinyhtml5.inputstream)
    keep_text_layouts(weasyprint.text.line_break, weasyprint.text.ffi.pango)
    share_pango_setup(weasyprint.text.line_break)
    remember_text_widths(weasyprint.layout.preferred)
    return weasyprint


def weasyprint_version() -> str:
    """The installed WeasyPrint's version.

    Raises
    ------
    RenderError
        If WeasyPrint (or the Pango library it needs) cannot be loaded.
    """
    return str(_weasyprint().__version__)


def pdf_html(html: str, meta: ReportMeta, *, fits: dict[str, TableFit] | None = None) -> str:
    """The report HTML as WeasyPrint lays it out: PDF rules added, tables numbered.

    `fits` maps a table's number (its order in the document, from 0) to how it is set to fit
    the page (:func:`fit_wide_tables`). Plain text edits, no re-parsing: the HTML is the
    finished output of :func:`~evaltools.render.render_html`.
    """
    if "</head>" not in html:
        raise RenderError("the report HTML has no </head>; cannot add the PDF stylesheet")
    fitted = []
    for key, fit in sorted((fits or {}).items()):
        table = f'table[{TABLE_ATTR}="{key}"]'
        page = " page: landscape;" if fit.landscape else ""
        page += " break-inside: auto;" if fit.breakable else ""
        fitted.append(f".report-body {table} {{ font-size: {fit.font_pt:.2f}pt;{page} }}")
        if fit.breakable:  # and the output holding it (report.css keeps outputs whole)
            fitted.append(f".jp-OutputArea-child:has({table}) {{ break-inside: auto; }}")
            fitted.append(f".report-body {table} tfoot {{ display: table-row-group; }}")  # once
        if fit.landscape:  # the cell's other outputs (its heading) go with it, never left behind
            fitted.append(f".jp-OutputArea:has({table}) {{ page: landscape; }}")
    style = f"<style>\n{page_rules(meta)}</style>\n<style>\n{pdf_css()}</style>\n"
    if fitted:  # apart: the page rules and the PDF stylesheet are parsed once (split_styles)
        style += f"<style>\n{chr(10).join(fitted)}\n</style>\n"
    html = html.replace("</head>", style + "</head>", 1)
    html = without_repeated_styles(html)
    numbers = itertools.count()
    html = _TABLE_TAG.sub(lambda _m: f'<table {TABLE_ATTR}="{next(numbers)}"', html)
    turned = [key for key, fit in (fits or {}).items() if fit.landscape]
    return _introductions_turned(html, turned)


def _introductions_turned(html: str, keys: list[str]) -> str:
    """`html` with the cell introducing each landscape table (`keys`) on the same page.

    The heading and text just before such a table (a ``keep-with-next`` cell) would else end
    the portrait page before it, alone; they get ``data-pdf-page="landscape"`` (pdf.css).
    """
    for key in keys:
        at = html.find(f'<table {TABLE_ATTR}="{key}"')
        cell = html.rfind(_CELL_START, 0, at)
        before = html.rfind(_CELL_START, 0, cell)
        if at < 0 or cell < 0 or before < 0:
            continue
        tag_end = html.index(">", before)
        if "keep-with-next" in html[before:tag_end]:
            html = f'{html[:tag_end]} data-pdf-page="landscape"{html[tag_end:]}'
    return html


def _walk(box: Any):
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _walk(child)


def _text_lines(box: Any):
    """The line boxes of `box` in document order, page header and footer left out."""
    boxes = _weasyprint().formatting_structure.boxes
    if isinstance(box, boxes.MarginBox):
        return
    if isinstance(box, boxes.LineBox):
        yield box
        return
    for child in getattr(box, "children", None) or []:
        yield from _text_lines(child)


def _numbered_tables(document: Any) -> Iterator[tuple[int, str, Any]]:
    """(page index, table number, table box) for each numbered table box of a laid-out document."""
    table_box = _weasyprint().formatting_structure.boxes.TableBox
    for number, page in enumerate(document.pages):
        for box in _walk(page._page_box):
            element = getattr(box, "element", None)
            key = element.get(TABLE_ATTR) if element is not None else None
            if key is not None and isinstance(box, table_box):
                yield number, key, box


def table_widths(document: Any) -> dict[str, tuple[float, float]]:
    """For each numbered table of a laid-out WeasyPrint document: (width, font size), in px.

    The width is the table's border-box width, the widest over the pages it spans.
    """
    widths: dict[str, tuple[float, float]] = {}
    for _number, key, box in _numbered_tables(document):
        width = float(box.border_width())
        size = float(box.style["font_size"])
        if width > widths.get(key, (0.0, 0.0))[0]:
            widths[key] = (width, size)
    return widths


def table_heights(document: Any) -> dict[str, float]:
    """For each numbered table of a laid-out WeasyPrint document: its height with its caption
    (the margin height of the box wrapping both), in px, summed over the pages it spans."""
    heights: dict[str, float] = {}
    for page in document.pages:
        for box in _walk(page._page_box):
            if not getattr(box, "is_table_wrapper", False):
                continue
            table = box.get_wrapped_table()
            key = table.element.get(TABLE_ATTR) if table is not None else None
            if key is not None:
                heights[key] = heights.get(key, 0.0) + float(box.margin_height())
    return heights


def _page_fill(page: Any) -> float:
    """How far down its text area a laid-out page is filled, 0..1 (header and footer aside)."""
    box = page._page_box
    top, height = float(box.content_box_y()), float(box.height)
    bottom = top
    for line in _text_lines(box):
        bottom = max(bottom, float(line.position_y) + float(line.margin_height()))
    for child in _walk(box):
        if type(child).__name__ in ("InlineReplacedBox", "BlockReplacedBox"):
            bottom = max(bottom, float(child.position_y) + float(child.margin_height()))
    return (bottom - top) / height if height > 0 else 1.0


def tables_after_holes(document: Any) -> dict[str, float]:
    """Tables that start a page after a page filled less than :data:`HOLE_FILL`.

    Kept whole, such a table moved to the next page and left a hole; allowed to break between
    rows it starts under its introduction. Returns each one's type size in pt (for
    :class:`TableFit`). Tables on landscape pages are left alone (their page is their own), and
    so is a table wholly on a page that begins with a forced break (a new section): it did not
    move, the page before ended where it had to, and breaking it would change nothing.
    """
    pages_of = _table_pages(document)
    sizes: dict[str, float] = {}
    for _number, key, box in _numbered_tables(document):
        sizes.setdefault(key, float(box.style["font_size"]) * PT_PER_PX)
    found: dict[str, float] = {}
    for key, numbers in pages_of.items():
        if not numbers[0]:
            continue
        before, page = document.pages[numbers[0] - 1], document.pages[numbers[0]]
        if page.width > page.height or before.width > before.height:
            continue
        if _page_fill(before) >= HOLE_FILL:
            continue
        if len(numbers) == 1 and starts_after_forced_break(before, page):
            continue
        found[key] = sizes[key]
    return found


def landscape_runs_on(document: Any, fits: dict[str, TableFit]) -> dict[str, float]:
    """Landscape tables of laid-out `document` on more than one page: taller than a page, kept
    whole they left their introduction (even their caption) alone on a page. Type sizes in pt."""
    pages = _table_pages(document)
    return {k: f.font_pt for k, f in fits.items() if f.landscape and len(pages.get(k, ())) > 1}


def _table_pages(document: Any) -> dict[str, list[int]]:
    """The indexes of the pages each numbered table of a laid-out document is on."""
    pages_of: dict[str, list[int]] = {}
    for number, key, _box in _numbered_tables(document):
        numbers = pages_of.setdefault(key, [])
        if number not in numbers:
            numbers.append(number)
    return pages_of


_FORCED_BREAKS = frozenset({"page", "left", "right", "recto", "verso"})


def _elements(page: Any) -> set[int]:
    """The ids of the elements with a box on laid-out `page`."""
    return {id(element) for box in _walk(page._page_box) if (element := box.element) is not None}


def _edge_boxes(page: Any, side: str) -> Iterator[Any]:
    """The in-flow block boxes down the first (`side` "before") or last ("after") children
    of a laid-out page, as WeasyPrint collects the ``break-before``/``break-after`` values
    that meet at a page break."""
    boxes = _weasyprint().formatting_structure.boxes
    kinds = (boxes.BlockLevelBox, boxes.TableRowGroupBox, boxes.TableRowBox)
    box = page._page_box.children[0] if page._page_box.children else None
    while isinstance(box, kinds) and (box.is_in_normal_flow() or box.is_floated()):
        yield box
        box = (box.children[-1 if side == "after" else 0]) if box.children else None


def starts_after_forced_break(before: Any, page: Any) -> bool:
    """Whether laid-out `page` begins with a forced break after page `before`.

    Forced: another named page (a landscape table's), or a ``break-after``/``break-before``
    value that forces one (``page``, as every section's ``h1`` has) on a box that ends on
    `before` or starts on `page`; not forced when what follows simply did not fit.
    """
    if before._page_box.page_type.name != page._page_box.page_type.name:
        return True
    on_before, on_page = _elements(before), _elements(page)
    ending = [
        box.style["break_after"]
        for box in _edge_boxes(before, "after")
        if box.element is not None and id(box.element) not in on_page
    ]
    starting = [
        box.style["break_before"]
        for box in _edge_boxes(page, "before")
        if box.element is not None and id(box.element) not in on_before
    ]
    return any(value in _FORCED_BREAKS for value in ending + starting)


def fit_wide_tables(html: str, images: dict[str, str] | None = None) -> dict[str, TableFit]:
    """How to set each table that is wider than the page's text width so that it fits.

    `html` is the output of :func:`pdf_html`. Only the tables are measured (a small document
    with the report's head, the outputs' style elements and the tables, each in the same
    containers as in the report), without a layout: their widths are what WeasyPrint's table
    layout gives them, and a bound of their heights rules out tables taller than a page
    (:mod:`~evaltools.render.pdf_probe`); only if it cannot, the probe is laid out, on pages
    :data:`PROBE_PAGE_HEIGHT_MM` tall (each table laid out once). Type sizes and paddings (in
    ``em``) scale together, so a table's width scales about in proportion; 3 % is kept in
    reserve. A table that would need type smaller than :data:`MIN_PORTRAIT_FONT_PT` on a
    portrait page goes on a landscape page, scaled there if it must be (never below
    :data:`MIN_TABLE_FONT_PT`). A table that fits but is taller than a page's text
    (:data:`PAGE_TEXT_MM`) is made breakable: it breaks anyway, and this way it starts under
    its introduction without a second layout of the report (:func:`tables_after_holes`).
    Empty when every table fits on a page. `images`: the figures' URLs the HTML holds apart
    (:func:`~evaltools.render.pdf_images.images_apart`).
    """
    tables = _TABLE_ELEMENT.findall(html)
    if not tables:
        return {}
    head_end = html.index("</head>") + len("</head>")
    styles = "".join(STYLE_ELEMENT.findall(html, head_end))  # outputs' own table styles
    cells = styles + "".join(
        '<div class="jp-Cell"><div class="jp-OutputArea"><div class="jp-OutputArea-child">'
        f'<div class="jp-OutputArea-output">{table}</div></div></div></div>'
        for table in tables
    )
    tall_page = f"<style>@page {{ size: {A4_WIDTH_MM}mm {PROBE_PAGE_HEIGHT_MM}mm; }}</style>"
    probe = (
        f"{html[: head_end - len('</head>')]}{tall_page}</head>"
        f'<body class="evaltools-report"><div class="report-page">'
        f'<main class="report-body jp-Notebook">{cells}</main></div></body></html>'
    )
    portrait = (A4_WIDTH_MM - 2 * SIDE_MARGIN_MM) * PX_PER_MM
    landscape = (A4_HEIGHT_MM - 2 * SIDE_MARGIN_MM) * PX_PER_MM
    fits = {}
    tree = _box_tree(probe, images)
    sizes = {
        size.element.get(TABLE_ATTR): size
        for size in table_sizes(_weasyprint(), tree[1], tree[2], portrait, PAGE_TEXT_PX)
    }
    unsure = [  # the heights of the tables that fit across: only a bound
        size
        for size in sizes.values()
        if size.width <= portrait + 0.5 and (size.height is None or size.height > PAGE_TEXT_PX)
    ]
    if len(sizes) == len(tables) and not unsure:
        widths = {key: (size.width, size.font_size) for key, size in sizes.items()}
        runs_on: set[str] = set()  # every table is shorter than a page
    else:  # lay the probe out to measure (the preferred widths are kept)
        document = _laid_out(tree)
        widths = table_widths(document)
        runs_on = {key for key, height in table_heights(document).items() if height > PAGE_TEXT_PX}
    for key, (width, size_px) in widths.items():
        size_pt = size_px * PT_PER_PX
        if width <= portrait + 0.5:
            if key in runs_on:  # taller than a page: it breaks anyway, so it may from the start
                fits[key] = TableFit(size_pt, breakable=True)
            continue
        upright = size_pt * 0.97 * portrait / width
        if upright >= MIN_PORTRAIT_FONT_PT:
            fits[key] = TableFit(upright)
        else:
            turned = min(size_pt, size_pt * 0.97 * landscape / width)
            fits[key] = TableFit(max(MIN_TABLE_FONT_PT, turned), landscape=True)
    return fits


@lru_cache(maxsize=8)
def _font_stylesheet(font_css: str) -> tuple[Any, Any]:
    """The parsed ``@font-face`` rules and the font configuration they were loaded into."""
    weasyprint = _weasyprint()
    config = weasyprint.text.fonts.FontConfiguration()
    sheet = weasyprint.CSS(string=font_css, url_fetcher=_fetcher(), font_config=config)
    return sheet, config


def _fetcher() -> Any:
    return _weasyprint().URLFetcher(allowed_protocols={"data"})


def _box_tree(html: str, images: dict[str, str] | None = None) -> tuple[Any, Any, Any]:
    """WeasyPrint's document, box tree and layout context of `html`, not laid out (as in
    ``HTML.render``); `images` as for :func:`fit_wide_tables`."""
    weasyprint = _weasyprint()
    html, sheets, config = _prepared(html)
    html, cache = image_cache(weasyprint, _fetcher(), html, images or {})
    options = {**weasyprint.DEFAULT_OPTIONS, "stylesheets": sheets, "cache": cache}
    config = config or weasyprint.text.fonts.FontConfiguration()
    document = weasyprint.HTML(string=html, url_fetcher=_fetcher(), media_type="print")
    counters = weasyprint.css.counters.CounterStyle()
    context = weasyprint.document.Document._build_layout_context(
        document, config, counters, {}, options
    )
    root = weasyprint.formatting_structure.build.build_formatting_structure(
        document.etree_element, context.style_for, context.get_image_from_uri,
        document.base_url, context.target_collector, counters, context.footnotes,
    )  # fmt: skip
    return document, root, context


def _laid_out(tree: tuple[Any, Any, Any]) -> Any:
    """The WeasyPrint document of a box tree from :func:`_box_tree`, laid out."""
    weasyprint = _weasyprint()
    html, root, context = tree
    pages = weasyprint.layout.layout_document(html, root, context)
    return weasyprint.document.Document(
        [weasyprint.document.Page(box) for box in pages],
        weasyprint.document.DocumentMetadata(), html.url_fetcher, context.font_config, {}, None,
    )  # fmt: skip


@lru_cache(maxsize=64)
def _stylesheet(css: str) -> Any:
    """A style sheet of the report, parsed (the brand's, the PDF's, the page rules...)."""
    return _weasyprint().CSS(string=css, url_fetcher=_fetcher(), media_type="print")


def _prepared(html: str) -> tuple[str, list[Any], Any]:
    """`html` without its style sheets; those, parsed once per process (the ``@font-face``
    rules first, then :func:`~evaltools.render.pdf_styles.split_styles`); and the font
    configuration of the ``@font-face`` rules (None if there are none)."""
    html, font_css = split_font_faces(html)
    sheets, config = [], None
    if font_css:
        sheet, config = _font_stylesheet(font_css)
        sheets.append(sheet)
    html, texts = split_styles(html)
    return html, sheets + [_stylesheet(css) for css in texts], config


def _layout(html: str, images: dict[str, str] | None = None) -> Any:
    html, sheets, config = _prepared(html)
    html, cache = image_cache(_weasyprint(), _fetcher(), html, images or {})
    document = _weasyprint().HTML(string=html, url_fetcher=_fetcher(), media_type="print")
    return document.render(stylesheets=sheets, font_config=config, cache=cache)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection in the block (as before it, after).

    A layout allocates hundreds of thousands of small objects, which sets off collections
    that scan everything alive; each would find next to nothing: what the layout leaves is
    freed when the document goes, and the rest at the next collection after the block.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def render_pdf(html: str | Path, output: Path, *, meta: ReportMeta) -> Path:
    """Lay out the branded report HTML on A4 pages and write it to `output` (a PDF).

    Parameters
    ----------
    html
        The finished report HTML (as :func:`~evaltools.render.render_html` writes it), or the
        path of such a file.
    output
        The PDF file to write; written atomically (a temporary file beside it, then renamed).
    meta
        The report's title block facts; they give the page header and footer their texts.

    Returns
    -------
    Path
        `output`.

    Raises
    ------
    RenderError
        If the HTML cannot be read, or WeasyPrint is missing or fails.
    OutputError
        If `output` cannot be written.
    """
    output = Path(output)
    source, images = images_apart(read_report_html(html))
    weasyprint_version()  # a clear RenderError when WeasyPrint cannot be loaded
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)  # unsupported screen-only CSS is expected; not news
    try:
        with gc_paused():
            fits = fit_wide_tables(pdf_html(source, meta), images)
            document = _layout(pdf_html(source, meta, fits=fits), images)
            holes = tables_after_holes(document) | landscape_runs_on(document, fits)
            holes = {
                key: pt for key, pt in holes.items() if key not in fits or not fits[key].breakable
            }
            if holes:  # lay out again, those tables breakable (a second pass only when needed)
                for key, size_pt in holes.items():
                    fits[key] = replace(fits.get(key, TableFit(size_pt)), breakable=True)
                document = _layout(pdf_html(source, meta, fits=fits), images)
            data = document.write_pdf()
    except RenderError:
        raise
    except Exception as exc:
        raise RenderError(f"WeasyPrint could not make the PDF: {exc}") from exc
    finally:
        logger.setLevel(level)
    write_report_file(output, data)
    return output
