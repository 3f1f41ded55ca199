"""The report figures' layout: matplotlib's constrained layout, in one pass where one suffices.

Constrained layout measures every panel's decorations (tick labels, titles, axis labels) and
solves for the panels' places; matplotlib does that twice, because the first move can change
the decorations (an automatic tick locator picks more ticks on a taller axis). When every
axis of a figure has ticks that do not depend on its size (fixed positions, or a
:class:`~matplotlib.ticker.MaxNLocator` with a fixed number of bins, as the report figures
set them), the second pass measures the same decorations and lands on the same places: it is
skipped. Measuring is most of a figure's layout time, and the layout was a third of drawing it.
For such a figure, :func:`ticks_worked_out_once` also lets each axis work its ticks out once
per drawing instead of each time matplotlib measures or draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from matplotlib import _constrained_layout as constrained
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

from evaltools.report.axes import ReportAxes


class ReportLayout(ConstrainedLayoutEngine):
    """Constrained layout; one pass when no axis's ticks depend on its size (else two).

    `laid_out` is the figure it last laid out in one pass with every panel placed (then the
    outermost decorations lie at the padding, ``w_pad`` and ``h_pad``, from the figure's
    edges), None when it last handed a figure to matplotlib's layout.
    """

    laid_out: Figure | None = None

    def execute(self, fig: Figure) -> object:
        """Place the panels of `fig`; the layout grids (matplotlib's, for debugging)."""
        self.laid_out = None
        if not size_independent(fig):
            return super().execute(fig)
        width, height = fig.get_size_inches()
        params = self.get()
        h_pad, w_pad = params["h_pad"] / height, params["w_pad"] / width
        hspace, wspace = params["hspace"], params["wspace"]
        renderer = fig._get_renderer()
        # matplotlib 3.11's do_constrained_layout with its loop run once
        grids = constrained.make_layoutgrids(fig, None, rect=params["rect"])
        if not grids["hasgrids"]:
            return super().execute(fig)  # matplotlib warns
        margins = {"h_pad": h_pad, "w_pad": w_pad}
        constrained.make_layout_margins(
            grids, fig, renderer, hspace=hspace, wspace=wspace, **margins
        )
        constrained.make_margin_suptitles(grids, fig, renderer, **margins)
        constrained.match_submerged_margins(grids, fig)
        grids[fig].update_variables()
        if not constrained.check_no_collapsed_axes(grids, fig):
            return super().execute(fig)  # matplotlib warns that it can't lay the figure out
        constrained.reposition_axes(grids, fig, renderer, hspace=hspace, wspace=wspace, **margins)
        constrained.reset_margins(grids, fig)
        self.laid_out = fig
        return grids


def size_independent(fig: Figure) -> bool:
    """Whether no decoration of `fig` changes with its panels' size: every axis has ticks at
    fixed places or a fixed number of bins, every panel a free aspect, and no text wraps."""
    for ax in fig.get_children():
        if not hasattr(ax, "xaxis"):
            if getattr(ax, "get_wrap", lambda: False)():
                return False
            continue
        if ax.get_aspect() != "auto" or any(t.get_wrap() for t in ax.texts):
            return False
        if not all(_fixed_ticks(axis) for axis in (ax.xaxis, ax.yaxis)):
            return False
    return True


def _fixed_ticks(axis: Axis) -> bool:
    for locator in (axis.get_major_locator(), axis.get_minor_locator()):
        if isinstance(locator, MaxNLocator):
            if locator._nbins == "auto":  # as many as fit: depends on the axis' length
                return False
        elif not isinstance(locator, FixedLocator | NullLocator):
            return False
    return True


@contextmanager
def ticks_worked_out_once(fig: Figure) -> Iterator[None]:
    """While drawing `fig` (its layout, drawing and tight box), each axis works its ticks out
    once, when no decoration of it depends on its panels' size (:func:`size_independent`).

    Matplotlib works an axis's ticks out (locator, formatter, tick positions and labels) each
    time it measures or draws the axis, its spines or a panel's title: about fifteen times per
    axis and drawing, with the same answer every time, since nothing sets limits or ticks while
    a figure is drawn and such ticks don't follow the panels' places. Without that guarantee the
    figure is drawn as matplotlib draws it.
    """
    if not size_independent(fig):
        yield
        return
    axes = [axis for ax in fig.axes for axis in ax._axis_map.values()]
    for axis in axes:
        axis._update_ticks = _once(axis._update_ticks)  # shadows the method on this axis only
        axis._get_ticklabel_bboxes = _boxes_once(axis)
    try:
        yield
    finally:
        for axis in axes:
            del axis._update_ticks, axis._get_ticklabel_bboxes


def _once(update: Callable[[], list]) -> Callable[[], list]:
    """`update` (an axis's ``_update_ticks``) run at its first call; later calls answer with
    a copy of the ticks to draw that it returned."""
    done: list[list] = []

    def update_once() -> list:
        if not done:
            done.append(update())
        return list(done[0])

    return update_once


def _boxes_once(axis: Axis) -> Callable[[list, Any], tuple[list, list]]:
    """`axis`'s ``_get_ticklabel_bboxes`` (matplotlib 3.11), measured once per place of its
    panel: matplotlib measures an axis's tick labels four times or more a drawing (the
    layout, the label's and the title's places, the drawing), each time where the last left
    them, since the ticks are worked out once (:func:`_once`) and only the layout moves the
    panel. The memo is keyed by the ticks, the renderer, the dpi and the panel's place."""
    measure = type(axis)._get_ticklabel_bboxes
    memo: dict[tuple, tuple[list, list]] = {}

    def boxes_once(ticks: list, renderer: Any) -> tuple[list, list]:
        figure = axis.get_figure(root=True)
        place = axis.axes.bbox.bounds
        key = (tuple(map(id, ticks)), id(renderer), figure.dpi, place)
        if key not in memo:
            memo[key] = measure(axis, ticks, renderer)
        first, second = memo[key]
        return list(first), list(second)

    return boxes_once


class ReportFigure(Figure):
    """A figure whose panels are :class:`~evaltools.report.axes.ReportAxes` (no minor ticks
    while an axis has no minor locator) unless a projection or an Axes class is asked for."""

    def add_subplot(self, *args: Any, **kwargs: Any) -> Any:
        """As matplotlib's; a plain panel is made as :class:`ReportAxes`."""
        if not {"projection", "polar", "axes_class"} & kwargs.keys():
            kwargs["axes_class"] = ReportAxes
        return super().add_subplot(*args, **kwargs)


def report_figure(width: float, height: float) -> Figure:
    """A figure `width` by `height` inches laid out by :class:`ReportLayout`, its panels
    :class:`~evaltools.report.axes.ReportAxes`."""
    return ReportFigure(figsize=(width, height), layout=ReportLayout())
