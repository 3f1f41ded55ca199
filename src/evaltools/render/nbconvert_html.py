"""Branded single-file HTML reports from executed notebooks, with nbconvert.

The notebook is cleaned (:func:`~evaltools.render.prepare.prepare_notebook`), exported with
the ``evaltools`` nbconvert template (``evaltools/templates/nbconvert/evaltools``: no code, no
prompts, no scripts, brand stylesheet inlined, logo and figures embedded as data URIs), and
finished here: headings get stable ids, the table of contents is filled from the h2/h3
headings, numeric table cells are marked for right alignment, captions after figures are
marked ``figure-caption``, and markdown that introduces a table or figure is marked
``keep-with-next`` (printed on the same page). The result is one self-contained file that
loads nothing from the network.
"""

from __future__ import annotations

import base64
import itertools
import mimetypes
import re
import unicodedata
from pathlib import Path
from typing import Any

import nbformat
from bs4 import BeautifulSoup, Tag

from evaltools import __version__
from evaltools.atomic import write_report_file
from evaltools.errors import RenderError
from evaltools.render.exporter import NO_ALT, report_exporter
from evaltools.render.exporter import TEMPLATE_NAME as TEMPLATE_NAME  # importable here too
from evaltools.render.exporter import templates_dir as templates_dir  # importable here too
from evaltools.render.meta import ReportMeta
from evaltools.render.prepare import prepare_notebook
from evaltools.report.brand import Brand
from evaltools.report.i18n import text

TOC_LEVELS = ("h2", "h3")  # h1/h2 when there are several h1 sections (toc_levels)
WIDE_TABLE_COLUMNS = 9  # from this many columns a table is set smaller and tighter
TOC_COLUMNS_FROM = 6  # more top-level entries than this: two columns
CAPTION_START = re.compile(r"^\s*(figur|figure|fig\.|kilde|source|note|anm\.)\b", re.IGNORECASE)

_MISSING = {"", "–", "—", "-", "nan", "NaN", "<NA>", "None", "NA", "n/a", "."}
_NUMBER = r"[+\-−–]?\s*\d[\d.,\u00a0\u202f\u2009 ]*(?:e[+\-]?\d+)?"
_NUMERIC = re.compile(
    rf"^(?:[<>≤≥]\s*)?{_NUMBER}\s*(?:%|‰|pp|pct\.?|kr\.?)?$"
    rf"|^[\[(]\s*{_NUMBER}\s*[;,–—-]\s*{_NUMBER}\s*[\])]$"
)


def data_uri(path: Path) -> str:
    """`path` as a ``data:`` URI (base64), for embedding images in one HTML file."""
    mime = "image/svg+xml" if path.suffix.lower() == ".svg" else mimetypes.guess_type(path.name)[0]
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{mime or 'application/octet-stream'};base64,{encoded}"


def _frame(brand: Brand, meta: ReportMeta) -> dict[str, Any]:
    """What the template's title block, table of contents and footer show."""
    lang = meta.language
    kind = meta.kind
    return {
        "lang": lang,
        "version": __version__,
        "css": brand.css(),
        "kind": kind,
        "title": meta.intervention,
        "subtitle": meta.subtitle or "",
        "page_title": f"{meta.intervention} – {meta.grantee} · {kind}",
        "author": meta.grantee,
        "description": f"{kind}: {meta.intervention} ({meta.grantee}, {meta.period})",
        "created": meta.date.isoformat(),
        "meta_items": [
            {
                "key": "grantee",
                "label": meta.grantee_label or text("report_grantee", lang),
                "value": meta.grantee,
            },
            {"key": "period", "label": text("report_period", lang), "value": meta.period},
            {"key": "date", "label": text("report_date", lang), "value": meta.long_date},
        ],
        "logo_uri": data_uri(brand.logo) if brand.logo else "",
        "logo_small_uri": data_uri(brand.logo_small) if brand.logo_small else "",
        "logo_alt": brand.logo_alt,
        "toc_title": text("report_contents", lang),
        "figure_alt": text("report_figure", lang),
        "footer": text("report_footer", lang, version=__version__, date=meta.long_date),
    }


