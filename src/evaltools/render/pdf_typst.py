"""``report.pdf`` from the branded report HTML, laid out by Typst (the ``typst`` renderer).

A second PDF engine for the nbconvert path, about as fast per report as the HTML itself: the
finished report HTML (as :func:`~evaltools.render.render_html` writes it) is read into a small
document model (:func:`report_model`: the title block, the contents, headings, paragraphs and
lists of text runs, tables, figures, the footer), written as JSON beside the Typst template
``evaltools/templates/typst/report.typ``, and compiled in process by the ``typst`` package.

Safety: every text of the HTML reaches Typst as JSON string data, never as markup, so nothing a
grantee writes can run Typst code or read a file. The compiler's root is a fresh temporary
folder holding only the template, ``report.json``, the images written here and the brand's
font files; figures are taken only from ``data:image/png`` and ``data:image/jpeg`` URIs (any
other image is dropped), the brand's logos also from ``data:image/svg+xml``; links are set as
their text and nothing is fetched.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
import shutil
import tempfile
import threading
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import typst

from evaltools.atomic import write_report_file
from evaltools.errors import RenderError
from evaltools.render.meta import ReportMeta
from evaltools.render.typst_model import page_number, report_model

TEMPLATE = "report.typ"
MODEL = "report.json"
_FONT_FACE = re.compile(r"@font-face\s*\{([^}]*)\}", re.IGNORECASE)
_FONT_DATA = re.compile(r"url\(\s*['\"]?data:font/(ttf|otf|sfnt);base64,([A-Za-z0-9+/=\s]+)")
_SPACE = re.compile(r"\s+")
_COMPILE_LOCK = threading.Lock()

# ---------------------------------------------------------------------------
# Fonts and the compiler
# ---------------------------------------------------------------------------


def _font_folder(html: str) -> str | None:
    """A folder holding the fonts the report's ``@font-face`` rules embed (TrueType/OpenType).

    Written once per set of fonts (named by their digest) and kept for the process's later
    reports, so that a compiler with those fonts can be reused.
    """
    head_end = html.find("</head>")
    faces = _FONT_FACE.findall(html, 0, head_end if head_end >= 0 else len(html))
    fonts = []
    for face in faces:
        match = _FONT_DATA.search(face)
        if match is None:
            continue
        try:
            fonts.append(base64.b64decode(_SPACE.sub("", match.group(2)), validate=True))
        except (binascii.Error, ValueError):
            continue
    if not fonts:
        return None
    digest = hashlib.sha256(b"".join(hashlib.sha256(f).digest() for f in fonts)).hexdigest()
    return _written_fonts(digest[:24], tuple(fonts))


@cache
def _written_fonts(digest: str, fonts: tuple[bytes, ...]) -> str:
    folder = Path(tempfile.mkdtemp(prefix=f"evaltools-typst-fonts-{digest}-"))
    for n, data in enumerate(fonts):
        (folder / f"font-{n}.ttf").write_bytes(data)
    return str(folder)


def typst_version() -> str:
    """The version of the ``typst`` package (the Typst compiler it embeds)."""
    return str(typst.__version__)


@cache
def _compiler(font_folder: str | None) -> Any:
    """A Typst compiler with the system fonts and those in `font_folder`, kept per process."""
    return typst.Compiler(font_paths=[font_folder] if font_folder else [])


@cache
def template_text() -> str:
    """The Typst template (package data ``evaltools/templates/typst/report.typ``)."""
    source = resources.files("evaltools") / "templates" / "typst" / TEMPLATE
    return source.read_text(encoding="utf-8")


def render_pdf_typst(html: str | Path, output: Path, *, meta: ReportMeta) -> Path:
    """Lay out the branded report HTML on A4 pages with Typst and write it to `output`.

    Parameters
    ----------
    html
        The finished report HTML (as :func:`~evaltools.render.render_html` writes it), or the
        path of such a file.
    output
        The PDF file to write; written atomically.
    meta
        The report's title block facts; they give the page header and footer their texts.

    Returns
    -------
    Path
        `output`.

    Raises
    ------
    RenderError
        If the HTML is not a finished report or Typst fails.
    OutputError
        If `output` cannot be written.
    """
    output = Path(output)
    try:
        source = Path(html).read_text(encoding="utf-8") if isinstance(html, Path) else html
    except (OSError, UnicodeDecodeError) as exc:
        raise RenderError(f"{html}: the report HTML could not be read ({exc})") from exc
    if not isinstance(source, str):
        raise RenderError(f"the report HTML must be a text, got {type(source).__name__}")
    model, images = report_model(source, meta)
    data = compile_model(model, images, fonts=_font_folder(source), date=meta.date)
    write_report_file(output, data)
    return output


def compile_model(
    model: dict[str, Any],
    images: dict[str, bytes],
    *,
    fonts: str | None = None,
    date: dt.date | None = None,
) -> bytes:
    """The PDF of a document `model` (:func:`report_model`) with its `images`, by Typst.

    The compiler's root is a fresh temporary folder holding only the template, the model as
    ``report.json`` and the images; it is removed afterwards.

    Raises
    ------
    RenderError
        If Typst fails.
    """
    root = Path(tempfile.mkdtemp(prefix="evaltools-typst-"))
    try:
        (root / TEMPLATE).write_text(template_text(), encoding="utf-8")
        (root / MODEL).write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
        for name, data in images.items():
            (root / name).write_bytes(data)
        stamp = None
        if date is not None:
            stamp = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
        with _COMPILE_LOCK:
            pdf = _compiler(fonts).compile(
                input=str(root / TEMPLATE), root=str(root), format="pdf", timestamp=stamp
            )
    except typst.TypstError as exc:
        raise RenderError(f"Typst could not make the PDF: {_typst_message(exc)}") from exc
    except RenderError:
        raise
    except Exception as exc:
        raise RenderError(f"Typst could not make the PDF: {exc}") from exc
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not isinstance(pdf, bytes):
        raise RenderError("Typst made no PDF")
    return pdf


def _typst_message(exc: Exception) -> str:
    message = getattr(exc, "message", "") or str(exc)
    hints = getattr(exc, "hints", None) or []
    where = getattr(exc, "diagnostic", "") or ""
    return "; ".join([str(message), *map(str, hints), *([str(where)] if where else [])])


def warm_up_typst() -> None:
    """Compile a one-page document once: loads the compiler and the system fonts.

    Raises
    ------
    RenderError
        If the ``typst`` package is missing or fails.
    """
    model = {
        "lang": "da",
        "kind": "-",
        "title": "-",
        "subtitle": "",
        "author": "-",
        "meta": [],
        "logo": None,
        "logo_small": None,
        "head": "-",
        "foot": "-",
        "page_of": page_number("da"),
        "toc_title": "-",
        "toc": [],
        "blocks": [{"t": "p", "runs": [{"s": "æøå −0,5"}]}],
        "footer": {"runs": [], "logo": None},
        "brand": {
            "primary": "#1F3A5F",
            "accent": "#D9792B",
            "foreground": "#1E2833",
            "light": "#EEF2F6",
            "heading": "#1F3A5F",
            "base": ["Liberation Sans"],
            "headings": ["Liberation Sans"],
            "mono": ["DejaVu Sans Mono"],
            "line_height": 1.5,
        },
    }
    compile_model(model, {})
