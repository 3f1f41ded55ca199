"""The worker's client sheet (restricted): one client's own scores, for the conversation.

``evaltools client-sheets PARAMS --out DIR`` writes one page per client, as HTML and PDF:
the client's score on every scale at each measurement, drawn against the scale's range,
its clinical cutoff and the group's median at that measurement (shown only where at least
``min_cell_size`` clients were measured), in the report's language.

It is the only output of evaltools that shows a person's own data, so it is fenced off:

- only this explicit command writes it: never ``run``, ``batch``, the portfolio or any
  ``results.json``;
- it refuses a folder that holds reports (a ``results.json``, ``provenance.json`` or
  ``report.html`` in it or in a folder directly under it);
- the folder is made readable by its owner only (0o700) and every file is written 0o600;
- every page says it is confidential, at the top and in the page margin of the PDF.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaltools.data.readers import read_analysis_data
from evaltools.errors import OutputError, ParamsError
from evaltools.params.loading import load_params
from evaltools.params.models import Params, PrePost
from evaltools.prepost.labels import fmt_score, scale_label
from evaltools.prepost.scales import score_scales
from evaltools.report.i18n import text

REPORT_MARKERS = ("results.json", "provenance.json", "report.html")
FOLDER_MODE, FILE_MODE = 0o700, 0o600

_CSS = """
@page { size: A4; margin: 18mm 16mm;
  @top-center { content: "%(banner)s"; color: #9b1c1c; font: 600 9pt sans-serif; }
  @bottom-center { content: "%(banner)s"; color: #9b1c1c; font: 600 8pt sans-serif; } }
body { font-family: sans-serif; font-size: 10pt; color: #262626; }
.confidential { border: 2px solid #9b1c1c; color: #9b1c1c; padding: .4em .7em;
  font-weight: 600; margin-bottom: 1em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { padding: .2em .6em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { width: 100%%; }
"""


def refuse_report_folder(folder: Path) -> None:
    """Raise OutputError if `folder` (or a folder directly in it) holds a report."""
    folder = Path(folder)
    if not folder.exists():
        return
    places = [folder, *(p for p in folder.iterdir() if p.is_dir())]
    for place in places:
        for marker in REPORT_MARKERS:
            if (place / marker).exists():
                raise OutputError(
                    f"{folder}: holds reports ({place / marker}); client sheets show a "
                    "person's own data and are never written beside reports. Give a folder "
                    "of their own with --out."
                )


def private_folder(folder: Path) -> Path:
    """`folder`, created if needed and made readable by its owner only (0o700)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        folder.chmod(FOLDER_MODE)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the folder ({exc.strerror or exc}).") from exc
    return folder


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by its owner only (0o600), replacing an old file."""
    if path.exists():
        path.unlink()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def write_client_sheets(
    params_file: str | Path, out_dir: str | Path, *, clients: list[str] | None = None
) -> list[Path]:
    """Write ``<out_dir>/<client>.html`` and ``.pdf`` for every client (or `clients`).

    Raises
    ------
    ParamsError
        If the parameter file has no pre/post section, or a client in `clients` is unknown.
    OutputError
        If `out_dir` holds reports or can't be written.
    """
    # WeasyPrint loads Pango at import (and takes a second); only this command needs it.
    from weasyprint import HTML

    params = load_params(params_file)
    spec = params.prepost
    if spec is None:
        raise ParamsError(f"{params_file}: client sheets need a `prepost:` section.")
    out = Path(out_dir)
    refuse_report_folder(out)
    frame = score_scales(read_analysis_data(spec), spec.scales)
    frame[spec.occasion] = pd.to_numeric(frame[spec.occasion]).astype(int)
    ids = sorted({str(v) for v in frame[spec.id]})
    if clients:
        unknown = sorted(set(clients) - set(ids))
        if unknown:
            raise ParamsError(f"client(s) {unknown} are not in {spec.data.name}.")
        ids = [i for i in ids if i in set(clients)]
    folder = private_folder(out)
    medians = _medians(frame, spec, params.min_cell_size)
    written = []
    for client in ids:
        rows = frame[frame[spec.id].astype(str) == client].sort_values(spec.occasion)
        page = client_sheet_html(client, rows, spec, params, medians)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", client)
        html_path, pdf_path = folder / f"{name}.html", folder / f"{name}.pdf"
        write_private(html_path, page.encode("utf-8"))
        write_private(pdf_path, HTML(string=page).write_pdf())
        written += [html_path, pdf_path]
    return written


def _medians(frame: pd.DataFrame, spec: PrePost, min_cell_size: int) -> pd.DataFrame:
    """The group's median per scale and occasion, NaN where fewer than k clients."""
    grouped = frame.groupby(spec.occasion)
    medians = grouped[[s.name for s in spec.scales]].median()
    counts = grouped[[s.name for s in spec.scales]].count()
    return medians.where(counts >= min_cell_size)


def client_sheet_html(
    client: str, rows: pd.DataFrame, spec: PrePost, params: Params, medians: pd.DataFrame
) -> str:
    """One client's sheet as a self-contained HTML page (figure embedded)."""
    lang = params.language
    e = html.escape
    banner = text("sheet_confidential", lang)
    occasions = rows[spec.occasion].tolist()
    head = "".join(f"<th>{e(text('sheet_measurement', lang, n=o))}</th>" for o in occasions)
    body = []
    for scale in spec.scales:
        cells = "".join(f"<td>{e(fmt_score(v, scale, lang))}</td>" for v in rows[scale.name])
        body.append(f"<tr><td>{e(scale_label(scale, lang))}</td>{cells}</tr>")
    image = base64.b64encode(_figure_png(rows, spec, lang, medians)).decode()
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{e(banner)}: {e(client)}</title>"
        f"<style>{_CSS % {'banner': banner}}</style></head><body>"
        f'<div class="confidential">{e(banner)}. {e(text("sheet_use", lang))}</div>'
        f"<h1>{e(text('sheet_title', lang, client=client))}</h1>"
        f"<p>{e(params.grantee)} · {e(params.intervention)} · {e(params.period)}</p>"
        f"<table><thead><tr><th>{e(text('sheet_scale', lang))}</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
        f'<img alt="{e(text("sheet_figure_alt", lang))}" src="data:image/png;base64,{image}">'
        f"<p>{e(text('sheet_figure_note', lang))}</p>"
        f'<div class="confidential">{e(banner)}</div></body></html>'
    )


def _figure_png(rows: pd.DataFrame, spec: PrePost, lang: str, medians: pd.DataFrame) -> bytes:
    scales = list(spec.scales)
    ncols = 3
    nrows = -(-len(scales) // ncols)
    fig = Figure(figsize=(8, 2.4 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    x = rows[spec.occasion].to_numpy()
    for ax, scale in zip(axes, scales, strict=False):
        low, high = scale.range
        ax.set_ylim(low, high)
        ax.set_title(scale_label(scale, lang), loc="left", fontsize=9)
        group = medians[scale.name].reindex(x)
        ax.plot(x, group.to_numpy(), color="#9a9a9a", linestyle="--", marker=".",
                label=text("sheet_median", lang))  # fmt: skip
        ax.plot(x, rows[scale.name].to_numpy(), color="#1B7F79", marker="o", linewidth=2,
                label=text("sheet_client", lang))  # fmt: skip
        if scale.cutoff is not None:
            ax.axhline(scale.cutoff, color="#C4572F", linewidth=1,
                       label=text("sheet_cutoff", lang))  # fmt: skip
        ax.set_xticks(x)
        ax.tick_params(labelsize=8)
    for ax in axes[len(scales) :]:
        fig.delaxes(ax)
    legend: dict[str, object] = {}
    for ax in axes[: len(scales)]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(
        list(legend.values()),
        list(legend),
        loc="outside lower center",
        ncols=3,
        frameon=False,
        fontsize=8,
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()
