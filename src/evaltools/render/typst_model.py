"""The document model of a finished report HTML, for the Typst PDF engine.

:func:`report_model` reads the report HTML (as :func:`~evaltools.render.render_html` writes it)
into plain JSON data that the Typst template ``evaltools/templates/typst/report.typ`` lays out
(:mod:`evaltools.render.pdf_typst`): the frame (title block, running head and foot, contents
with the headings they point to, footer), the brand's colours and fonts from the ``--brand-*``
custom properties, and the body as blocks (headings, paragraphs and lists of text runs,
tables with their cells' spans, rules, numeric flags and status colours, figures with their
captions). Every text stays a string: the template sets it as text, never as markup.

Images: which are used and at what size is :mod:`evaltools.render.typst_images`'s to say.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag

from evaltools.errors import RenderError
from evaltools.render.meta import ReportMeta, page_of_pieces
from evaltools.render.nbconvert_html import cell_span
from evaltools.render.typst_images import ReportImages, figure_size
from evaltools.report.brand import normalise_hex
from evaltools.report.i18n import text

_SKIPPED = frozenset({"style", "script", "noscript", "template", "head", "title", "meta", "link"})
# fmt: off
_INLINE = frozenset((
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "i",
    "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time",
    "u", "var", "wbr",
))
# fmt: on
_HEX = re.compile(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}")
_CLASS_RULE = re.compile(r"(?<![\w-])\.([A-Za-z][\w-]*)\s*\{([^{}]*)\}")
# the white space that HTML collapses (CSS "document white space"): not the no-break spaces
# (U+00A0, U+202F: "n = 344", "95 %"), nor the thin or figure spaces, which Python's \s matches
_SPACE = re.compile(r"[ \t\n\r\f]+")
# a number or an interval ("−0,47 – 0,03", "0.24 to 0.61"): never broken across lines
_RANGE = re.compile(r"(\(?\d[\d.,]*[–-]\d[\d.,]*\)?)")
_UNBROKEN = re.compile(r"^[^\w]*\d[\d\W]{0,20}(?:(?<=\s)(?:to|til)\s[\d\W]{1,20})?$")


# ---------------------------------------------------------------------------
# The document model
# ---------------------------------------------------------------------------


def _class_styles(soup: BeautifulSoup) -> dict[str, dict[str, Any]]:
    """Colours and type size that the report's own CSS gives a class (``.toc-status--met``).

    Only simple rules ending in one class are read; a run inside an element of that class
    carries them (a status cell's background, a note's smaller type).
    """
    found: dict[str, dict[str, Any]] = {}
    for style in soup.find_all("style"):
        for name, body in _CLASS_RULE.findall(style.get_text()):
            entry = found.setdefault(name, {})
            for declaration in body.split(";"):
                prop, _, value = declaration.partition(":")
                prop, value = prop.strip().lower(), value.strip()
                colour = _HEX.fullmatch(value)
                if prop in ("background", "background-color") and colour:
                    entry["bg"] = normalise_hex(value)
                elif prop == "color" and colour:
                    entry["fg"] = normalise_hex(value)
                elif prop == "font-size" and value.endswith("em"):
                    with contextlib.suppress(ValueError):
                        entry["size"] = float(value[:-2])
                elif prop == "font-weight" and value in ("normal", "400", "bold", "600", "700"):
                    entry["b"] = value not in ("normal", "400")
                elif prop == "opacity":
                    entry["muted"] = True
                elif prop == "white-space" and value == "nowrap":
                    entry["nowrap"] = True
    return {name: entry for name, entry in found.items() if entry}


class _Reader:
    """Reads the report body into blocks of the document model."""

    def __init__(self, styles: dict[str, dict[str, Any]], images: ReportImages) -> None:
        self.styles = styles
        self.images = images
        self.labels: dict[str, str] = {}
        self.headings = 0

    # -- inline text ------------------------------------------------------------------

    def runs(self, node: Tag | NavigableString, style: dict[str, Any] | None = None) -> list:
        """The text runs of `node`: ``{"s": text}`` with ``b``/``i``/``c`` (code) flags and
        the colours of a styled class; ``{"br": true}`` for a line break."""
        style = dict(style or {})
        if isinstance(node, NavigableString):
            if type(node) is not NavigableString and node.__class__.__name__ != "CData":
                return []  # comments, doctype, processing instructions
            words = _SPACE.sub(" ", str(node))
            nowrap, wraps = style.pop("nowrap", False), style.pop("wraps", False)
            if nowrap and not wraps:  # a number or status label is never broken
                words = words.replace(" ", "\u00a0")
            return [{"s": words, **style}] if words else []
        if node.name in _SKIPPED:
            return []
        if node.name == "br":
            return [{"br": True}]
        if node.name in ("strong", "b"):
            style["b"] = True
        if node.name == "th":
            style.setdefault("b", True)
        if node.name in ("em", "i", "cite", "var", "dfn"):
            style["i"] = True
        if node.name in ("code", "kbd", "samp"):
            style["c"] = True
        for name in node.get("class") or []:
            style.update(self.styles.get(name, {}))
        found: list = []
        for child in node.children:
            if isinstance(child, Tag) and child.name in ("p", "div", "li") and found:
                found.append({"br": True})
            found.extend(self.runs(child, style))
        return found

    # -- blocks -----------------------------------------------------------------------

    def blocks(self, node: Tag) -> list[dict[str, Any]]:
        """The blocks of `node`'s children, in document order."""
        out: list[dict[str, Any]] = []
        pending: list = []

        def flush() -> None:
            paragraph = _trimmed(pending)
            if paragraph:
                out.append({"t": "p", "runs": paragraph})
            pending.clear()

        for child in node.children:
            if isinstance(child, NavigableString) or child.name in _INLINE:
                pending.extend(self.runs(child))
                continue
            flush()
            out.extend(self.block(child))
        flush()
        return out

    def block(self, node: Tag) -> list[dict[str, Any]]:
        """The blocks of one block-level element."""
        name = node.name
        classes = node.get("class") or []
        if name in _SKIPPED:
            return []
        if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            runs = _trimmed(self.runs(node))
            self.headings += 1
            label = f"h-{self.headings}"
            if node.get("id"):
                self.labels[str(node["id"])] = label
            return [{"t": "h", "level": min(int(name[1]), 4), "runs": runs, "label": label}]
        if name == "p" or name in ("dt", "dd", "figcaption", "summary", "address"):
            runs = _trimmed(self.runs(node))
            return [{"t": "p", "runs": runs}] if runs else []
        if name in ("ul", "ol"):
            items = [self.blocks(li) for li in node.find_all("li", recursive=False)]
            return [{"t": "list", "ordered": name == "ol", "items": items}] if items else []
        if name == "table":
            return [self.table(node)]
        if name == "img":
            return self.figure(node)
        if name == "pre":
            return [{"t": "pre", "s": node.get_text()}]
        if name == "hr":
            return [{"t": "hr"}]
        if name == "blockquote":
            return [{"t": "quote", "blocks": self.blocks(node)}]
        inner = self.blocks(node)
        if "figure-caption" in classes:
            for block in inner:
                block["cap"] = True
        if "keep-with-next" in classes and inner:
            inner[-1]["keep"] = True
        if "celltag_report-summary" in classes:
            for block in inner:
                block["summary"] = True
        return inner

    def figure(self, node: Tag) -> list[dict[str, Any]]:
        """A figure block for an embedded PNG or JPEG image; nothing for any other image."""
        found = self.images.add(node.get("src"))
        if found is None:
            return []
        name, width, height = found
        width_pt, height_pt = figure_size(node, width, height)
        return [{"t": "fig", "src": name, "w": width_pt, "h": height_pt, "caption": []}]

    def table(self, node: Tag) -> dict[str, Any]:
        """A table block: caption, header/body/foot rows of cells, the number of columns."""
        caption = node.find("caption", recursive=False)
        sections: dict[str, list[Tag]] = {"head": [], "body": [], "foot": []}
        for row in node.find_all("tr"):
            if row.find_parent("table") is not node:
                continue
            parent = row.parent.name if row.parent is not None else ""
            part = {"thead": "head", "tfoot": "foot"}.get(parent, "body")
            sections[part].append(row)
        if not sections["head"] and sections["body"]:  # a header row without <thead>
            first = sections["body"][0]
            cells = first.find_all(["td", "th"], recursive=False)
            if cells and all(c.name == "th" for c in cells):
                sections["head"].append(sections["body"].pop(0))
        model: dict[str, Any] = {
            "t": "table",
            "caption": _trimmed(self.runs(caption)) if caption is not None else [],
            "wide": "table--wide" in (node.get("class") or []),
        }
        # evaltools' own tables set their row headers in regular weight but the areas
        # (table.evaltools-table tbody th { font-weight: normal } / th.area { 600 }), keep
        # their data cells and scale names on one line (td, tbody th.scale { white-space:
        # nowrap }: what WeasyPrint sizes such a table from), and centre their column headers
        # (thead th { text-align: center }, th.rowhead left, th.num right: .report-body th.num
        # is the more specific rule)
        own = "evaltools-table" in (node.get("class") or [])
        columns = 1
        for part, rows in sections.items():
            model[part], width = self.rows(
                rows,
                part,
                plain_headers=own and part == "body",
                unbroken_cells=own and part == "body",
                centred_headers=own and part == "head",
            )
            columns = max(columns, width)
        model["cols"] = columns
        return model

    def rows(
        self,
        rows: list[Tag],
        part: str,
        *,
        plain_headers: bool = False,
        unbroken_cells: bool = False,
        centred_headers: bool = False,
    ) -> tuple[list[dict[str, Any]], int]:
        """The rows of one table section, and the number of columns they span; with
        `plain_headers`, row headers (``th``) but areas (``th.area``) are not bold; with
        `unbroken_cells`, data cells (``td``) and scale names (``th.scale``) are never broken; with
        `centred_headers`, headers (``th``) but numeric ones and row heads are centred. A column
        group's header (``thead th.spanner``) is always centred."""
        taken: set[tuple[int, int]] = set()
        width = 0
        out = []
        for r, row in enumerate(rows):
            row_classes = row.get("class") or []
            cells = []
            c = 0
            for cell in row.find_all(["td", "th"], recursive=False):
                while (r, c) in taken:
                    c += 1
                # at most 1000: a span is laid out cell by cell
                rowspan = min(cell_span(cell, "rowspan"), 1000)
                colspan = min(cell_span(cell, "colspan"), 1000)
                rowspan = min(rowspan, len(rows) - r)
                for dr in range(rowspan):
                    for dc in range(colspan):
                        taken.add((r + dr, c + dc))
                classes = cell.get("class") or []
                numeric = "num" in classes
                plain = plain_headers and "area" not in classes
                # column headers wrap even where a class says nowrap (thead th.num in pdf.css)
                style: dict[str, Any] = {"b": False} if plain else {}
                unbroken = unbroken_cells and (cell.name == "td" or "scale" in classes)
                if unbroken:
                    style["nowrap"] = True
                runs = _trimmed(
                    self.runs(cell, {**style, "wraps": True} if part == "head" else style)
                )
                entry: dict[str, Any] = {"runs": runs, "col": c}
                if cell.name == "th":
                    entry["th"] = True
                if numeric:
                    entry["num"] = True
                elif unbroken or _UNBROKEN.match(cell.get_text(" ", strip=True)):
                    entry["nb"] = True  # a number or interval without the class, or nowrap
                if colspan > 1:
                    entry["colspan"] = colspan
                if rowspan > 1:
                    entry["rowspan"] = rowspan
                if "group-start" in classes and c > 0:
                    entry["left"] = True
                if "spanner" in classes:
                    entry["spanner"] = True
                centred = centred_headers and not numeric and "rowhead" not in classes
                if part == "head" and cell.name == "th" and ("spanner" in classes or centred):
                    entry["center"] = True
                if r + rowspan == len(rows):
                    entry["last"] = True  # the section's last row: the rule under it
                for name in classes:
                    if "bg" in self.styles.get(name, {}):
                        entry["bg"] = self.styles[name]["bg"]
                cells.append(entry)
                c += colspan
            width = max(width, c, *(col + 1 for rr, col in taken if rr == r))
            rule = any(n in row_classes for n in ("group-start", "area-start", "toc-group-start"))
            out.append({"cells": cells, "rule": rule and r > 0 and part == "body"})
        return out, width

    # -- the frame ----------------------------------------------------------------------

    def contents(self, nav: Tag | None) -> list[dict[str, Any]]:
        """The contents' entries: text, the heading's label, and the entries under it."""
        if nav is None:
            return []
        top = nav.find("ol")
        return self._entries(top) if isinstance(top, Tag) else []

    def _entries(self, ol: Tag) -> list[dict[str, Any]]:
        entries = []
        for item in ol.find_all("li", recursive=False):
            link = item.find("a")
            if link is None:
                continue
            href = str(link.get("href") or "")
            sub = item.find("ol")
            entries.append(
                {
                    "runs": _trimmed(self.runs(link)),
                    "label": self.labels.get(href.removeprefix("#")),
                    "sub": self._entries(sub) if isinstance(sub, Tag) else [],
                }
            )
        return entries


