"""Branded reports (HTML and Typst/PDF) from executed notebooks, with the Quarto CLI.

Quarto is used when it is installed; it is not a Python package here, so this module only
builds a working folder and runs the documented command line. What the Quarto documentation
says, and how this module follows it:

- An ``.ipynb`` is rendered from its stored outputs; ``--no-execute`` makes sure no kernel
  runs ("Execute code (--no-execute to skip execution)").
  https://quarto.org/docs/cli/render.html and https://quarto.org/docs/tools/jupyter-lab.html
- ``quarto render <file> --to html,typst`` writes ``report.html`` and ``report.pdf`` beside
  the input in one run (https://quarto.org/docs/cli/render.html: ``--to`` "Specify output
  format(s)"; Quarto splits the value at commas). One run, not one per format: each run pays
  Quarto's start and its Bootstrap Sass compilation again (about 1 s of the 10 s a demo report
  took with two runs). No ``--output-dir``: with it, Quarto renders the file as a temporary
  project whose output folder it empties on each render. The files are then moved to their
  final place by us.
- Document options go in the notebook's first cell, a raw cell holding YAML front matter
  (title, subtitle, author, date, ...). https://quarto.org/docs/tools/jupyter-lab.html
  and https://quarto.org/docs/authoring/title-blocks.html; ``date-format: long`` formats the
  date in the document's ``lang`` (https://quarto.org/docs/reference/dates.html).
- Code is hidden with the execution option ``echo: false`` under ``execute:``.
  https://quarto.org/docs/computations/execution-options.html
- A ``_brand.yml`` outside a Quarto project applies to the documents in the same folder
  (Quarto >= 1.6, HTML and Typst). https://quarto.org/docs/authoring/brand.html; so the
  brand's ``_brand.yml`` and logo files are copied beside the notebook. The working folder is
  a fresh temporary folder outside the repository, so no ``_quarto.yml`` of a surrounding
  project can change the brand or the output paths.
- Per-format options go under ``format:``: HTML is made self-contained with
  ``embed-resources: true`` (https://quarto.org/docs/reference/formats/html.html), styled
  further by ``css:`` and given the brand's logo above the title block with
  ``include-before-body`` (a single HTML document has no navbar, where Quarto would put the
  brand's logo); Typst output is a PDF on ``papersize: a4`` with ``margin`` and ``fontsize``,
  and the brand's logo on every page with the ``logo`` option (``location``, ``width``,
  ``padding``) (https://quarto.org/docs/output-formats/typst.html,
  https://quarto.org/docs/reference/formats/typst.html,
  https://quarto.org/docs/authoring/brand.html#logo). Fonts with ``source: file`` in
  ``_brand.yml`` are embedded in the HTML and found by Typst; nothing is fetched.
- The notebook's outputs are packed the way Quarto reads them (figures with ``#| label`` and
  ``#| fig-cap``, tables as raw HTML blocks): :mod:`evaltools.render.quarto_source`.
  The stylesheet and the logo snippet are the Quarto template, package data in
  ``evaltools/templates/quarto/``.
- Quarto runs offline: every proxy variable points at a closed port (:func:`offline_env`),
  so the URLs a page names are never fetched to be embedded.
- The HTML Quarto writes is finished by :mod:`evaltools.render.quarto_html`: its body is
  sanitised and a Content-Security-Policy allows only the scripts Quarto shipped (by hash)
  and no network request at all, the same policy as the nbconvert report's.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Sequence
from importlib import resources
from io import StringIO
from pathlib import Path
from typing import Any

import nbformat
from ruamel.yaml import YAML

from evaltools.choices import check_choice
from evaltools.errors import OutputError, RenderError
from evaltools.render.meta import ReportMeta
from evaltools.render.prepare import prepare_notebook
from evaltools.render.quarto_html import secure_quarto_file
from evaltools.render.quarto_source import quarto_notebook
from evaltools.report.brand import Brand
from evaltools.report.i18n import text
from evaltools.report.markup import safe_markdown

QUARTO_PATH_ENV = "QUARTO_PATH"
MIN_VERSION = (1, 6)
FORMATS = ("html", "typst")
OUTPUT_SUFFIX = {"html": ".html", "typst": ".pdf"}
REPORT_STEM = "report"
TEMPLATE_FILES = ("evaltools-quarto.css",)
TYPST_PAGE = {
    "papersize": "a4",
    # columns as wide as their content (Quarto's default gives every column the same share)
    "tbl-colwidths": False,
    "margin": {"x": "2.2cm", "top": "2.6cm", "bottom": "2.4cm"},
    "fontsize": "10pt",
    # the brand's small logo in the top margin of every page
    "logo": {"location": "right-top", "width": "1.1cm", "padding": "0.75cm 1.2cm"},
    # Typst keeps a figure on one page: a long table (it is a figure of kind
    # quarto-float-tbl) ran off the page bottom. Tables may break across pages, are set a
    # little smaller than the text, left-aligned and not justified (as in the HTML).
    "include-in-header": [
        {
            "text": '#show figure.where(kind: "quarto-float-tbl"): set block(breakable: true)\n'
            '#show figure.where(kind: "quarto-float-tbl"): set align(left)\n'
            "#show table: set text(size: 0.9em)\n"
            "#show table: set par(justify: false)\n"
            "#show table: set text(hyphenate: true)"
        }
    ],
}


def find_quarto() -> Path | None:
    """The Quarto CLI: ``$QUARTO_PATH`` if it names an executable file, else ``quarto`` on PATH.

    Returns None when neither exists.
    """
    env = os.environ.get(QUARTO_PATH_ENV)
    if env:
        candidate = Path(env).expanduser()
        if candidate.is_dir():
            candidate = candidate / "bin" / "quarto"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
        warnings.warn(
            f"{QUARTO_PATH_ENV}={env} is not an executable file; looking for quarto on PATH",
            stacklevel=2,
        )
    found = shutil.which("quarto")
    return Path(found) if found else None


def quarto_version(quarto: Path) -> str:
    """The version ``quarto --version`` reports (e.g. ``"1.6.40"``)."""
    result = _run([str(quarto), "--version"], cwd=None, timeout=60)
    return result.stdout.strip().splitlines()[-1].strip() if result.stdout.strip() else ""


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def template_dir() -> Path:
    """The folder holding evaltools' Quarto template files (package data)."""
    return Path(str(resources.files("evaltools") / "templates" / "quarto"))


