"""The shared figure style of every report: colours, tick format, layout and notes.

The pre/post, register and portfolio figures are drawn with these helpers, so that they share
one look: :func:`semantic_colours` turns a brand palette into the colours used for meaning,
:func:`number_formatter` writes ticks in the report's language, :func:`figure_style` sets the
matplotlib style, :func:`panels` lays out panels 8 inches wide (:data:`WIDTH`), and
:func:`finish` puts the title at the top left and the notes underneath.

`palette` is either a list of hex colours (the first marks improvement and is the main series
colour, the second marks deterioration, the rest are further series) or a mapping with the
keys ``good``, ``neutral``, ``bad`` and ``series`` (a list), where brand names ``success``
and ``danger`` are accepted for ``good`` and ``bad``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator

from evaltools.choices import LANGUAGES, check_choice
from evaltools.report.i18n import fmt_number, fmt_percent
from evaltools.report.layout import report_figure
from evaltools.report.typography import keep_together

Palette = Sequence[str] | Mapping[str, Any]

DEFAULT_PALETTE: tuple[str, ...] = ("#1B7F79", "#C4572F", "#2F4B7C", "#E3A33B", "#7A5195")

NEUTRAL = "#C9C9C9"

INK = "#262626"

MUTED = "#6B6B6B"

WIDTH = 8.0

#: Small grey text (notes, subtitles).
SMALL: dict[str, Any] = {"fontsize": 7.5, "color": MUTED}

_RC = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 8.5,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#9A9A9A",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.7,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 11.5,
    "figure.titleweight": "bold",
    "text.color": INK,
}


def semantic_colours(palette: Palette) -> dict[str, Any]:
    """The colours used for meaning: ``good``, ``neutral``, ``bad`` and ``series`` (a list).

    Raises ValueError if a colour is not one matplotlib understands.
    """
    if isinstance(palette, Mapping):
        series = [str(c) for c in palette.get("series") or []]
        good = palette.get("good") or palette.get("success") or (series[:1] or [None])[0]
        bad = palette.get("bad") or palette.get("danger") or (series[1:2] or [None])[0]
        good, bad = good or DEFAULT_PALETTE[0], bad or DEFAULT_PALETTE[1]
        neutral = palette.get("neutral") or NEUTRAL
        series = series or [good, *DEFAULT_PALETTE[2:]]
    else:
        colours = [str(c) for c in palette] or list(DEFAULT_PALETTE)
        good = colours[0]
        bad = colours[1] if len(colours) > 1 else DEFAULT_PALETTE[1]
        neutral = NEUTRAL
        series = [good, *(colours[2:] or DEFAULT_PALETTE[2:])]
    for colour in (good, bad, neutral, *series):
        to_rgb(colour)  # raises ValueError naming a bad colour
    return {"good": good, "neutral": neutral, "bad": bad, "series": series}


class _LocaleFormatter(Formatter):
    """Ticks in a language's number format, with as many decimals as the ticks need."""

    def __init__(self, language: str, *, percent: bool) -> None:
        self.language = language
        self.percent = percent
        self._ticks: list[float] = []
        self._decimals: int | None = None

    def set_locs(self, locs: Sequence[float]) -> None:
        self._ticks = list(locs)
        self._decimals = None  # worked out once per set of ticks, not once per tick

    def __call__(self, x: float, pos: int | None = None) -> str:
        scale = 100 if self.percent else 1
        if self._decimals is None:
            self._decimals = _tick_decimals([scale * v for v in self._ticks])
        decimals = max(self._decimals, _tick_decimals([scale * x]))  # same as over x and locs
        if self.percent:
            return fmt_percent(x, self.language, decimals)
        return fmt_number(x, self.language, decimals)


def number_formatter(language: str, *, percent: bool = False) -> Formatter:
    """A tick formatter in the language's number format (Danish ``1,5`` and ``20 %``).

    With `percent`, ticks are shares (0..1) shown as percentages. Decimals follow the tick
    spacing: as few as show every tick exactly.
    """
    check_choice("language", language, LANGUAGES)
    return _LocaleFormatter(language, percent=percent)


def _tick_decimals(locs: Sequence[float]) -> int:
    """The fewest decimals that show every tick location exactly (at most 4)."""
    finite = [float(v) for v in locs if np.isfinite(v)]
    for decimals in range(5):
        if all(abs(round(v, decimals) - v) < 1e-9 * max(1.0, abs(v)) for v in finite):
            return decimals
    return 4


class _InViewLocator(MaxNLocator):
    """A MaxNLocator giving only the locations within the view: MaxNLocator adds one beyond
    each limit (for autoscaling), and matplotlib makes, labels and places a tick (three lines,
    two texts) for each, never drawn."""

    def __call__(self) -> np.ndarray:
        vmin, vmax = sorted(self.axis.get_view_interval())
        locs = self.tick_values(vmin, vmax)
        slack = (vmax - vmin) * 1e-10  # as matplotlib's test of which ticks to draw
        return locs[(locs >= vmin - slack) & (locs <= vmax + slack)]


def nice_ticks(nbins: int) -> MaxNLocator:
    """Ticks at round steps (1, 2, 2.5, 5, 10 times a power of ten), at most `nbins` intervals,
    only those within the axis' limits (the same ticks drawn as MaxNLocator's)."""
    return _InViewLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10])


def ink_on(colour: str) -> str:
    """White or dark text, whichever reads better on `colour`."""
    r, g, b = to_rgb(colour)
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.55 else INK


@contextmanager
def figure_style() -> Iterator[None]:
    # axes_style resets the font family: keep the brand's (set by apply_seaborn_theme)
    fonts = {k: mpl.rcParams[k] for k in ("font.family", "font.sans-serif", "font.serif")}
    with sns.axes_style("ticks", rc=fonts), mpl.rc_context(_RC):
        yield


def panels(n: int, *, sharey: bool = False) -> tuple[Figure, list[Axes]]:
    """A figure 8 inches wide with `n` panels, at most four a row (unused cells removed)."""
    n = max(n, 1)
    ncols = 3 if n in (5, 6) else min(n, 4)
    nrows = math.ceil(n / ncols)
    height = 4.5 if nrows == 1 else 1.2 + 3.1 * nrows
    fig = report_figure(WIDTH, height)
    axes = list(fig.subplots(nrows, ncols, squeeze=False, sharey=sharey).ravel())
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, axes[:n]


def first_column(axes: Sequence[Axes]) -> list[Axes]:
    """The panels at the left edge of each row (they carry the y label)."""
    return [ax for ax in axes if ax.get_subplotspec().is_first_col()]


def finish(fig: Figure, title: str, notes: Sequence[str]) -> None:
    """Title at the top left; notes under the plot area, small and grey (never broken inside
    ``95 %`` or ``n = 104``: :func:`~evaltools.report.typography.keep_together`)."""
    fig.suptitle(title, x=0.01, ha="left")
    lines = [textwrap.fill(keep_together(line), 125) for line in notes if line]
    if lines:
        fig.supxlabel("\n".join(lines), x=0.01, ha="left", fontweight="normal", **SMALL)


def legend(fig: Figure, axes: Sequence[Axes]) -> None:
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(
            list(handles.values()), list(handles), loc="outside upper right",
            ncols=min(len(handles), 5),
        )  # fmt: skip