def _trimmed(runs: list) -> list:
    """`runs` without leading/trailing spaces and line breaks, and without empty runs (a
    no-break space stays: only the collapsed white space, a plain space, is trimmed)."""
    runs = [dict(r) for r in runs]
    while runs and ("br" in runs[0] or not runs[0]["s"].strip(" ")):
        runs.pop(0)
    while runs and ("br" in runs[-1] or not runs[-1]["s"].strip(" ")):
        runs.pop()
    if not runs:
        return []
    runs[0]["s"] = runs[0]["s"].lstrip(" ")
    runs[-1]["s"] = runs[-1]["s"].rstrip(" ")
    merged: list = []
    for run in runs:
        if "br" in run:
            if merged and "s" in merged[-1]:
                merged[-1]["s"] = merged[-1]["s"].rstrip(" ")
            merged.append(run)
            continue
        if merged and "br" in merged[-1]:
            run["s"] = run["s"].lstrip(" ")
        if merged and "s" in merged[-1] and merged[-1].keys() == run.keys():
            same = all(merged[-1][k] == run[k] for k in run if k != "s")
            if same:
                joined = merged[-1]["s"] + run["s"]
                merged[-1]["s"] = joined.replace("  ", " ")
                continue
        if merged and "s" in merged[-1] and merged[-1]["s"].endswith(" "):
            run["s"] = run["s"].lstrip(" ")
        if run.get("s", "x"):
            merged.append(run)
    return [part for run in merged for part in _ranges_kept(run)]