def export_html(
    notebook: nbformat.NotebookNode, *, brand: Brand, meta: ReportMeta, path: Path
) -> str:
    """The finished report HTML for an (executed) notebook node; `path` is its folder."""
    exporter = report_exporter()
    res = {"evaltools": _frame(brand, meta), "metadata": {"path": str(path), "name": "report"}}
    try:
        body, _ = exporter.from_notebook_node(prepare_notebook(notebook), resources=res)
    except Exception as exc:
        raise RenderError(f"nbconvert could not render the notebook: {exc}") from exc
    return finish_html(body)


def read_report_html(html: str | Path) -> str:
    """The finished report HTML a PDF engine lays out: `html` itself, or the text of the file
    at that path.

    Raises
    ------
    RenderError
        If the file cannot be read as UTF-8 text, or `html` is neither a text nor a path.
    """
    try:
        source = Path(html).read_text(encoding="utf-8") if isinstance(html, Path) else html
    except (OSError, UnicodeDecodeError) as exc:
        raise RenderError(f"{html}: the report HTML could not be read ({exc})") from exc
    if not isinstance(source, str):
        raise RenderError(f"the report HTML must be a text, got {type(source).__name__}")
    return source


def render_html(notebook: Path, output: Path, *, brand: Brand, meta: ReportMeta) -> Path:
    """Render the executed `notebook` into the branded single-file report `output`.

    The file is written atomically (a temporary file beside it, then renamed), so a failed
    render never leaves a half-written report in place of a good one.

    Returns
    -------
    Path
        `output`.

    Raises
    ------
    RenderError
        If the notebook cannot be read or rendered.
    OutputError
        If `output` cannot be written.
    """
    notebook, output = Path(notebook), Path(output)
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:
        raise RenderError(f"{notebook}: not a readable notebook ({exc})") from exc
    html = export_html(nb, brand=brand, meta=meta, path=notebook.parent)
    write_report_file(output, html)
    return output


# ---------------------------------------------------------------------------
# Finishing the exported HTML
# ---------------------------------------------------------------------------


def finish_html(html: str) -> str:
    """Add heading ids, the table of contents, numeric table cells and figure captions."""
    soup = BeautifulSoup(html, "html.parser")
    for image in soup.find_all("img"):  # as nbconvert's exporter does (see ReportExporter)
        if not image.has_attr("alt"):
            image["alt"] = NO_ALT
    main = soup.select_one("main.report-body")
    if main is None:
        raise RenderError("the nbconvert template produced no <main class='report-body'>")
    headings = _number_headings(main)
    _fill_toc(soup, headings)
    for table in main.find_all("table"):
        _mark_numeric_cells(table)
    _mark_captions(main)
    _mark_keep_with_next(main)
    _strip_network_loads(main)
    sanitise(main)
    for elem in main.select("[tabindex]"):
        del elem["tabindex"]
    _add_csp(soup)
    return str(soup)


#: The report ships no script and needs no network: inline styles and data: images only.
CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-src 'none'; connect-src 'none'; img-src data:; "
    "font-src data:; style-src 'unsafe-inline'"
)

#: Elements a report body never needs; a grantee's text that became one is dropped whole.
_DROPPED = (
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "form",
    "meta",
    "link",
    "noscript",
    "template",
    "portal",
)
_URL_ATTRS = (
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "background",
    "poster",
    "srcset",
    "data",
    "ping",
    "lowsrc",
    "dynsrc",
)
_SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _safe_url(tag: str, attr: str, value: str) -> bool:
    url = re.sub(r"[\x00-\x20]", "", value).lower()
    if tag == "img" and attr == "src" and url.startswith("data:image/"):
        return True  # an image can't run script; the figures and logos are data: URIs
    if attr == "href" and url.startswith("#"):
        return True
    return attr in ("href",) and url.startswith(_SAFE_SCHEMES)


