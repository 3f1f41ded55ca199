"""The report figures' panels (:mod:`evaltools.report.axes`), issue 14: no minor ticks while
an axis has no minor locator, and every panel drawn exactly as matplotlib's own Axes."""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
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
