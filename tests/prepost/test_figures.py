"""Figures of the pre/post report: panels, number formats, suppression, colours, saving."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from evaltools.errors import DataError
from evaltools.params.models import PrePost, Scale
from evaltools.prepost.analysis import analyse_prepost
from evaltools.prepost.figures import (
    before_after_figure,
    caption,
    group_figure,
    progression_figure,
    trajectory_figure,
)
from evaltools.prepost.result import PrePostResult
from evaltools.report.i18n import text
from evaltools.report.style import number_formatter, semantic_colours

PALETTE = ["#0B6E4F", "#B23A48", "#2F4B7C", "#E3A33B"]
SCALES = [
    Scale(name="anxiety_depression", label={"da": "Angst/depression", "en": "Anxiety/depression"},
          score="ad", range=(1, 4), higher_is_better=False, reliability=0.89),
    Scale(name="economic_stress", label={"da": "Økonomisk stress", "en": "Economic stress"},
          score="es", range=(1, 100), higher_is_better=False),
    Scale(name="independence",
          label={"da": "Uafhængighed af ekspartner", "en": "Independence from ex-partner"},
          score="in", range=(1, 4), higher_is_better=True),
]  # fmt: skip


def result_of(*, scales, language, min_cell_size=5, **frames) -> PrePostResult:
    """A PrePostResult holding the given frames (the others empty), as the tables take it."""
    empty = {k: pd.DataFrame() for k in ("table", "trajectories", "attrition", "occasion_counts")}
    return PrePostResult(
        **{**empty, **frames}, scales=tuple(scales), language=language, min_cell_size=min_cell_size
    )


def change(scale, group=None, value=None, *, n=40, pre=2.2, post=1.9, ci=(-0.4, -0.2),
           shares=(0.71, 0.25, 0.04), hidden=False):  # fmt: skip
    row = {
        "scale": scale, "group_var": group, "group_value": value, "n_paired": n,
        "mean_pre": pre, "mean_post": post, "mean_change": post - pre, "ci_low": ci[0],
        "ci_high": ci[1], "share_improved": shares[0], "share_unchanged": shares[1],
        "share_deteriorated": shares[2], "suppressed": hidden,
    }  # fmt: skip
    if hidden:
        row.update(n_paired=pd.NA, mean_pre=np.nan, mean_post=np.nan, mean_change=np.nan,
                   ci_low=np.nan, ci_high=np.nan, share_improved=np.nan,
                   share_unchanged=np.nan, share_deteriorated=np.nan)  # fmt: skip
    return row


def make_table() -> pd.DataFrame:
    rows = [
        change("anxiety_depression"),
        change("anxiety_depression", "phase", 1, pre=2.3, post=1.9, ci=(-0.6, -0.2)),
        change("anxiety_depression", "phase", 2, pre=2.1, post=1.95, ci=(-0.35, 0.05)),
        change("economic_stress", pre=60, post=50, ci=(-14, -6), shares=(0.5, 0.4, 0.1)),
        change("economic_stress", "phase", 1, pre=61, post=52, ci=(-15, -3)),
        change("economic_stress", "phase", 2, hidden=True),
        change("independence", hidden=True),
        change("independence", "phase", 1, pre=2.5, post=3.1, ci=(0.3, 0.9)),
        change("independence", "phase", 2, hidden=True),
    ]
    table = pd.DataFrame(rows)
    table[["group_var", "group_value"]] = table[["group_var", "group_value"]].astype(object)
    table["n_paired"] = table["n_paired"].astype("Int64")
    return table


def make_trajectories() -> pd.DataFrame:
    rows = []
    for scale, means in (("anxiety_depression", [2.2, 2.05, 1.95, 1.9]),
                         ("economic_stress", [60, 55, 52, 50]),
                         ("independence", [2.5, 2.8, 3.0, 3.1])):  # fmt: skip
        for k, mean in enumerate(means, start=1):
            hidden = scale == "independence" and k == 4
            rows.append({
                "scale": scale, "group_var": None, "group_value": None, "occasion": k,
                "n": pd.NA if hidden else 60 - 8 * k, "mean": np.nan if hidden else mean,
                "sd": 0.5, "ci_low": np.nan if hidden else mean * 0.95,
                "ci_high": np.nan if hidden else mean * 1.05, "suppressed": hidden,
            })  # fmt: skip
    table = pd.DataFrame(rows)
    table["n"] = table["n"].astype("Int64")
    return table


def draw(fig: Figure) -> bytes:
    """Render `fig` to PNG bytes (this also lays out the tick labels)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    return buffer.getvalue()