def logo_html(brand: Brand) -> str:
    """The HTML put before the title block: the brand's logo (empty when it has none)."""
    if brand.logo is None:
        return ""
    alt = html.escape(brand.logo_alt, quote=True)
    return (
        f'<div class="evaltools-brand"><img src="{brand.logo.name}" alt="{alt}" '
        'class="evaltools-logo"></div>'
    )


def front_matter(
    meta: ReportMeta | None,
    brand: Brand,
    existing: dict[str, Any],
    *,
    formats: Sequence[str] = FORMATS,
) -> dict[str, Any]:
    """The document options for Quarto: the notebook's own front matter, ours on top.

    `formats` are the formats rendered: the HTML links to ``report.pdf`` only when it is made.
    """
    options: dict[str, Any] = dict(existing)
    options.setdefault("execute", {})
    if isinstance(options["execute"], dict):
        options["execute"]["echo"] = False
    options["toc"] = True
    options["toc-depth"] = 3
    formats = options.get("format")
    formats = dict(formats) if isinstance(formats, dict) else {}
    html_options: dict[str, Any] = {
        "embed-resources": True,
        "css": list(TEMPLATE_FILES),
        "title-block-banner": True,
        "title-block-banner-color": _text_colour_on(brand.primary),
        "format-links": (
            [{"text": "PDF", "href": f"{REPORT_STEM}.pdf", "icon": "file-pdf"}]
            if "typst" in formats
            else False
        ),
    }
    snippet = logo_html(brand)
    if snippet:
        html_options["include-before-body"] = [{"text": snippet}]
    typst_options = {k: (dict(v) if isinstance(v, dict) else v) for k, v in TYPST_PAGE.items()}
    if brand.logo_small is None:
        typst_options.pop("logo")
    for fmt, extra in {"html": html_options, "typst": typst_options}.items():
        current = formats.get(fmt)
        formats[fmt] = {**(current if isinstance(current, dict) else {}), **extra}
    options["format"] = formats
    if meta is not None:
        lang = meta.language
        options.update(
            {
                # Quarto reads these as Markdown: a grantee's text must stay text
                "title": safe_markdown(meta.intervention),
                "subtitle": safe_markdown(
                    meta.subtitle or f"{text('report_period', lang)}: {meta.period}"
                ),
                "author": safe_markdown(meta.grantee),
                "date": meta.date.isoformat(),
                "date-format": "long",
                "lang": lang,
                "toc-title": text("report_contents", lang),
                # the title block's labels: the author is the grantee
                "language": {
                    "title-block-author-single": meta.grantee_label or text("report_grantee", lang),
                    "title-block-published": text("report_date", lang),
                },
            }
        )
    return options


