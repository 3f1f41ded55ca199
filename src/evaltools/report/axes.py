"""The report figures' panels: matplotlib's Axes, without minor ticks while there are none.

Matplotlib (3.11) gives each axis a first minor tick (five artists, styled and clipped) as
soon as its panel is made, and applies every later ``tick_params`` to it, though an axis
whose minor locator is a :class:`~matplotlib.ticker.NullLocator` (every report figure's)
never draws one: a fifth of a report's ticks, and about a third of the time to make a panel.
Here such an axis starts with no minor tick; it keeps the parameters and the clip for the
first one, made (as matplotlib would have) when the axis gets a minor locator.

Each further tick is styled as the first (``Axis._copy_tick_props``) without deep copies of
its three lines' marker styles (:func:`_markers_shared`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from matplotlib import axis as maxis
from matplotlib import lines as mlines
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.ticker import Locator, NullLocator


class _NoMinorTicksAxis(maxis.Axis):
    """An axis without minor ticks while its minor locator is a NullLocator."""

    _tick_clip: tuple[Any, Any] | None = None

    def reset_ticks(self) -> None:
        """As matplotlib's; with a NullLocator for minor ticks, no first minor tick."""
        super().reset_ticks()
        if isinstance(self.get_minor_locator(), NullLocator):
            self.minorTicks = []  # shadows matplotlib's lazy list until a locator comes

    def set_minor_locator(self, locator: Locator) -> None:
        """As matplotlib's; an axis given minor ticks makes its first minor tick now."""
        super().set_minor_locator(locator)
        self._make_minor_ticks()

    def _get_ticks_position(self) -> Any:
        self._make_minor_ticks()  # a shared axis may have got its minor locator from another
        return super()._get_ticks_position()

    def _make_minor_ticks(self) -> None:
        if self.__dict__.get("minorTicks") == [] and not isinstance(
            self.get_minor_locator(), NullLocator
        ):
            del self.minorTicks
            self.minorTicks  # noqa: B018 (matplotlib's lazy list makes the first tick)

    def set_clip_path(self, path: Any, transform: Any = None) -> None:
        """As matplotlib's ``Axis.set_clip_path``; the clip kept for ticks made later."""
        Artist.set_clip_path(self, path, transform)
        self._tick_clip = (path, transform)
        for tick in self.majorTicks + self.minorTicks:
            tick.set_clip_path(path, transform)
        self.stale = True

    def _get_tick(self, major: bool) -> maxis.Tick:
        tick = super()._get_tick(major)
        if not major and self._tick_clip is not None:
            tick.set_clip_path(*self._tick_clip)  # as set_clip_path would have
        return tick

    def _copy_tick_props(self, src: maxis.Tick | None, dest: maxis.Tick | None) -> None:
        """As matplotlib's, with the marker styles of `src`'s lines shared with `dest`'s."""
        with _markers_shared():
            super()._copy_tick_props(src, dest)


@contextmanager
def _markers_shared() -> Iterator[None]:
    """While it lasts, ``Line2D.update_from`` gives the line its source's marker style, not a
    deep copy of it (matplotlib 3.11 copies it with ``MarkerStyle(marker=other._marker)``):
    a fifth of the time to make a tick, three copies a tick. A marker style is not changed
    in place (``set_marker`` and ``set_fillstyle`` make a new one), so sharing it draws the
    same."""
    made = mlines.MarkerStyle

    def shared(marker: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(marker, made) and not args and not kwargs:
            return marker
        return made(marker, *args, **kwargs)

    mlines.MarkerStyle = shared  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        mlines.MarkerStyle = made  # type: ignore[misc]


class _XAxis(_NoMinorTicksAxis, maxis.XAxis):
    pass


class _YAxis(_NoMinorTicksAxis, maxis.YAxis):
    pass


class ReportAxes(Axes):
    """Axes whose axes have no minor tick while they have no minor locator, and whose titles
    are placed without measuring a y axis that has no offset text again."""

    def _init_axis(self) -> None:
        # matplotlib 3.11's Axes._init_axis, with the axes above
        self.xaxis = _XAxis(self, clear=False)
        self.spines.bottom.register_axis(self.xaxis)
        self.spines.top.register_axis(self.xaxis)
        self.yaxis = _YAxis(self, clear=False)
        self.spines.left.register_axis(self.yaxis)
        self.spines.right.register_axis(self.yaxis)

    def _update_title_position(self, renderer: Any) -> None:
        """As matplotlib's (3.11), which measures each panel's whole y axis (tick labels, label)
        before placing a title, only to update the y axis's offset text ("1e3") that the title
        must clear. A visible y axis whose ticks have no offset text (every report figure's)
        only gets its offset text set, as that measure would set it: the title lands in the
        same place, and the axis label is placed where the axis is measured or drawn anyway.
        """
        figure = self.get_figure(root=False)
        axes = [ax for ax in figure.axes if "get_tightbbox" not in vars(ax.yaxis)]
        for ax in axes:
            ax.yaxis.get_tightbbox = _offset_only(ax.yaxis)  # this axis only, for this call
        try:
            super()._update_title_position(renderer)
        finally:
            for ax in axes:
                del ax.yaxis.get_tightbbox


def _offset_only(axis: maxis.Axis) -> Any:
    """`axis`'s ``get_tightbbox`` as ``Axes._update_title_position`` calls it (matplotlib 3.11):
    without an offset, what it would change (the offset text) and no measure."""
    measure = type(axis).get_tightbbox

    def measured(renderer: Any = None, *, for_layout_only: bool = False) -> Any:
        if not axis.get_visible() or (for_layout_only and not axis.get_in_layout()):
            return None  # as matplotlib's: nothing measured, nothing set
        axis._update_ticks()  # as matplotlib's: the offset follows the ticks
        offset = axis.major.formatter.get_offset()
        if offset:
            return measure(axis, renderer, for_layout_only=for_layout_only)
        axis.offsetText.set_text(offset)
        return None

    return measured
