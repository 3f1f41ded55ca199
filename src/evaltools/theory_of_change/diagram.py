"""The theory of change as a diagram: boxes in columns, joined by arrows, in the brand.

:func:`theory_of_change_figure` draws activities -> outputs -> short-term -> long-term
outcomes with matplotlib, in the brand's colours and matplotlib's current fonts (set by
:func:`evaltools.report.theme.apply_seaborn_theme`), every text measured and wrapped to its box.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from IPython.display import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from evaltools.errors import ParamsError
from evaltools.params.models import Params
from evaltools.report.brand import Brand, load_brand
from evaltools.report.i18n import text
from evaltools.theory_of_change.targets import indicator_label

# Font sizes in points, distances in inches (the figure is drawn in an axes whose data units
# are inches).
BOX_FONT = 8.0
HEAD_FONT = 8.6
SMALL_FONT = 6.6
BOX_GAP = 0.13
ARROW_GAP = 0.32
PAD = 0.08
NOTE_GAP = 0.05
WIDTH = 7.0  # about the text width of an A4 page, so that the fonts print at their size


@dataclass(frozen=True)
class _Box:
    column: str
    key: str
    title: str
    note: str = ""


def _mix(colour: str, weight: float, base: str = "#FFFFFF") -> str:
    """`colour` mixed with `base`: weight 1 gives `colour`, 0 gives `base`."""
    a, b = to_rgb(colour), to_rgb(base)
    return to_hex(tuple(weight * x + (1 - weight) * y for x, y in zip(a, b, strict=True)))


class _Measure:
    """Text sizes in inches, measured with the figure's renderer in its current fonts."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        canvas = figure.canvas
        if not isinstance(canvas, FigureCanvasAgg):
            canvas = FigureCanvasAgg(figure)
        self.renderer = canvas.get_renderer()

    def width(self, words: str, size: float, weight: str, style: str) -> float:
        prop = FontProperties(size=size, weight=weight, style=style)
        width, _, _ = self.renderer.get_text_width_height_descent(words, prop, ismath=False)
        return width / self.figure.dpi

    def wrap(self, words: str, width: float, size: float, weight: str, style: str) -> str:
        """`words` broken into lines no wider than `width` inches (a long word stays whole)."""
        lines: list[str] = []
        for word in words.split():
            if lines and self.width(f"{lines[-1]} {word}", size, weight, style) <= width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return "\n".join(lines)

    def height(self, text_artist: Any) -> float:
        return text_artist.get_window_extent(self.renderer).height / self.figure.dpi


