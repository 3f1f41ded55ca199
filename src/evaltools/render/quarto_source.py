"""The report notebook rewritten in Quarto's own terms, before ``quarto render --no-execute``.

The executed notebook is still what Quarto renders (its stored outputs, never re-run); only
how those outputs are packed changes, following Quarto's documentation:

- A figure with a caption becomes a code cell of its own whose cell options name and caption it
  (``#| label: fig-<n>`` and ``#| fig-cap: ...``, https://quarto.org/docs/authoring/figures.html
  and https://quarto.org/docs/reference/cells/cells-jupyter.html). Quarto numbers it and writes
  "Figur 1:"/"Figure 1:" in the document's ``lang`` in HTML and Typst alike, so the caption
  line the analysis notebook printed under the figure ("*Figur 1: ...*") is folded into the
  option, its number dropped. A figure without a caption (the theory of change diagram) stays
  an unnumbered output, as in the nbconvert report.
- A table (an HTML output) becomes a raw HTML block in a markdown cell
  (```` ```{=html} ````, https://quarto.org/docs/authoring/tables.html#html-tables). HTML
  passes it through; for Typst, Quarto parses raw HTML tables into real tables. Left as a
  ``text/html`` output, any such output makes Quarto add require.js and jQuery from a CDN to
  the page (its support for JavaScript widgets), which a report read offline must not load.
  A table with a ``<caption>`` is put in a cross-reference div (``::: {#tbl-<n>}``, caption
  as its last paragraph, https://quarto.org/docs/authoring/cross-references-divs.html), so
  Quarto numbers and captions it in HTML and Typst alike (Typst dropped the HTML caption).
  Numeric cells (``class="num"``) get their right alignment inline, as Quarto's own CSS
  inlining (juice) would do for Typst.
- Markdown outputs (headings, prose the notebook writes in the report's language) become
  markdown cells, so Quarto sees real headings for the table of contents.
- The opening summary (the cell tagged :data:`~evaltools.render.report_notebook.OPENING_TAG`)
  gets a page of its own in the Typst PDF: a raw Typst page break before and after it
  (```` ```{=typst} ````, https://quarto.org/docs/output-formats/typst.html#raw-blocks),
  which the HTML output leaves out.

Everything else (plain-text outputs) stays a code cell with its output.
"""

from __future__ import annotations

import json
import re

import nbformat
from bs4 import BeautifulSoup
from nbformat import NotebookNode

from evaltools.render.prepare import cell_tags
from evaltools.render.report_notebook import OPENING_TAG

FIGURE_TYPES = ("image/svg+xml", "image/png", "image/jpeg")
#: A page break in the Typst PDF only (HTML drops raw Typst); weak: none at a page's top.
TYPST_PAGE_BREAK = "```{=typst}\n#pagebreak(weak: true)\n```"
# A figure caption as evaltools.report.notebook.FigureCounter writes it: "*Figur 3: text*".
_CAPTION = re.compile(r"^\s*\*(?:Figur|Figure) \d+:\s*(?P<text>.+?)\*\s*$", re.DOTALL)


def figure_caption(markdown: str) -> str | None:
    """The caption text of an evaltools caption line (``*Figur 3: text*`` -> ``text``)."""
    match = _CAPTION.match(markdown)
    return match.group("text").strip() if match else None