def sanitise(main: Tag) -> None:
    """Defence in depth behind escaping: drop active content from the report body.

    Removes scripts, frames, objects, forms, ``<meta>``/``<base>``/``<link>``, every ``on*``
    event attribute, and any URL attribute but an http(s)/mailto/``#`` link or a data: image
    (so ``javascript:`` links are dead), and ``url(...)``/``@import``/``expression`` in styles.
    """
    for name in _DROPPED:
        for elem in main.find_all(name):
            elem.decompose()
    for elem in main.find_all(True):
        for attr in list(elem.attrs):
            low = attr.lower()
            value = elem.attrs[attr]
            text = " ".join(value) if isinstance(value, list) else str(value)
            active = low.startswith("on") or low in ("srcdoc", "formtarget", "http-equiv")
            bad_url = low in _URL_ATTRS and not _safe_url(elem.name, low, text)
            bad_style = low == "style" and re.search(r"url\s*\(|expression|@import", text, re.I)
            if active or bad_url or bad_style:
                del elem.attrs[attr]
    for style in main.find_all("style"):
        css = style.string or ""
        if re.search(r"url\s*\(|@import|expression", css, re.I):
            style.string = re.sub(r"(url\s*\([^)]*\)|@import[^;]*;?|expression)", "", css)


def _add_csp(soup: BeautifulSoup) -> None:
    """Put the Content-Security-Policy first in ``<head>`` (before anything it governs)."""
    head = soup.find("head")
    if head is None or soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"}):
        return
    insert_policy(soup, head, CSP)


def insert_policy(soup: BeautifulSoup, head: Tag, policy: str) -> None:
    """A ``<meta http-equiv="Content-Security-Policy">`` with `policy` right after
    ``<meta charset>``, else first in `head`: before everything the policy governs."""
    meta = soup.new_tag("meta")
    meta["http-equiv"] = "Content-Security-Policy"
    meta["content"] = policy
    charset = head.find("meta", attrs={"charset": True})
    if charset is not None:
        charset.insert_after(meta)
    else:
        head.insert(0, meta)


def _is_remote(url: object) -> bool:
    return isinstance(url, str) and url.strip().lower().startswith(("http:", "https:", "//"))


def _strip_network_loads(main: Tag) -> None:
    """Drop what outputs would load from the network (scripts, stylesheets, frames, images).

    A report must open offline and must not call third parties when it is read; hyperlinks
    (``<a href>``) stay.
    """
    for tag, attr in (("script", "src"), ("link", "href"), ("iframe", "src"), ("img", "src")):
        for elem in main.find_all(tag):
            if _is_remote(elem.get(attr)):
                elem.decompose()
    for style in main.find_all("style"):
        css = style.string or ""
        if "@import" in css:
            style.string = re.sub(r"@import[^;]*;", "", css)


def heading_id(title: str) -> str:
    """An ASCII HTML id for a heading: never empty, never starting with a digit.

    Unlike :func:`evaltools.params.models.slugify` (a report's folder name, ``"report"``
    when nothing is left), an id starts with ``section-`` where it would start with a digit.

    ``"Resultater før og efter"`` -> ``"resultater-foer-og-efter"``.
    """
    title = title.translate(
        str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
    )
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug if slug and not slug[0].isdigit() else f"section-{slug}".rstrip("-")


def _number_headings(main: Tag) -> list[Tag]:
    """Give every markdown heading a unique id; return the headings in document order."""
    used = {str(t["id"]) for t in main.find_all(id=True)}
    headings = []
    for heading in main.select(".jp-RenderedMarkdown :is(h1, h2, h3, h4, h5, h6)"):
        if not heading.get("id"):
            base = heading_id(heading.get_text(" ", strip=True))
            slug, n = base, 2
            while slug in used:
                slug, n = f"{base}-{n}", n + 1
            heading["id"] = slug
            used.add(slug)
        headings.append(heading)
    return headings


