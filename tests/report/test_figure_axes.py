"""The report figures' panels (:mod:`evaltools.report.axes`), issue 14: no minor ticks while
an axis has no minor locator, and every panel drawn exactly as matplotlib's own Axes."""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib import lines as mlines
from matplotlib.axes import Axes
from matplotlib.axis import YAxis
from matplotlib.figure import Figure
from matplotlib.markers import MarkerStyle
from matplotlib.ticker import AutoMinorLocator
from PIL import Image

from evaltools.report import layout
from evaltools.report.axes import ReportAxes
from evaltools.report.notebook import png_bytes
from evaltools.report.style import figure_style, finish, panels


def _pixels(fig: Figure) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png_bytes(fig, dpi=80))).convert("RGBA"))


def _report_panels() -> Figure:
    with figure_style():
        fig, axes = panels(5, sharey=True)
        for i, ax in enumerate(axes):
            ax.plot([0, 1, 2], [1, 3 + i, 2 + i], "o-")
            ax.set_title(f"Panel {i + 1}", loc="left")
            ax.set_xticks([0, 1, 2], ["Før", "Midt", "Efter"])
            ax.tick_params(axis="y", length=0)
        finish(fig, "Titel", ["En note."])
    return fig


def _minor_ticks_later() -> Figure:
    with figure_style():
        fig, axes = panels(3)
        axes[0].tick_params(which="minor", length=5, color="red")  # before there are any
        axes[0].xaxis.set_minor_locator(AutoMinorLocator())
        axes[1].set_yscale("log")  # the log scale's minor locator
        axes[1].plot([1, 2, 3], [1, 50, 2000])
        axes[2].minorticks_on()
        axes[2].tick_params(which="minor", width=2)
        for ax in axes:
            ax.set_title("Minor", loc="left")
    return fig


def _as_matplotlib(monkeypatch, make: Callable[[], Figure]) -> np.ndarray:
    monkeypatch.setattr(layout, "ReportAxes", Axes)
    fig = make()
    assert all(type(ax) is Axes for ax in fig.axes)
    return _pixels(fig)


def test_report_panels_make_no_minor_ticks_and_draw_as_matplotlibs_axes(monkeypatch):
    fig = _report_panels()
    assert all(isinstance(ax, ReportAxes) for ax in fig.axes)
    ours = _pixels(fig)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            assert axis.__dict__["minorTicks"] == []  # none made, not even matplotlib's first
            assert axis.get_ticks_position() in ("bottom", "left", "unknown")
    plain = _as_matplotlib(monkeypatch, _report_panels)
    assert ours.shape == plain.shape and (ours == plain).all()


def test_minor_ticks_asked_for_later_are_made_and_drawn_as_matplotlib_draws_them(monkeypatch):
    fig = _minor_ticks_later()
    ours = _pixels(fig)
    for ax in fig.axes:
        assert len(ax.xaxis.minorTicks) + len(ax.yaxis.minorTicks) > 2
    plain = _as_matplotlib(monkeypatch, _minor_ticks_later)
    assert ours.shape == plain.shape and (ours == plain).all()


def test_a_shared_axis_with_another_panels_minor_locator_has_its_minor_ticks():
    with figure_style():
        fig = layout.report_figure(4, 3)
        first, second = fig.subplots(1, 2, sharex=True)
        first.set_xscale("log")  # the shared axis gets the log scale's minor locator
        first.plot([1, 10, 100], [1, 2, 3])
    assert second.xaxis.get_ticks_position() == "bottom"
    _pixels(fig)
    assert len(second.xaxis.minorTicks) > 1


def test_report_axes_init_axis_is_matplotlibs_with_its_own_axis_classes():
    # ReportAxes._init_axis copies matplotlib 3.11's: if an upgrade changes it, copy again
    def body(method: Callable[..., None]) -> list[str]:
        lines = inspect.getsource(method).splitlines()[1:]
        return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]

    theirs = [
        line.replace("maxis.XAxis", "_XAxis").replace("maxis.YAxis", "_YAxis")
        for line in body(Axes._init_axis)
    ]
    assert body(ReportAxes._init_axis) == theirs


def _titled_panels(*, offset: bool) -> Figure:
    with figure_style():
        fig, axes = panels(3)
        for i, ax in enumerate(axes):
            ys = [1e6 + 1, 1e6 + 3 + i, 1e6 + 2] if offset and i == 1 else [1, 3 + i, 2]
            ax.plot([0, 1, 2], ys, "o-")
            ax.set_title(f"Panel {i + 1}\nwith two lines", loc="left", pad=14)
            ax.set_ylabel("Gennemsnit")
            if offset and i == 2:
                ax.yaxis.set_visible(False)
        finish(fig, "Titel", ["En note."])
    return fig


def test_titles_are_placed_without_measuring_y_axes_again_where_they_land_in_matplotlib(
    monkeypatch,
):
    calls: list[object] = []
    measure = YAxis.get_tightbbox

    def counted(self: YAxis, *args: object, **kwargs: object) -> object:
        calls.append(self)
        return measure(self, *args, **kwargs)

    monkeypatch.setattr(YAxis, "get_tightbbox", counted)
    for offset in (False, True):  # with an offset text ("1e6") on one panel, an axis hidden
        calls.clear()
        fig = _titled_panels(offset=offset)
        ours = _pixels(fig)
        ours_calls = len(calls)
        assert not any("get_tightbbox" in vars(ax.yaxis) for ax in fig.axes)
        calls.clear()
        monkeypatch.setattr(ReportAxes, "_update_title_position", Axes._update_title_position)
        plain = _pixels(_titled_panels(offset=offset))
        monkeypatch.undo()
        monkeypatch.setattr(YAxis, "get_tightbbox", counted)
        assert ours.shape == plain.shape and (ours == plain).all()
        assert ours_calls < len(calls) - 5  # matplotlib measures each y axis twice more


def test_matplotlibs_title_placing_measures_the_y_axis_only_for_its_offset_text():
    # ReportAxes._update_title_position relies on matplotlib 3.11's calling the y axis's
    # get_tightbbox only to update the offset text, its answer unused: check on upgrades
    source = inspect.getsource(Axes._update_title_position)
    assert "ax.yaxis.get_tightbbox(renderer)  # update offsetText" in source
    assert source.count("get_tightbbox(renderer)") == 4  # x axis, that call, two offsetText/title


def _ticks_restyled_after_drawing() -> Figure:
    with figure_style():
        fig, axes = panels(2)
        for ax in axes:
            ax.plot([0, 1, 2, 3, 4], [1, 3, 2, 5, 4], "o-")
        _pixels(fig)  # every tick made, styled as the first
        axes[0].tick_params(direction="inout", length=6, width=2)  # new marker styles
        axes[1].yaxis.get_major_ticks()[0].tick1line.set_marker("x")  # one tick's own
        axes[1].set_yticks([1, 2, 3, 4, 5, 6])  # ticks made after that
    return fig


def test_ticks_share_their_first_ticks_marker_styles_and_draw_as_matplotlibs(monkeypatch):
    fig = _ticks_restyled_after_drawing()
    ticks = fig.axes[1].xaxis.get_major_ticks()
    assert len(ticks) > 2 and ticks[2].tick1line._marker is ticks[0].tick1line._marker
    ours = _pixels(fig)
    plain = _as_matplotlib(monkeypatch, _ticks_restyled_after_drawing)
    assert ours.shape == plain.shape and (ours == plain).all()
    assert mlines.MarkerStyle is MarkerStyle  # matplotlib's own again after each copy