def theory_of_change_figure(
    params: Params, *, brand: Brand | None = None, width: float = WIDTH
) -> Figure:
    """Draw the theory of change of `params` as boxes in columns joined by arrows.

    Columns, left to right: activities, outputs, short-term outcomes, long-term outcomes
    (a column with no entries is left out). Each outcome box names the indicators that
    measure it. Short-term outcomes with ``leads_to`` get one arrow to each long-term outcome
    they lead to; other columns are joined by one arrow between them. Colours come from the
    brand (tints of its primary, secondary and accent colours; long-term outcomes in the
    primary colour), texts from the catalogue in the report's language, wrapped to the boxes
    as measured in matplotlib's current fonts (see
    :func:`evaltools.report.theme.apply_seaborn_theme`).

    Parameters
    ----------
    params
        Parameters with a ``theory_of_change``.
    brand
        The brand; by default the one `params` names.
    width
        The figure's width in inches; its height follows from the texts.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (data units: inches); every box is a patch with gid
        ``toc-box-<column>-<i>`` and every arrow a patch with gid ``toc-arrow-<from>-<to>``.

    Raises
    ------
    ParamsError
        If `params` has no theory of change.
    """
    toc = params.theory_of_change
    if toc is None:
        raise ParamsError("the parameters have no `theory_of_change` to draw")
    brand = brand or load_brand(params.brand)
    lang = params.language

    def outcome_box(i: int) -> _Box:
        outcome = toc.outcomes[i]
        names = [indicator_label(params, ind, lang) for ind in outcome.indicators]
        note = text("toc_measured_by", lang, indicators=", ".join(names)) if names else ""
        return _Box(outcome.term, outcome.name, outcome.label.get(lang), note)

    columns: list[tuple[str, str, list[_Box]]] = [
        (
            "activities",
            text("toc_col_activities", lang),
            [_Box("activities", f"a{i}", t.get(lang)) for i, t in enumerate(toc.activities)],
        ),
        (
            "outputs",
            text("toc_col_outputs", lang),
            [_Box("outputs", f"o{i}", t.get(lang)) for i, t in enumerate(toc.outputs)],
        ),
        (
            "short",
            text("toc_col_short", lang),
            [outcome_box(i) for i, o in enumerate(toc.outcomes) if o.term == "short"],
        ),
        (
            "long",
            text("toc_col_long", lang),
            [outcome_box(i) for i, o in enumerate(toc.outcomes) if o.term == "long"],
        ),
    ]
    columns = [c for c in columns if c[2]]
    n = len(columns)
    col_width = (width - 0.2 - ARROW_GAP * (n - 1)) / n
    inner = col_width - 2 * PAD
    colours = {
        "activities": (_mix(brand.primary, 0.12), brand.primary, brand.foreground),
        "outputs": (_mix(brand.secondary, 0.16), brand.secondary, brand.foreground),
        "short": (_mix(brand.accent, 0.22), brand.accent, brand.foreground),
        "long": (brand.primary, brand.primary, "#FFFFFF"),
    }

    fig = Figure(figsize=(width, 4.0))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    measure = _Measure(fig)

    # Texts first (at the origin), measured; then the layout; then everything moved in place.
    heads = []
    placed: dict[str, list[tuple[_Box, Any, Any, float]]] = {}
    for key, title, boxes in columns:
        heads.append(
            ax.text(
                0,
                0,
                measure.wrap(title, col_width, HEAD_FONT, "bold", "normal"),
                ha="center",
                va="top",
                fontsize=HEAD_FONT,
                fontweight="bold",
                color=brand.heading_color or brand.primary,
                linespacing=1.15,
            )
        )
        ink = colours[key][2]
        weight = "bold" if key in ("short", "long") else "normal"
        rows = []
        for box in boxes:
            title_text = ax.text(
                0,
                0,
                measure.wrap(box.title, inner, BOX_FONT, weight, "normal"),
                ha="left",
                va="top",
                fontsize=BOX_FONT,
                color=ink,
                fontweight=weight,
                linespacing=1.2,
            )
            note_text = None
            height = measure.height(title_text) + 2 * PAD
            if box.note:
                note_text = ax.text(
                    0,
                    0,
                    measure.wrap(box.note, inner, SMALL_FONT, "normal", "italic"),
                    ha="left",
                    va="top",
                    fontsize=SMALL_FONT,
                    color=ink,
                    alpha=0.85,
                    style="italic",
                    linespacing=1.2,
                )
                height += measure.height(note_text) + NOTE_GAP
            rows.append((box, title_text, note_text, height))
        placed[key] = rows
    heights = [
        sum(row[3] for row in placed[key]) + BOX_GAP * (len(placed[key]) - 1)
        for key, _, _ in columns
    ]
    header = max(measure.height(h) for h in heads) + 0.25
    body = max(heights)
    total = header + body + 0.12
    fig.set_size_inches(width, total)
    ax.set_xlim(0, width)
    ax.set_ylim(0, total)

    anchors: dict[str, tuple[float, float, float, float]] = {}  # key -> x0, x1, y0, y1
    for c, (key, _, _) in enumerate(columns):
        x = 0.1 + c * (col_width + ARROW_GAP)
        heads[c].set_position((x + col_width / 2, total - 0.04))
        y = total - header - (body - heights[c]) / 2
        fill, edge, _ = colours[key]
        for i, (box, title_text, note_text, height) in enumerate(placed[key]):
            bottom = y - height
            ax.add_patch(
                FancyBboxPatch(
                    (x, bottom),
                    col_width,
                    height,
                    boxstyle="round,pad=0,rounding_size=0.07",
                    facecolor=fill,
                    edgecolor=edge,
                    linewidth=1.0,
                    gid=f"toc-box-{key}-{i}",
                    zorder=1,
                )
            )
            title_text.set_position((x + PAD, y - PAD))
            title_text.set_zorder(2)
            if note_text is not None:
                note_text.set_position((x + PAD, y - PAD - measure.height(title_text) - NOTE_GAP))
                note_text.set_zorder(2)
            anchors[box.key] = (x, x + col_width, bottom, y)
            y = bottom - BOX_GAP

    def arrow(start: tuple[float, float], end: tuple[float, float], gid: str) -> None:
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>,head_length=5,head_width=3.2",
                mutation_scale=1.4,
                linewidth=1.4,
                color=_mix(brand.foreground, 0.55),
                shrinkA=2,
                shrinkB=2,
                gid=gid,
            )
        )

    links = {o.name: o.leads_to for o in toc.outcomes if o.term == "short" and o.leads_to}
    mid = total - header - body / 2
    for c in range(n - 1):
        left, right = columns[c][0], columns[c + 1][0]
        x0 = 0.1 + c * (col_width + ARROW_GAP) + col_width
        if (left, right) == ("short", "long") and links:
            pairs = [(a, b) for a, targets in links.items() for b in targets]
            starts = _spread(pairs, anchors, end=0)
            ends = _spread(pairs, anchors, end=1)
            for pair in pairs:
                source, target = pair
                arrow(
                    (anchors[source][1], starts[pair]),
                    (anchors[target][0], ends[pair]),
                    f"toc-arrow-{source}-{target}",
                )
        else:
            arrow((x0, mid), (x0 + ARROW_GAP, mid), f"toc-arrow-{left}-{right}")
    return fig


def _spread(
    pairs: list[tuple[str, str]], anchors: dict[str, tuple[float, float, float, float]], *, end: int
) -> dict[tuple[str, str], float]:
    """Where each arrow of `pairs` leaves its source (`end` 0) or meets its target (1), in y.

    The arrows at one box are spread over the middle of its side, in the order of the boxes
    at their other ends (top first), so that they neither cross nor meet in one point.
    """
    other = 1 - end
    at: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        at.setdefault(pair[end], []).append(pair)
    out = {}
    for key, group in at.items():
        group.sort(key=lambda pair: -anchors[pair[other]][3])
        y0, y1 = anchors[key][2], anchors[key][3]
        span = (y1 - y0) * 0.5
        for k, pair in enumerate(group):
            share = 0.5 if len(group) == 1 else 1 - k / (len(group) - 1)
            out[pair] = y0 + (y1 - y0 - span) / 2 + share * span
    return out


def figure_image(figure: Figure, *, dpi: int = 200) -> Any:
    """`figure` as a PNG image for display in a notebook (and so in the report), then closed.

    The theory of change is not numbered like the analyses' figures (it opens the report,
    before their numbering starts).
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return Image(data=buffer.getvalue(), format="png")