def tick_texts(ax, axis: str = "y") -> list[str]:
    """The tick labels shown (those within the axis' view limits)."""
    which = ax.yaxis if axis == "y" else ax.xaxis
    low, high = sorted(which.get_view_interval())
    return [
        label.get_text()
        for tick, label in zip(which.get_majorticklocs(), which.get_ticklabels(), strict=True)
        if low - 1e-9 <= tick <= high + 1e-9 and label.get_text()
    ]


def points(ax) -> int:
    """The number of plotted estimates (markers), not counting reference lines."""
    return sum(len(line.get_xdata()) for line in ax.get_lines() if line.get_marker() == "o")


def all_texts(fig: Figure) -> str:
    """The figure's texts, no-break spaces read as spaces (notes keep "95 %" together)."""
    texts = (t.get_text() for t in fig.findobj(matplotlib.text.Text))
    return "\n".join(texts).replace("\u00a0", " ")


# --------------------------------------------------------------------------- formatter


def formatted(ticks, language, *, percent=False) -> list[str]:
    ax = Figure().subplots()
    ax.set_xlim(min(ticks), max(ticks))
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(number_formatter(language, percent=percent))
    return ax.xaxis.get_major_formatter().format_ticks(ticks)


def test_number_formatter_uses_the_languages_decimal_mark():
    # a value between the ticks gets the decimals it needs (e.g. a cursor readout)
    assert number_formatter("da").format_ticks([0, 1, 2]) == ["0", "1", "2"]
    between = number_formatter("da")
    between.set_locs([0, 1, 2])
    assert between(1.25) == "1,25"

    # decimals follow the tick spacing, so that 0 reads 0,0 beside 0,5
    assert formatted([0.0, 0.5, 1.0, 1.5], "da") == ["0,0", "0,5", "1,0", "1,5"]
    assert formatted([0.0, 0.5, 1.0, 1.5], "en") == ["0.0", "0.5", "1.0", "1.5"]
    assert formatted([-0.4, -0.2, 0.0], "da") == ["−0,4", "−0,2", "0,0"]
    assert formatted([0, 20, 40], "da") == ["0", "20", "40"]
    assert formatted([0, 1000, 2000], "da") == ["0", "1.000", "2.000"]
    assert formatted([0, 0.2, 0.4], "da", percent=True) == ["0 %", "20 %", "40 %"]
    assert formatted([0, 0.25, 0.5], "en", percent=True) == ["0%", "25%", "50%"]
    assert number_formatter("da")(0.5) == "0,5"  # without an axis


# --------------------------------------------------------------------------- figures


def test_before_after_has_one_panel_per_scale_and_hides_suppressed_scale():
    fig = before_after_figure(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5),
        palette=PALETTE,
    )
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    assert tuple(fig.get_size_inches()) == (8.0, 4.5)
    anxiety, stress, independence = fig.axes
    assert anxiety.get_ylim()[0] < 1 < 4 < anxiety.get_ylim()[1]  # the scale's own range
    assert stress.get_ylim()[1] > 100
    (line,) = anxiety.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [2.2, 1.9])
    assert independence.get_lines() == []  # suppressed: nothing drawn
    assert text("prepost_fig_panel_hidden", "da") in all_texts(fig)
    assert "færre end 5 klienter: Uafhængighed af ekspartner" in all_texts(fig)
    assert "2,20" in all_texts(fig) and "2.20" not in all_texts(fig)
    draw(fig)
    assert tick_texts(anxiety, "x") == ["Før", "Efter"]
    assert tick_texts(stress) == ["0", "20", "40", "60", "80", "100"]