def toc_levels(headings: list[Tag]) -> tuple[str, str]:
    """The two heading levels the table of contents lists.

    ``h2`` and ``h3``; but when the report has several ``h1`` sections (one per analysis),
    ``h1`` and ``h2``, so that each analysis appears in the contents.
    """
    return ("h1", "h2") if sum(h.name == "h1" for h in headings) >= 2 else TOC_LEVELS


def _fill_toc(soup: BeautifulSoup, headings: list[Tag]) -> None:
    nav = soup.find("nav", id="report-toc")
    if nav is None:
        return
    top_level, sub_level = toc_levels(headings)
    entries = [h for h in headings if h.name in (top_level, sub_level)]
    if not entries:
        nav.decompose()
        return
    top = soup.new_tag("ol")
    nav.append(top)
    if sum(h.name == top_level for h in entries) > TOC_COLUMNS_FROM:
        _add_class(nav, "report-toc--columns")
    current: Tag | None = None
    for heading in entries:
        item = soup.new_tag("li")
        link = soup.new_tag("a", href=f"#{heading['id']}")
        link.string = heading.get_text(" ", strip=True)
        item.append(link)
        if heading.name == top_level or current is None:
            top.append(item)
            current = item if heading.name == top_level else None
        else:
            sub = current.find("ol")
            if sub is None:
                sub = soup.new_tag("ol")
                current.append(sub)
            sub.append(item)


def is_numeric_text(value: str) -> bool:
    """Whether a table cell reads as a number (``1.234,5``, ``−0,28``, ``83 %``, ``[1; 2]``)."""
    return bool(_NUMERIC.match(value.strip()))


def _table_grid(rows: list[Tag]) -> dict[tuple[int, int], Tag]:
    """Cell at each (row, column) of `rows`, honouring rowspan and colspan."""
    grid: dict[tuple[int, int], Tag] = {}
    for r, row in enumerate(rows):
        c = 0
        for cell in row.find_all(["td", "th"], recursive=False):
            while (r, c) in grid:
                c += 1
            rowspan = cell_span(cell, "rowspan")
            colspan = cell_span(cell, "colspan")
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = cell
            c += colspan
    return grid


def cell_span(cell: Tag, attr: str) -> int:
    """A table cell's ``rowspan`` or ``colspan`` (`attr`): at least 1, 1 when not a number."""
    try:
        return max(1, int(str(cell.get(attr, 1))))
    except ValueError:
        return 1


def _mark_numeric_cells(table: Tag) -> None:
    """Add class ``num`` to the cells of columns whose body cells are all numbers.

    Tables with many columns also get the class ``table--wide`` (smaller type).
    """
    if table.has_attr("border"):
        del table["border"]
    head_rows = [r for r in table.find_all("tr") if r.find_parent("thead") is not None]
    body_rows = [r for r in table.find_all("tr") if r.find_parent("thead") is None]
    if table.find("table"):  # nested tables: leave alone
        return
    body = _table_grid(body_rows)
    head = _table_grid(head_rows)
    columns = {c for _, c in body}
    if len(columns | {c for _, c in head}) >= WIDE_TABLE_COLUMNS:
        _add_class(table, "table--wide")
    for col in sorted(columns):
        cells = [body[(r, col)] for r in range(len(body_rows)) if (r, col) in body]
        # each cell once (a cell spanning rows is in the grid once per row); by identity: two
        # cells with the same text are equal Tags, and both need the class
        once = {id(c): c for c in cells}.values()
        data = [c for c in once if c.name == "td" and cell_span(c, "colspan") == 1]
        values = [c.get_text(" ", strip=True) for c in data]
        filled = [v for v in values if v not in _MISSING]
        if not filled or not all(is_numeric_text(v) for v in filled):
            continue
        for cell in data:
            _add_class(cell, "num")
        for r in range(len(head_rows)):
            cell = head.get((r, col))
            if cell is not None and cell_span(cell, "colspan") == 1:
                _add_class(cell, "num")