def raw_html_block(html: str) -> str:
    """`html` as a pandoc raw HTML block, fenced longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", html)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{{=html}}\n{html.strip()}\n{fence}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|$@])")


def _escape_markdown(value: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def table_markdown(html: str, *, number: int) -> tuple[str, bool]:
    """Markdown for one HTML output; True when it became the cross-referenced table `number`.

    A single ``<table>`` with a ``<caption>`` becomes a ``#tbl-<number>`` div holding the table
    (caption removed) and the caption text; anything else stays one raw HTML block.
    """
    soup = BeautifulSoup(html, "html.parser")
    for cell in soup.select("td.num, th.num"):
        style = str(cell.get("style", "")).strip().rstrip(";")
        cell["style"] = f"{style}; text-align: right" if style else "text-align: right"
    tables = soup.find_all("table")
    caption = tables[0].find("caption") if len(tables) == 1 else None
    if caption is None or not caption.get_text(strip=True):
        return raw_html_block(str(soup)), False
    text = caption.get_text(" ", strip=True)
    caption.decompose()
    block = raw_html_block(str(soup))
    return f"::: {{#tbl-{number}}}\n\n{block}\n\n{_escape_markdown(text)}\n\n:::", True


def _markdown(output: NotebookNode) -> str | None:
    if output.get("output_type") not in ("display_data", "execute_result"):
        return None
    data = output.get("data", {})
    return str(data["text/markdown"]) if "text/markdown" in data else None


def _is_figure(output: NotebookNode) -> bool:
    data = output.get("data", {})
    return output.get("output_type") in ("display_data", "execute_result") and any(
        kind in data for kind in FIGURE_TYPES
    )


def _figure_cell(output: NotebookNode, *, number: int, caption: str) -> NotebookNode:
    """A code cell holding one captioned figure output, with Quarto cell options for it."""
    options = [f"#| label: fig-{number}", f"#| fig-cap: {json.dumps(caption, ensure_ascii=False)}"]
    cell = nbformat.v4.new_code_cell("\n".join(options))
    kept = {kind: output["data"][kind] for kind in FIGURE_TYPES if kind in output["data"]}
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data=kept, metadata=dict(output.get("metadata", {}) or {})
        )
    ]
    return cell


def quarto_notebook(notebook: NotebookNode) -> NotebookNode:
    """A copy of the (prepared) report `notebook` in Quarto's terms; see the module docstring.

    Cell ids are renumbered (``cell-0``, ``cell-1``, ...), so the same notebook gives the same
    Quarto source.
    """
    out = nbformat.v4.new_notebook()
    out.metadata = dict(notebook.metadata)
    counts = {"figures": 0, "tables": 0}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            out.cells.extend(_code_cells(cell, counts))
        elif cell.cell_type == "markdown" and OPENING_TAG in cell_tags(cell):
            out.cells.extend(  # the summary on a page of its own
                nbformat.v4.new_markdown_cell(source)
                for source in (TYPST_PAGE_BREAK, cell.source, TYPST_PAGE_BREAK)
            )
        elif cell.cell_type == "markdown":
            out.cells.append(nbformat.v4.new_markdown_cell(cell.source))
        else:
            out.cells.append(nbformat.v4.new_raw_cell(cell.source))
    for number, new in enumerate(out.cells):
        new.id = f"cell-{number}"
    return out


def _code_cells(cell: NotebookNode, counts: dict[str, int]) -> list[NotebookNode]:
    """The cells one executed code cell becomes; `counts` numbers figures and tables."""
    cells: list[NotebookNode] = []
    plain: list[NotebookNode] = []  # outputs kept as they are, in a code cell

    def flush() -> None:
        if plain:
            kept = nbformat.v4.new_code_cell(cell.source)
            kept.outputs = list(plain)
            cells.append(kept)
            plain.clear()

    outputs = list(cell.get("outputs", []))
    index = 0
    while index < len(outputs):
        output = outputs[index]
        index += 1
        markdown = _markdown(output)
        data = output.get("data", {})
        following = _markdown(outputs[index]) if index < len(outputs) else None
        caption = figure_caption(following) if following is not None else None
        if _is_figure(output) and caption is not None:
            index += 1
            counts["figures"] += 1
            flush()
            cells.append(_figure_cell(output, number=counts["figures"], caption=caption))
        elif markdown is not None:
            flush()
            cells.append(nbformat.v4.new_markdown_cell(markdown.strip()))
        elif "text/html" in data:
            source, numbered = table_markdown(str(data["text/html"]), number=counts["tables"] + 1)
            counts["tables"] += numbered
            flush()
            cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            plain.append(output)
    flush()
    return cells