def test_before_after_by_phase_draws_one_line_per_visible_group():
    fig = before_after_figure(
        result_of(table=make_table(), scales=SCALES, language="en"), palette=PALETTE, by="phase"
    )
    anxiety, stress, independence = fig.axes
    assert len(anxiety.get_lines()) == 2
    assert len(stress.get_lines()) == 1  # phase 2 hidden
    assert len(independence.get_lines()) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Phase 1", "Phase 2"]
    assert [to_hex(line.get_color()) for line in anxiety.get_lines()] == [
        PALETTE[0].lower(), PALETTE[2].lower(),
    ]  # fmt: skip
    assert "Economic stress (Phase 2)" in all_texts(fig)


def test_before_after_interval_shows_even_when_shorter_than_the_dot():
    """A confidence interval shorter than the 'after' dot (common: 0.1 points on a 1-4 scale)
    must still show: it is drawn over the dot, which is white inside, and the note that
    describes it is there only when an interval is drawn."""
    narrow = change("anxiety_depression", pre=2.23, post=1.88, ci=(-0.40, -0.30))
    fig = before_after_figure(
        result_of(table=pd.DataFrame([narrow]), scales=SCALES, language="da"), palette=PALETTE
    )
    (ax,) = fig.axes
    (dot,) = ax.get_lines()
    opening, whisker = ax.collections  # the white inside of the dot, then the interval
    assert to_hex(opening.get_facecolor()[0]) == "#ffffff"
    np.testing.assert_allclose(opening.get_offsets(), [[1.0, 1.88]])
    assert dot.get_zorder() < opening.get_zorder() < whisker.get_zorder()
    np.testing.assert_allclose(whisker.get_segments()[0], [[1.0, 1.83], [1.0, 1.93]])
    note = text("prepost_fig_note_change_ci", "da")
    assert note in all_texts(fig) and "åbne punkt" in note

    no_interval = {**narrow, "ci_low": np.nan, "ci_high": np.nan}
    fig = before_after_figure(
        result_of(table=pd.DataFrame([no_interval]), scales=SCALES, language="da"),
        palette=PALETTE,
    )
    assert len(fig.axes[0].collections) == 0
    assert note not in all_texts(fig)


def test_progression_bars_have_the_tables_shares_and_semantic_colours():
    fig = progression_figure(
        result_of(table=make_table(), scales=SCALES, language="da"), palette=PALETTE
    )
    assert len(fig.axes) == 1
    (ax,) = fig.axes
    bars = [p for p in ax.patches if p.get_width() > 0]
    first = [p for p in bars if abs(p.get_y() + p.get_height() / 2) < 1e-9]
    np.testing.assert_allclose([p.get_width() for p in first], [0.71, 0.25, 0.04])
    assert [to_hex(p.get_facecolor()) for p in first] == [
        PALETTE[0].lower(), "#c9c9c9", PALETTE[1].lower(),
    ]  # fmt: skip
    assert not [p for p in bars if abs(p.get_y() + p.get_height() / 2 - 2) < 1e-9]  # hidden
    texts = all_texts(fig)
    assert {"71 %", "25 %", "4 %", "50 %", "40 %", "10 %"} <= set(texts.split("\n"))
    assert "Ikke vist: for få klienter" in texts
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Forbedret", "Uændret", "Forværret",
    ]  # fmt: skip
    draw(fig)
    assert tick_texts(ax, "x") == ["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"]
    english = progression_figure(
        result_of(table=make_table(), scales=SCALES, language="en"), palette=PALETTE
    )
    draw(english)
    assert tick_texts(english.axes[0], "x")[1] == "20%"
    assert "71%" in all_texts(english).split("\n")