def _add_class(tag: Tag, name: str) -> None:
    classes = tag.get("class") or []
    if isinstance(classes, str):
        classes = classes.split()
    if name not in classes:
        tag["class"] = [*classes, name]


def _has_figure(tag: Tag) -> bool:
    return tag.select_one(".jp-RenderedImage, .jp-RenderedSVG") is not None


def _set_caption(caption: Tag, figure_holder: Tag) -> None:
    _add_class(caption, "figure-caption")
    images = figure_holder.select(".jp-RenderedImage img")
    if images:
        images[-1]["alt"] = caption.get_text(" ", strip=True)


def _looks_like_caption(markdown: Tag) -> bool:
    """Whether `markdown` is one short paragraph starting like a caption or all in italics.

    Caption starts: "Figur 2.", "Figure", "Kilde:", "Source:", "Note".
    """
    blocks = [c for c in markdown.children if isinstance(c, Tag)]
    if len(blocks) != 1 or blocks[0].name != "p":
        return False
    words = blocks[0].get_text(" ", strip=True)
    if not words or len(words) > 400:
        return False
    inner = [c for c in blocks[0].children if not (isinstance(c, str) and not c.strip())]
    all_italic = len(inner) == 1 and isinstance(inner[0], Tag) and inner[0].name == "em"
    return all_italic or bool(CAPTION_START.match(words))


def _mark_captions(main: Tag) -> None:
    """Mark markdown that follows a figure as its caption (class ``figure-caption``).

    Within one cell, any markdown output right after an image output is its caption. A
    markdown cell right after a cell ending in a figure is a caption when it is one short
    paragraph starting like a caption or set in italics.
    """
    for area in main.select(".jp-OutputArea"):
        children = area.find_all(class_="jp-OutputArea-child", recursive=False)
        for before, after in itertools.pairwise(children):
            markdown = after.select_one(".jp-RenderedMarkdown")
            if markdown is not None and _has_figure(before):
                _set_caption(markdown, before)
    cells = main.find_all(class_="jp-Cell", recursive=False)
    for before, after in itertools.pairwise(cells):
        if "jp-MarkdownCell" not in (after.get("class") or []):
            continue
        outputs = before.find_all(class_="jp-OutputArea-child")
        if not outputs or not _has_figure(outputs[-1]):
            continue
        markdown = after.select_one(".jp-RenderedMarkdown")
        if markdown is not None and _looks_like_caption(markdown):
            _set_caption(markdown, outputs[-1])


_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


def _mark_keep_with_next(main: Tag) -> None:
    """Mark markdown that introduces a table or figure ``keep-with-next``.

    A markdown cell followed by a cell showing a table or figure, and a markdown output
    followed (in the same cell) by an output showing one, get the class; the print
    stylesheets then avoid a page break between a heading or an introduction and what it
    introduces. A markdown output right after a table, without a heading, is that table's
    note: it gets the class ``table-note`` instead (kept with its table, not with the figure
    after it).
    """
    shows = "table, .jp-RenderedImage, .jp-RenderedSVG"
    cells = main.find_all(class_="jp-Cell", recursive=False)
    for before, after in itertools.pairwise(cells):
        if "jp-MarkdownCell" in (before.get("class") or []) and after.select_one(shows):
            _add_class(before, "keep-with-next")
    for area in main.select(".jp-OutputArea"):
        children = area.find_all(class_="jp-OutputArea-child", recursive=False)
        around = zip([None, *children[:-1]], children, [*children[1:], None], strict=True)
        for previous, before, after in around:
            markdown = before.select_one(".jp-RenderedMarkdown")
            if markdown is None or _has_figure(before):
                continue
            if (
                previous is not None
                and previous.select_one("table") is not None
                and markdown.find(_HEADINGS) is None
            ):
                _add_class(before, "table-note")
            elif (
                after is not None
                and "figure-caption" not in (markdown.get("class") or [])
                and after.select_one(shows)
            ):
                _add_class(before, "keep-with-next")
