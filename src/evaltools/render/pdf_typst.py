"""``report.pdf`` from the branded report HTML, laid out by Typst (the ``typst`` renderer).

A second PDF engine for the nbconvert path, 15-24 times less CPU per report than WeasyPrint on
the demo reports (``benchmarks/pdf_engines.py``). The finished report HTML (as
:func:`~evaltools.render.render_html` writes it) is read into a small document model
(:func:`~evaltools.render.typst_model.report_model`: the title block, the contents, headings,
paragraphs and lists of text runs, tables, figures, the footer), written as JSON beside the
Typst template ``evaltools/templates/typst/report.typ``, and compiled in process by the
``typst`` package.

Safety: every text of the HTML reaches Typst as JSON string data, never as markup, so nothing a
grantee writes can run Typst code or read a file. The compiler's root is a fresh temporary
folder holding only the template, ``report.json`` and the images written here (the brand's
embedded fonts go to a font folder of their own, :func:`_font_folder`). Figures are taken only
from ``data:image/png`` and ``data:image/jpeg`` URIs (any other image is dropped), the brand's
logos also from ``data:image/svg+xml``; links are set as their text and nothing is fetched.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
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
from evaltools.render.nbconvert_html import read_report_html
from evaltools.render.typst_model import report_model

TEMPLATE = "report.typ"
MODEL = "report.json"
_FONT_FACE = re.compile(r"@font-face\s*\{([^}]*)\}", re.IGNORECASE)
_FONT_DATA = re.compile(r"url\(\s*['\"]?data:font/(ttf|otf|sfnt);base64,([A-Za-z0-9+/=\s]+)")
_SPACE = re.compile(r"\s+")
_COMPILE_LOCK = threading.Lock()
_COMPILED_IN: list[int] = []  # the process that first ran the compiler (its threads are its own)

# ---------------------------------------------------------------------------
# Fonts and the compiler
# ---------------------------------------------------------------------------


def _font_folder(html: str) -> str | None:
    """A folder holding the fonts the report's ``@font-face`` rules embed (TrueType/OpenType).

    The brand's font files, written once per set of fonts into a folder named by their digest
    in this user's private folder of the temporary directory, and kept: later reports, and
    later processes (a batch's workers), reuse the folder and a compiler made with it. WOFF
    fonts are not read (Typst reads TrueType and OpenType): the family's fallbacks are used.
    """
    head_end = html.find("</head>")
    faces = _FONT_FACE.findall(html, 0, head_end if head_end >= 0 else len(html))
    encoded = [_SPACE.sub("", m.group(2)) for f in faces if (m := _FONT_DATA.search(f))]
    if not encoded:
        return None
    digest = hashlib.sha256("\n".join(encoded).encode("ascii")).hexdigest()[:32]
    folder = _fonts_home() / digest
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=folder.parent))
        for n, text in enumerate(encoded):
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                continue
            (staging / f"font-{n}.ttf").write_bytes(data)
        try:
            staging.rename(folder)  # whole or not at all; another process may have won
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return str(folder)


@cache
def _fonts_home() -> Path:
    """This user's folder of brand font folders (mode 0700, in the temporary directory).

    Raises
    ------
    RenderError
        If it exists but is not this user's own private folder.
    """
    home = Path(tempfile.gettempdir()) / f"evaltools-typst-fonts-{os.getuid()}"
    home.mkdir(mode=0o700, exist_ok=True)
    info = home.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise RenderError(f"{home}: not this user's private folder; remove it and render again")
    return home


def typst_version() -> str:
    """The version of the ``typst`` package (the Typst compiler it embeds)."""
    return str(typst.__version__)


@cache
def _compiler(font_folder: str | None) -> typst.Compiler:
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
    source = read_report_html(html)
    try:
        model, images = report_model(source, meta)
    except RenderError:
        raise
    except Exception as exc:  # e.g. RecursionError on absurdly deep markup
        raise RenderError(f"the report HTML could not be read for Typst: {exc!r}") from exc
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
    if _COMPILED_IN and _COMPILED_IN[0] != os.getpid():
        # The compiler's thread pool stays behind in the parent: a compile here would hang.
        raise RenderError(
            "Typst cannot make a PDF in a process forked after Typst ran in its parent "
            f"(process {_COMPILED_IN[0]}); start this process afresh (spawn, not fork)"
        )
    _COMPILED_IN[:1] = [os.getpid()]
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