def test_trajectory_leaves_out_suppressed_occasions():
    fig = trajectory_figure(
        result_of(trajectories=make_trajectories(), scales=SCALES, language="da", min_cell_size=5),
        palette=PALETTE,
    )
    assert len(fig.axes) == 3
    independence = fig.axes[2]
    (line,) = independence.get_lines()
    ydata = np.asarray(line.get_ydata(), dtype=float)
    np.testing.assert_allclose(ydata[np.isfinite(ydata)], [2.5, 2.8, 3.0])
    assert np.isnan(ydata[3])
    assert "Uafhængighed af ekspartner (måling 4)" in all_texts(fig)
    draw(fig)
    assert tick_texts(fig.axes[0], "x") == ["1\n(52)", "2\n(44)", "3\n(36)", "4\n(28)"]
    assert tick_texts(independence, "x")[3] == "4"  # no count under a hidden occasion
    assert fig.axes[0].get_xlabel() == "Måling"


def test_group_figure_uses_decimal_comma_in_danish_and_skips_hidden_groups():
    fig = group_figure(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5),
        by="phase",
        palette=PALETTE,
    )
    assert len(fig.axes) == 3
    draw(fig)
    anxiety, stress, independence = fig.axes
    ticks = tick_texts(anxiety, "x")
    assert any("," in t for t in ticks) and not any("." in t for t in ticks)
    assert tick_texts(anxiety) == ["Fase 1", "Fase 2", "Alle klienter"]
    assert points(anxiety) == 3
    assert points(stress) == 2  # phase 2 hidden
    assert points(independence) == 1  # only phase 1
    assert anxiety.get_xlabel() == text("prepost_fig_change_axis", "da")
    assert "−0,30" in all_texts(fig)
    english = group_figure(
        result_of(table=make_table(), scales=SCALES, language="en"), by="phase", palette=PALETTE
    )
    draw(english)
    ticks = tick_texts(english.axes[0], "x")
    assert any("." in t for t in ticks) and not any("," in t for t in ticks)


def test_group_figure_makes_no_y_ticks_where_nothing_of_them_is_drawn():
    fig = group_figure(
        result_of(table=make_table(), scales=SCALES, language="da"), by="phase", palette=PALETTE
    )
    draw(fig)
    first, *inner = fig.axes  # one row: the first panel names the groups, the others share it
    assert len(first.yaxis._update_ticks()) == 3
    for ax in inner:
        # no label (shared), no mark, no grid line: matplotlib makes and places none of them
        assert ax.yaxis._update_ticks() == []
        assert len(ax.yaxis.majorTicks) == 1  # matplotlib's first tick only, not one a group


def test_png_is_written_and_pyplot_is_left_alone(tmp_path):
    before = plt.get_fignums()
    figures = [
        before_after_figure(
            result_of(table=make_table(), scales=SCALES, language="da"), palette=PALETTE
        ),
        progression_figure(
            result_of(table=make_table(), scales=SCALES, language="da"), palette=PALETTE
        ),
        trajectory_figure(
            result_of(trajectories=make_trajectories(), scales=SCALES, language="da"),
            palette=PALETTE,
        ),
        group_figure(
            result_of(table=make_table(), scales=SCALES, language="da"), by="phase", palette=PALETTE
        ),
    ]
    for i, fig in enumerate(figures):
        path = tmp_path / f"figure_{i}.png"
        fig.savefig(path, dpi=100)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000
    assert plt.get_fignums() == before