def _text_colour_on(background: str) -> str:
    """White or near-black, whichever reads better on the hex colour `background`."""
    rgb = [int(background.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#FFFFFF" if luminance < 0.4 else "#111111"


def _existing_front_matter(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """Pop the notebook's own front matter (a first raw cell with ``---`` YAML), if any."""
    if not nb.cells or nb.cells[0].cell_type != "raw":
        return {}
    source = nb.cells[0].source.strip()
    if not source.startswith("---"):
        return {}
    body = source.strip("-\n ")
    try:
        data = YAML(typ="safe").load(body) or {}
    except Exception:
        return {}
    if not isinstance(data, dict):
        return {}
    nb.cells.pop(0)
    return data


def _yaml_cell(options: dict[str, Any]) -> nbformat.NotebookNode:
    yaml = YAML(typ="safe", pure=True)  # ruamel's own emitter, not libyaml's (ruamel.yaml.clib)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    buf = StringIO()
    yaml.dump(options, buf)
    return nbformat.v4.new_raw_cell(f"---\n{buf.getvalue()}---")


def prepare_workdir(
    notebook: Path,
    workdir: Path,
    *,
    brand: Brand,
    meta: ReportMeta | None,
    formats: Sequence[str] = FORMATS,
) -> Path:
    """Copy the cleaned notebook (with front matter) and the brand into `workdir`.

    Returns the notebook's path in `workdir` (``report.ipynb``).
    """
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:
        raise RenderError(f"{notebook}: not a readable notebook ({exc})") from exc
    nb = quarto_notebook(prepare_notebook(nb))
    existing = _existing_front_matter(nb)
    nb.cells.insert(0, _yaml_cell(front_matter(meta, brand, existing, formats=formats)))
    target = workdir / f"{REPORT_STEM}.ipynb"
    nbformat.write(nb, target)
    for entry in brand.path.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            shutil.copytree(entry, workdir / entry.name)
        else:
            shutil.copy2(entry, workdir / entry.name)
    for name in TEMPLATE_FILES:
        shutil.copyfile(template_dir() / name, workdir / name)
    return target


def quarto_command(quarto: Path, notebook_name: str, fmt: str | Sequence[str]) -> list[str]:
    """The command line that renders `notebook_name` (in the working folder) to `fmt`: one
    format, or several in one run."""
    return [
        str(quarto),
        "render",
        notebook_name,
        "--no-execute",
        "--to",
        fmt if isinstance(fmt, str) else ",".join(fmt),
    ]


def render_quarto(
    notebook: Path,
    output_dir: Path,
    *,
    brand: Brand,
    meta: ReportMeta | None = None,
    formats: Sequence[str] = FORMATS,
    quarto: Path | None = None,
    timeout: float = 600,
) -> list[Path]:
    """Render the executed `notebook` with Quarto into `output_dir`.

    Writes ``report.html`` (format ``html``) and/or ``report.pdf`` (format ``typst``);
    each file is moved into place only once Quarto has finished every format.

    Returns
    -------
    list[Path]
        The files written, in the order of `formats`.

    Raises
    ------
    RenderError
        If Quarto is not installed, older than 1.6, fails (the message holds its stderr), or
        writes no output.
    """
    for fmt in formats:
        check_choice("formats", fmt, FORMATS)
    if not formats:
        raise RenderError("`formats` is empty: nothing to render")
    quarto = quarto or find_quarto()
    if quarto is None:
        raise RenderError(
            "Quarto CLI not found: set QUARTO_PATH or put quarto on PATH "
            "(or render with renderer='nbconvert')"
        )
    version = quarto_version(quarto)
    if _version_tuple(version) < MIN_VERSION:
        raise RenderError(
            f"Quarto {version or '(unknown version)'} at {quarto} is too old: "
            f"_brand.yml needs Quarto >= {'.'.join(map(str, MIN_VERSION))}"
        )
    output_dir = Path(output_dir)
    with tempfile.TemporaryDirectory(prefix="evaltools-quarto-") as tmp:
        workdir = Path(tmp)
        source = prepare_workdir(Path(notebook), workdir, brand=brand, meta=meta, formats=formats)
        produced = []
        _run(quarto_command(quarto, source.name, formats), cwd=workdir, timeout=timeout)
        for fmt in formats:
            result = workdir / f"{REPORT_STEM}{OUTPUT_SUFFIX[fmt]}"
            if not result.is_file():
                raise RenderError(
                    f"quarto render --to {','.join(formats)} finished but wrote no {result.name}"
                )
            if fmt == "html":  # sanitised body, Content-Security-Policy (as with nbconvert)
                secure_quarto_file(result)
            produced.append(result)
        return _publish(produced, output_dir)


def _publish(files: list[Path], output_dir: Path) -> list[Path]:
    """Move `files` into `output_dir`: copy each beside its target, then rename."""
    written: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for file in files:
            tmp = output_dir / f".{file.name}.{uuid.uuid4().hex}.tmp"
            shutil.copyfile(file, tmp)  # a new file: the umask's usual permissions
            staged.append((tmp, output_dir / file.name))
        for tmp, target in staged:
            os.replace(tmp, target)
            written.append(target)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise OutputError(f"{output_dir}: could not write the report ({exc})") from exc
    return written


#: Quarto's environment points every proxy at a closed port: with ``embed-resources`` pandoc
#: fetches each URL a page names to embed it, and a grantee's text must not make the
#: rendering machine call anywhere (the report's own resources are all local files).
NO_NETWORK = "http://127.0.0.1:9"
_PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)


def offline_env() -> dict[str, str]:
    """This process's environment with every proxy set to :data:`NO_NETWORK`."""
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    env.update(dict.fromkeys(_PROXY_VARIABLES, NO_NETWORK))
    return env


def _run(argv: list[str], *, cwd: Path | None, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=offline_env(),
        )
    except FileNotFoundError as exc:
        raise RenderError(f"could not start Quarto ({argv[0]}): {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"`{' '.join(argv[1:])}` did not finish within {timeout:g} s") from exc
    if result.returncode != 0:
        stderr = (result.stderr or "").strip() or (result.stdout or "").strip()
        raise RenderError(
            f"`quarto {' '.join(argv[1:])}` failed (exit code {result.returncode}):\n{stderr}"
        )
    return result
