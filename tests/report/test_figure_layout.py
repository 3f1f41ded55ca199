"""The report figures' layout (:mod:`evaltools.report.layout`), issue 14: one constrained-layout
pass where the ticks don't depend on the panels' size, lands where matplotlib's two land."""

from __future__ import annotations

import contextlib
import functools
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib import _constrained_layout
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from evaltools.report import layout, notebook
from evaltools.report.layout import ReportLayout, size_independent, ticks_worked_out_once
from evaltools.report.notebook import png_bytes
from evaltools.report.style import finish, panels

LONG = "Uafhængighed af ekspartner og af hele hans familie, målt med et meget langt navn"


def _panels(*, fixed: bool, layout: object) -> Figure:
    fig, axes = panels(6)
    fig.set_layout_engine(layout)
    for i, ax in enumerate(axes):
        ax.plot([0, 1, 2], [1, 3 + i, 2 + 10 * i], "o-")
        ax.set_title(f"{LONG[: 8 + 2 * i]}\n(1-{10**i})", loc="left")
        ax.set_xlabel("Måling")
        if fixed:
            ax.set_xticks([0, 1, 2], ["Før", "Midt", "Efter\n(n = 40)"])
            ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axes[0].set_ylabel("Gennemsnit")
    finish(fig, "Titel", ["En note under figuren, der forklarer linjerne og båndene."])
    return fig


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def _positions(fig: Figure, passes: list[int]) -> np.ndarray:
    calls = len(passes)
    FigureCanvasAgg(fig).draw()
    assert len(passes) > calls  # the layout ran
    return np.array([ax.get_position().bounds for ax in fig.axes])


@pytest.fixture
def passes(monkeypatch) -> list[int]:
    """One entry per measuring pass of constrained layout (ours or matplotlib's)."""
    calls: list[int] = []
    measure = _constrained_layout.make_layout_margins

    def counted(*args, **kwargs):
        calls.append(1)
        return measure(*args, **kwargs)

    monkeypatch.setattr(_constrained_layout, "make_layout_margins", counted)
    return calls


def test_fixed_ticks_take_one_pass_and_land_where_two_passes_do(passes):
    ours = _panels(fixed=True, layout=ReportLayout())
    assert size_independent(ours)
    mine = _positions(ours, passes)
    assert len(passes) == 1
    assert ours.get_layout_engine().laid_out is ours  # png_bytes may crop from the padding
    theirs = _positions(_panels(fixed=True, layout="constrained"), passes)
    assert len(passes) == 3
    # the same places within two pixels at 150 dpi: one pass measures the tick labels at the
    # panels' first places, where the end labels stick out a little more or less (1.1 pixels)
    pixels = np.abs(mine - theirs) * np.tile(ours.get_size_inches() * 150, 2)
    assert pixels.max() < 2


def test_ticks_that_depend_on_the_axis_length_take_matplotlibs_two_passes(passes):
    fig = _panels(fixed=False, layout=ReportLayout())  # AutoLocator: more ticks on longer axes
    assert not size_independent(fig)
    theirs = _positions(_panels(fixed=False, layout="constrained"), passes)
    mine = _positions(fig, passes)
    assert len(passes) == 4
    assert fig.get_layout_engine().laid_out is None  # png_bytes measures the figure
    assert (mine == theirs).all()


def test_one_pass_layout_keeps_panels_apart_and_inside_the_figure(passes):
    fig = _panels(fixed=True, layout=ReportLayout())
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    assert len(passes) == 1
    renderer = canvas.get_renderer()
    figure_box = fig.bbox
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    for i, box in enumerate(boxes):
        # the y tick labels, the two-line titles and tick labels: all inside the figure
        assert box.x0 >= figure_box.x0 and box.y0 >= figure_box.y0
        assert box.x1 <= figure_box.x1 and box.y1 <= figure_box.y1
        for other in boxes[i + 1 :]:
            assert not box.overlaps(other), "panels' decorations overlap"
    for text in (fig._suptitle, fig._supxlabel):
        extent = text.get_window_extent(renderer)
        assert extent.y0 >= 0 and extent.y1 <= figure_box.y1
        assert not any(extent.overlaps(box) for box in boxes)


def test_each_axis_works_its_ticks_out_once_per_drawing_with_the_same_pixels(monkeypatch):
    calls: list[Axis] = []
    update = Axis._update_ticks

    def counted(self: Axis) -> list:
        calls.append(self)
        return update(self)

    monkeypatch.setattr(Axis, "_update_ticks", counted)
    fig = _panels(fixed=True, layout=ReportLayout())
    once = _pixels(png_bytes(fig, dpi=100))
    axes = [axis for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)]
    assert len(calls) == len(axes) and set(calls) == set(axes)  # matplotlib asks ~15 times each
    assert not any("_update_ticks" in vars(axis) for axis in axes)  # free to change after

    calls.clear()
    monkeypatch.setattr(notebook, "ticks_worked_out_once", lambda fig: contextlib.nullcontext())
    plain = _pixels(png_bytes(_panels(fixed=True, layout=ReportLayout()), dpi=100))
    assert len(calls) > 5 * len(axes)
    assert once.shape == plain.shape and (once == plain).all()


def test_ticks_that_depend_on_the_axis_length_are_worked_out_as_matplotlib_does(monkeypatch):
    fig = _panels(fixed=False, layout=ReportLayout())
    with ticks_worked_out_once(fig):
        assert not any("_update_ticks" in vars(ax.xaxis) for ax in fig.axes)


def test_each_axis_measures_its_tick_labels_once_per_place_with_the_same_pixels(monkeypatch):
    calls: list[Axis] = []
    measure = Axis._get_ticklabel_bboxes

    def counted(self: Axis, ticks: list, renderer: object) -> tuple[list, list]:
        calls.append(self)
        return measure(self, ticks, renderer)

    monkeypatch.setattr(Axis, "_get_ticklabel_bboxes", counted)
    fig = _panels(fixed=True, layout=ReportLayout())
    once = _pixels(png_bytes(fig, dpi=100))
    axes = [axis for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)]
    # once at the panels' first places (the layout), once where the layout put them
    assert set(calls) == set(axes) and len(calls) == 2 * len(axes)
    assert not any("_get_ticklabel_bboxes" in vars(axis) for axis in axes)

    calls.clear()
    monkeypatch.setattr(layout, "_boxes_once", lambda axis: functools.partial(counted, axis))
    plain = _pixels(png_bytes(_panels(fixed=True, layout=ReportLayout()), dpi=100))
    assert len(calls) >= 4 * len(axes)  # matplotlib measures them four times or more
    assert once.shape == plain.shape and (once == plain).all()


def test_figure_notes_never_break_inside_a_percentage_or_a_statistic() -> None:
    """A note wrapped at 125 characters keeps "95 %" and "n = 40" on one line: the break
    would fall right after "95" and after "n =" without the no-break spaces."""
    fig = Figure(figsize=(6, 3))
    fig.add_subplot()
    first = "x" * 120 + " 95 %-konfidensinterval."
    second = "y" * 119 + " n = 40 klienter."
    finish(fig, "Titel", [first, second])
    lines = fig.get_supxlabel().split("\n")
    assert lines == [
        "x" * 120,
        "95\u00a0%-konfidensinterval.",
        "y" * 119,
        "n\u00a0=\u00a040 klienter.",
    ]