def test_report_png_keeps_text_wider_than_the_figure_and_has_no_metadata():
    from PIL import Image

    from evaltools.report.notebook import png_bytes

    # a narrow constrained-layout figure whose axis label is wider than the figure: the
    # layout can't shrink it, so the image must widen instead of cutting the label off
    fig = Figure(figsize=(3, 2), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("Absolut standardiseret forskel i gennemsnit mellem grupperne, før og efter")
    image = Image.open(io.BytesIO(png_bytes(fig, dpi=80)))
    assert image.width > 3 * 80
    assert not image.text  # no Software or other text chunks


def test_semantic_colours_from_a_list_or_a_brand_mapping():
    assert semantic_colours(PALETTE)["good"] == PALETTE[0]
    assert semantic_colours(PALETTE)["bad"] == PALETTE[1]
    brand = semantic_colours({"success": "#00AA00", "danger": "#AA0000", "series": ["#123456"]})
    assert (brand["good"], brand["bad"], brand["series"]) == ("#00AA00", "#AA0000", ["#123456"])
    with pytest.raises(ValueError, match="notacolour"):
        semantic_colours(["notacolour"])


def test_caption_and_bad_options():
    assert caption("group", "da", group="fase") == (
        "Gennemsnitlig ændring pr. fase med 95 %-konfidensinterval."
    )
    with pytest.raises(ValueError, match=r"`key` must be one of"):
        caption("pie", "da")
    with pytest.raises(ValueError, match=r"`language` must be one of \{'da', 'en'\}, got 'no'"):
        before_after_figure(
            result_of(table=make_table(), scales=SCALES, language="no"), palette=PALETTE
        )
    with pytest.raises(ValueError, match=r"`by` must be one of \{'phase'\} or None, got 'x'"):
        group_figure(
            result_of(table=make_table(), scales=SCALES, language="da"), by="x", palette=PALETTE
        )


def test_a_scale_with_two_rows_in_one_group_is_refused():
    table = pd.concat([make_table(), pd.DataFrame([change("economic_stress")])], ignore_index=True)
    result = result_of(table=table, scales=SCALES, language="da")
    with pytest.raises(DataError, match="2 rows for scale 'economic_stress' in one group"):
        before_after_figure(result, palette=PALETTE)
    with pytest.raises(DataError, match="2 rows for scale 'economic_stress' in one group"):
        group_figure(result, by="phase", palette=PALETTE)


def _trajectories_hidden(reason: str) -> PrePostResult:
    """make_trajectories() with every occasion of 'independence' hidden for `reason`."""
    table = make_trajectories()
    mine = table["scale"] == "independence"
    table.loc[mine, ["mean", "ci_low", "ci_high"]] = np.nan
    table.loc[mine, "n"] = pd.NA
    table.loc[mine, "suppressed"] = True
    reasons = pd.DataFrame({"n": [reason if m else None for m in mine]}, index=table.index)
    return PrePostResult(
        table=pd.DataFrame(), trajectories=table, attrition=pd.DataFrame(),
        occasion_counts=pd.DataFrame(), scales=tuple(SCALES), language="da",
        min_cell_size=5, _hidden={"trajectories": reasons},
    )  # fmt: skip


def test_a_trajectory_panel_hidden_as_a_complement_does_not_say_too_few_clients():
    # A panel whose points are hidden only so that another, small number can't be worked
    # out has enough clients: it must not claim there are too few (first seen on a report of
    # two measurements without groups, where four of six panels said so).
    complement = all_texts(
        trajectory_figure(_trajectories_hidden("complementary"), palette=PALETTE)
    )
    assert text("prepost_fig_panel_hidden", "da") not in complement
    assert text("prepost_fig_panel_hidden_complement", "da") in complement
    small = all_texts(trajectory_figure(_trajectories_hidden("primary"), palette=PALETTE))
    assert text("prepost_fig_panel_hidden", "da") in small
    assert text("prepost_fig_panel_hidden_complement", "da") not in small


def _two_departments(step: float = 1.0, language: str = "en") -> PrePostResult:
    """33 clients measured twice, 30 in department A and 3 in B, through analyse_prepost: B's
    rows are hidden as small, and A's (30 clients) as complements, since A = all 33 - B.
    The scores change by about 5-7 points times `step` (negative: they fall)."""
    scale = {"name": "sc", "label": "Score", "score": "sc", "range": [0, 100],
             "higher_is_better": True, "reliability": 0.8}  # fmt: skip
    spec = PrePost.model_validate(
        {"data": "unused.csv", "groups": ["dept"], "compare": ["first", "last"], "scales": [scale]}
    )
    rows = [
        {"client_id": f"c{i:02d}", "measurement": k, "dept": "A" if i < 30 else "B",
         "sc": 40.0 + i % 7 + step * (5 + i % 3) * (k - 1)}
        for i in range(33) for k in (1, 2)
    ]  # fmt: skip
    return analyse_prepost(pd.DataFrame(rows), spec=spec, language=language)


def _notes(fig: Figure, start: str = "Not shown") -> list[str]:
    """The figure's notes on hidden points (each begins with `start`), each as one line:
    finish() wraps them, and they are joined again here."""
    notes = fig.get_supxlabel().replace("\n", " ")
    return [start + n for n in notes.split(start)[1:]]


def test_a_group_hidden_as_a_complement_is_not_said_to_have_too_few_clients():
    # The before/after and group figures hid every hidden change-table row as "fewer than 5
    # clients", also department A's 30 clients, hidden only so that B's 3 can't be worked
    # out; the change table shows A as "–", not "< 5". Seen reading the figures' rule against
    # the trajectory figure's (which says why) on a two-measurement report.
    result = _two_departments()
    reasons = result.hidden_counts("table")["n_paired"].tolist()
    assert reasons == [None, "complementary", "primary"]  # all, A, B: the premise
    small_note = text("prepost_fig_hidden_n", "en", items="Score (B)", min=5)
    for fig in (
        before_after_figure(result, by="dept", palette=PALETTE),
        group_figure(result, by="dept", palette=PALETTE),
    ):
        notes = [note.strip() for note in _notes(fig)]
        assert notes[0] == small_note  # was "...fewer than 5 clients: Score (A), Score (B)."
        assert len(notes) == 2 and "can't be worked out" in notes[1]
        assert notes[1].endswith("Score (A).")
    # (a point's note may be wrapped onto two lines)
    texts = all_texts(group_figure(result, by="dept", palette=PALETTE)).replace("\n", " ")
    assert texts.count(text("prepost_fig_point_hidden", "en")) == 1  # B only
    assert texts.count(text("prepost_fig_point_hidden_complement", "en")) == 1  # A


def test_a_bar_hidden_as_a_complement_is_not_said_to_have_too_few_clients():
    table = make_table()
    reasons = pd.DataFrame(
        {"n_paired": ["complementary" if s == "independence" and pd.isna(g) else None
                      for s, g in zip(table["scale"], table["group_var"], strict=True)]},
        index=table.index,
    )  # fmt: skip
    result = PrePostResult(
        table=table, trajectories=pd.DataFrame(), attrition=pd.DataFrame(),
        occasion_counts=pd.DataFrame(), scales=tuple(SCALES), language="da",
        min_cell_size=5, _hidden={"table": reasons},
    )  # fmt: skip
    fig = progression_figure(result, palette=PALETTE)
    texts = all_texts(fig)
    assert text("prepost_fig_bar_hidden", "da") not in texts
    assert text("prepost_fig_bar_hidden_complement", "da") in texts
    (note,) = _notes(fig, "Ikke vist")
    assert note.strip() == text(
        "prepost_fig_hidden_complement", "da", items="Uafhængighed af ekspartner", min=5
    )


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("step", [1.0, -1.0])
def test_a_hidden_group_says_why_inside_its_panel(step, language):
    # The group figure wrote "not shown (confidentiality)" / "too few clients" from the zero
    # line rightwards; where every change is negative, the zero line is the panel's right
    # edge, and the words ran out of the panel towards the next one. Seen on the department
    # figure of a report with departments of 30 and 3 clients (Danish and English).
    fig = group_figure(_two_departments(step, language), by="dept", palette=PALETTE)
    notes = {text(f"prepost_fig_point_hidden{k}", language) for k in ("", "_complement")}
    renderer = FigureCanvasAgg(fig).get_renderer()
    (ax,) = fig.axes
    box = ax.get_window_extent(renderer)
    labels = [t for t in ax.texts if " ".join(t.get_text().split()) in notes]
    assert len(labels) == 2  # department A (a complement) and B (small)
    for label in labels:
        extent = label.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, label.get_text()