def _ranges_kept(run: dict[str, Any]) -> list[dict[str, Any]]:
    """`run` with each range of numbers ("(1–4)", "0–10") a run of its own marked ``k``: never
    broken at its dash."""
    pieces = _RANGE.split(run.get("s", ""))
    if len(pieces) == 1:
        return [run]
    return [{**run, "s": p, **({"k": True} if n % 2 else {})} for n, p in enumerate(pieces) if p]


def _with_captions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The caption paragraphs right after a figure moved into that figure, and the headings
    and introductions right before a table into the table (``intro``: they go with it onto a
    landscape page; a section's heading too, else it is left alone on the page before)."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block["t"] == "table":
            intro: list[dict[str, Any]] = []
            # up to three blocks, and the heading right before them (else left alone on a page)
            while out and _introduces(out[-1]) and (len(intro) < 3 or out[-1]["t"] == "h"):
                intro.insert(0, out.pop())
            block["intro"] = intro
        previous = out[-1] if out else None
        if block.get("cap") and block["t"] != "p":
            del block["cap"]  # a caption set as a list or table: shown as it is
        if block.get("cap") and previous is not None and previous["t"] == "fig":
            previous["caption"].append(block)
            continue
        out.append(block)
    return out


def _introduces(block: dict[str, Any]) -> bool:
    return block["t"] == "h" or (block["t"] == "p" and "keep" in block)


def _brand(soup: BeautifulSoup) -> dict[str, Any]:
    """The brand's colours and font stacks from the ``--brand-*`` custom properties."""
    css = "\n".join(s.get_text() for s in soup.find_all("style") if "--brand-" in s.get_text())
    props = dict(re.findall(r"--brand-([\w-]+)\s*:\s*([^;}]+)", css))

    def colour(name: str, fallback: str) -> str:
        value = props.get(name, "").strip()
        return normalise_hex(value) if _HEX.fullmatch(value) else fallback

    def fonts(name: str, fallback: str) -> list[str]:
        families = [f.strip().strip("'\"") for f in props.get(name, "").split(",")]
        families = [f for f in families if f and f.lower() not in _GENERIC]
        return [*families, fallback]

    try:
        line_height = float(props.get("line-height", "1.5").strip())
    except ValueError:
        line_height = 1.5
    return {
        "primary": colour("primary", "#1F3A5F"),
        "accent": colour("accent", "#D9792B"),
        "foreground": colour("foreground", "#1E2833"),
        "light": colour("light", "#EEF2F6"),
        "heading": colour("heading-color", colour("primary", "#1F3A5F")),
        "base": fonts("font-base", "Liberation Sans"),
        "headings": fonts("font-headings", "Liberation Sans"),
        "mono": fonts("font-mono", "DejaVu Sans Mono"),
        "line_height": min(max(line_height, 1.1), 2.0),
    }


_GENERIC = {"serif", "sans-serif", "monospace", "system-ui", "cursive", "fantasy"}


def page_number(language: str) -> list[dict[str, str]]:
    """The page number as pieces: ``[{"s": "Side "}, {"n": "page"}, {"s": " af "}, ...]``
    (:func:`~evaltools.render.meta.page_of_pieces`, as the WeasyPrint footer has it)."""
    return [{"n": piece} if number else {"s": piece} for number, piece in page_of_pieces(language)]


def report_model(html: str, meta: ReportMeta) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The document model of the finished report `html`, and the image files it names.

    The model is plain JSON data: the frame (title block, running head and foot, contents,
    footer), the brand's colours and fonts, and the body as blocks (``h``, ``p``, ``list``,
    ``table``, ``fig``, ``pre``, ``quote``, ``hr``) whose texts are runs of plain strings.

    Raises
    ------
    RenderError
        If `html` is not a finished report (no ``<main class="report-body">``).
    """
    soup = BeautifulSoup(html, "html.parser")
    main = soup.select_one("main.report-body")
    if main is None or soup.body is None:
        raise RenderError("the report HTML has no <body> with <main class='report-body'>")
    images = ReportImages()
    reader = _Reader(_class_styles(soup), images)
    blocks = _with_captions(reader.blocks(main))
    lang = meta.language
    meta_items = [
        {"label": _text_of(item.find("dt")), "value": _text_of(item.find("dd"))}
        for item in soup.select("header.report-header dl.report-meta > div")
    ]
    footer = soup.select_one("footer.report-footer")
    footer_logo = footer.find("img") if footer is not None else None
    model = {
        "lang": lang,
        "kind": meta.kind,
        "title": _text_of(soup.select_one(".report-title")) or meta.intervention,
        # the PDF's own title, as WeasyPrint's: the page's <title> (intervention, grantee, kind)
        "doc_title": _text_of(soup.title) or meta.intervention,
        "subtitle": _text_of(soup.select_one(".report-subtitle")),
        "author": meta.grantee,
        "meta": meta_items,
        "logo": _logo(images, soup.select_one("header.report-header img.report-logo")),
        "logo_small": _logo(images, soup.select_one(".report-running-logo img")),
        "head": meta.running_head,
        "foot": meta.running_foot,
        "page_of": page_number(lang),
        "toc_title": text("report_contents", lang),
        "toc": reader.contents(soup.find("nav", id="report-toc")),
        "blocks": blocks,
        "footer": {
            "runs": _trimmed(reader.runs(footer)) if footer is not None else [],
            "logo": _logo(images, footer_logo),
        },
        "brand": _brand(soup),
    }
    return model, images.files


def _text_of(node: object) -> str:
    return node.get_text(" ", strip=True) if isinstance(node, Tag) else ""


def _logo(images: ReportImages, node: Tag | None) -> str | None:
    if node is None:
        return None
    found = images.add(node.get("src"), allow_svg=True)
    return found[0] if found else None
