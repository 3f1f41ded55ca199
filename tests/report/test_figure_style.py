"""One figure type size across analyses, legends clear of titles (issue 13, item 11).

The register figures used to be 6.4 inches wide with matplotlib's default type, so on the
page (every figure is scaled to the text width) their type was about a quarter larger than
the pre/post figures'; their legends sat inside the panel, over the lines. They now share
the report style (:mod:`evaltools.report.style`): 8 inches wide, the same rc type sizes, the
legend above the panel.
"""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from evaltools.register.figures import effect_figure, trends_figure
from evaltools.report.style import WIDTH, nice_ticks

matplotlib.use("Agg")

PALETTE = ["#1B7F79", "#C4572F", "#2F4B7C"]
TICK_PT = 8.0  # report.style's xtick.labelsize / ytick.labelsize
EFFECT_ROWS = pd.DataFrame(
    {
        "estimator": ["event_study"] * 5 + ["staggered_dynamic"] * 5,
        "event_time": [-2, -1, 0, 1, 2] * 2,
        "estimate": [0.01, 0.0, 0.03, 0.06, 0.1, 0.0, 0.01, 0.02, 0.05, 0.11],
        "ci_low": [-0.02, None, 0.0, 0.02, 0.05, -0.03, -0.02, -0.01, 0.01, 0.06],
        "ci_high": [0.04, None, 0.06, 0.1, 0.15, 0.03, 0.04, 0.05, 0.09, 0.16],
    }
)
TREND_ROWS = pd.DataFrame(
    {
        "group": ["participants"] * 4 + ["comparison"] * 4,
        "event_time": [-2, -1, 0, 1] * 2,
        "mean": [0.17, 0.15, 0.2, 0.25, 0.16, 0.15, 0.14, 0.13],
    }
)


def _figures():
    return {
        "effect": effect_figure(
            EFFECT_ROWS, palette=PALETTE, language="da", label="I uddannelse", percent_points=True
        ),
        "trends": trends_figure(
            TREND_ROWS, palette=PALETTE, language="da", label="I uddannelse", percent=True
        ),
    }


@pytest.mark.parametrize("name", ["effect", "trends"])
def test_register_figures_share_the_report_width_and_type_size(name: str) -> None:
    fig = _figures()[name]
    assert fig.get_figwidth() == pytest.approx(WIDTH)
    ax = fig.axes[0]
    sizes = {t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()}
    assert sizes == {TICK_PT}


@pytest.mark.parametrize("name", ["effect", "trends"])
def test_register_legends_are_above_the_panel_not_over_title_or_lines(name: str) -> None:
    fig = _figures()[name]
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    assert ax.get_legend() is None and len(fig.legends) == 1
    legend = fig.legends[0].get_window_extent(renderer)
    title = ax.title.get_window_extent(renderer)
    panel = ax.get_window_extent(renderer)
    assert not legend.overlaps(title)
    assert not legend.overlaps(panel)


def test_nice_ticks_are_maxnlocators_ticks_within_the_view_and_no_tick_is_made_beyond():
    for low, high in ((0.88, 4.12), (-0.6, 0.05), (0.5, 10.5), (-15.3, 1.2), (0, 1)):
        fig = Figure()
        ax = fig.subplots()
        ax.set_ylim(low, high)
        ax.yaxis.set_major_locator(nice_ticks(6))
        theirs = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
        within = theirs[(theirs >= low - 1e-9) & (theirs <= high + 1e-9)]
        assert list(ax.yaxis.get_major_locator()()) == list(within)
        FigureCanvasAgg(fig).draw()
        assert len(ax.yaxis.majorTicks) == len(within)  # MaxNLocator's two beyond: not made
