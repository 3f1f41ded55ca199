"""Report tables of the pre/post analysis: number formats, headers, suppression, HTML.

The reference row is Mødrehjælpen's steering group extract ("Ud af voldens skygge", both
departments, Q2 2013) as quoted in /work/shared/DESIGN.md, "The table and the figures users
know": anxiety/depression phase 1 before 2.20, after 1.93, difference -0.28, 71% improved;
PTSD phase 1 2.73, 2.70, -0.03, 36%; independence 2.53, 3.15, 0.62, 87%. The published
difference -0.28 next to 2.20 and 1.93 shows that the means were rounded after subtracting;
the unrounded means below (2.204 and 1.926) reproduce all three numbers.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from evaltools.errors import DataError
from evaltools.params.models import Scale
from evaltools.prepost.labels import group_values, rows_by_scale, scale_label
from evaltools.prepost.result import PrePostResult
from evaltools.prepost.tables import (
    attrition_table,
    occasion_counts_table,
    scale_results_table,
    steering_table,
)
from evaltools.report.i18n import catalogue, text
from evaltools.report.table import fmt_ci

AREA_PSYCH = {"da": "Psykiske eftervirkninger", "en": "Psychological after-effects"}
SCALES = [
    Scale(name="anxiety_depression", label={"da": "Angst/depression", "en": "Anxiety/depression"},
          area=AREA_PSYCH, score="ad", range=(1, 4), higher_is_better=False, reliability=0.89),
    Scale(name="ptsd", label="PTSD", area=AREA_PSYCH, score="pt", range=(1, 4),
          higher_is_better=False),
    Scale(name="economic_stress", label={"da": "Økonomisk stress", "en": "Economic stress"},
          area={"da": "Inklusion", "en": "Inclusion"}, score="es", range=(1, 100),
          higher_is_better=False),
    Scale(name="independence",
          label={"da": "Uafhængighed af ekspartner", "en": "Independence from ex-partner"},
          area={"da": "Uafhængighed", "en": "Independence"}, score="in", range=(1, 4),
          higher_is_better=True),
]  # fmt: skip


def result_of(*, scales, language, min_cell_size=5, **frames) -> PrePostResult:
    """A PrePostResult holding the given frames (the others empty), as the tables take it."""
    empty = {k: pd.DataFrame() for k in ("table", "trajectories", "attrition", "occasion_counts")}
    return PrePostResult(
        **{**empty, **frames}, scales=tuple(scales), language=language, min_cell_size=min_cell_size
    )


STATS = ["mean_pre", "mean_post", "mean_change", "sd_change", "ci_low", "ci_high", "t_stat",
         "p_value", "p_wilcoxon", "d_z", "rci_threshold", "share_improved", "share_unchanged",
         "share_deteriorated"]  # fmt: skip


def change_row(
    scale, group=None, value=None, *, n, pre=np.nan, post=np.nan, ci=(np.nan, np.nan),
    shares=(np.nan,) * 3, p=0.0004, reliability=(0.89, "params"), hidden=False,
):  # fmt: skip
    """One row of PrePostResult.table; a hidden row has NaN statistics and n, as prepost's."""
    row = {
        "scale": scale, "group_var": group, "group_value": value, "from_occasion": "first",
        "to_occasion": "last", "n_paired": n, "mean_pre": pre, "mean_post": post,
        "mean_change": post - pre, "sd_change": 0.45, "ci_low": ci[0], "ci_high": ci[1],
        "t_stat": -4.0, "p_value": p, "p_wilcoxon": p, "d_z": -0.61,
        "reliability": reliability[0], "reliability_source": reliability[1],
        "rci_threshold": 0.52, "n_improved": pd.NA, "n_unchanged": pd.NA,
        "n_deteriorated": pd.NA, "share_improved": shares[0], "share_unchanged": shares[1],
        "share_deteriorated": shares[2], "suppressed": hidden, "note": None,
    }  # fmt: skip
    if hidden:
        row.update({k: np.nan for k in STATS}, n_paired=pd.NA)
    return row


def make_table() -> pd.DataFrame:
    rows = [
        change_row("anxiety_depression", n=45, pre=2.2, post=1.925, ci=(-0.35, -0.21),
                   shares=(0.71, 0.25, 0.04)),
        change_row("anxiety_depression", "phase", 1, n=31, pre=2.204, post=1.926,
                   ci=(-0.40, -0.15), shares=(0.71, 0.25, 0.04)),
        change_row("anxiety_depression", "phase", 2, n=14, pre=2.16, post=1.85, ci=(-0.5, -0.1),
                   shares=(0.71, 0.29, 0.0)),
        change_row("ptsd", n=40, pre=2.73, post=2.53, ci=(-0.30, -0.10), shares=(0.5, 0.4, 0.1),
                   p=0.21, reliability=(0.82, "cronbach_alpha")),
        change_row("ptsd", "phase", 1, n=36, pre=2.73, post=2.70, ci=(-0.2, 0.14),
                   shares=(0.36, 0.5, 0.14)),
        change_row("ptsd", "phase", 2, n=pd.NA, hidden=True),
        change_row("economic_stress", n=1064, pre=50.34, post=54.04, ci=(1.0, 6.4),
                   shares=(0.4, 0.3, 0.3)),
        change_row("economic_stress", "phase", 1, n=1050, pre=50.34, post=54.04, ci=(1.0, 6.4),
                   shares=(0.4, 0.3, 0.3)),
        change_row("economic_stress", "phase", 2, n=14, pre=60, post=59, ci=(-5, 3),
                   shares=(0.6, 0.3, 0.1)),
        change_row("independence", n=pd.NA, hidden=True),
        change_row("independence", "phase", 1, n=15, pre=2.53, post=3.15, ci=(0.3, 0.9),
                   shares=(0.87, 0.13, 0.0)),
        change_row("independence", "phase", 2, n=pd.NA, hidden=True),
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    for column in ("group_var", "group_value", "from_occasion", "to_occasion", "note"):
        table[column] = table[column].astype(object)
    table["n_paired"] = table["n_paired"].astype("Int64")
    return table


PSYCH_DA = "Psykiske eftervirkninger"
ANX_DA = (PSYCH_DA, "Angst/depression (1–4)")
PTSD_DA = (PSYCH_DA, "PTSD (1–4)")
STRESS_DA = ("Inklusion", "Økonomisk stress (1–100)")
IND_DA = ("Uafhængighed", "Uafhængighed af ekspartner (1–4)")
ANX_EN = ("Psychological after-effects", "Anxiety/depression (1–4)")


def values_of(prefix: str, language: str) -> set[str]:
    return {v[language] for k, v in catalogue().items() if k.startswith(prefix)}


class _Cells(HTMLParser):
    """Collects the HTML table's rows as lists of (tag, attributes, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, dict, str]]] = []
        self.caption = ""
        self._cell: list | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = [tag, dict(attrs), ""]
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data
        elif self._in_caption:
            self.caption += data


def parse(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


# --------------------------------------------------------------------------- steering table


def test_steering_table_reproduces_the_published_row_in_danish():
    frame = steering_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5), show_n=False
    ).to_frame()
    assert frame.loc[ANX_DA, ("Fase 1", "Før")] == "2,20"
    assert frame.loc[ANX_DA, ("Fase 1", "Efter")] == "1,93"
    assert frame.loc[ANX_DA, ("Fase 1", "Ændring")] == "−0,28"
    assert frame.loc[ANX_DA, ("Fase 1", "Andel forbedret")] == "71 %"
    assert list(frame.loc[PTSD_DA, "Fase 1"]) == ["2,73", "2,70", "−0,03", "36 %"]
    assert list(frame.loc[IND_DA, "Fase 1"]) == ["2,53", "3,15", "0,62", "87 %"]
    whole = "Hele forløbet, start til slut"
    # issue 13, item 10: the start-to-end block shows before and after too
    assert list(frame.loc[ANX_DA, whole]) == ["2,20", "1,93", "−0,28", "71 %"]  # -0.275 -> -0,28


def test_steering_table_in_english_uses_decimal_point_and_no_space_before_percent():
    frame = steering_table(
        result_of(table=make_table(), scales=SCALES, language="en", min_cell_size=5)
    ).to_frame()
    assert list(frame.loc[ANX_EN, "Phase 1"]) == ["31", "2.20", "1.93", "−0.28", "71%"]
    assert list(frame.loc[ANX_EN, "Whole course, start to end"]) == [
        "45", "2.20", "1.93", "−0.28", "71%",
    ]  # fmt: skip
    assert frame.loc[("Inclusion", "Economic stress (1–100)"), ("Phase 1", "Before")] == "50.3"


def test_rows_are_grouped_by_area_in_the_scales_order_with_ranges():
    frame = steering_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5)
    ).to_frame()
    assert list(frame.index) == [ANX_DA, PTSD_DA, STRESS_DA, IND_DA]
    assert frame.index.names == ["Resultatområde", "Skala (interval)"]


def test_danish_headers_all_come_from_the_danish_catalogue():
    result = steering_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5), show_n=True
    )
    danish, english = values_of("prepost_", "da"), values_of("prepost_", "en")
    headers = {h for _, h in result.columns} | set(result.row_header_names)
    spanners = {s for s, _ in result.columns} - {"Fase 1", "Fase 2"}
    assert headers | spanners <= danish
    assert result.caption == "Før- og eftermålinger pr. fase"
    # nothing English anywhere in the Danish HTML (texts that differ between the languages)
    html = result.to_html()
    leaked = [e for e in english - danish if len(e) > 3 and e in html]
    assert leaked == []
    for word in ("Before", "After", "Change", "Share", "improved", "Phase", "Whole"):
        assert word not in html


def test_scale_results_headers_are_danish_catalogue_texts():
    result = scale_results_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5)
    )
    danish = values_of("prepost_tab_", "da")
    assert {h for _, h in result.columns} <= danish
    assert {s for s, _ in result.columns} - {""} <= danish
    html = result.to_html()
    for english in values_of("prepost_tab_", "en") - danish:
        if len(english) > 3:
            assert english not in html


def test_suppressed_cells_show_dash_and_counts_show_below_min():
    result = steering_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5), show_n=True
    )
    frame = result.to_frame()
    assert list(frame.loc[PTSD_DA, "Fase 2"]) == ["< 5", "–", "–", "–", "–"]
    assert list(frame.loc[IND_DA, "Hele forløbet, start til slut"]) == ["< 5", "–", "–", "–", "–"]
    assert frame.loc[ANX_DA, ("Fase 1", "n")] == "31"
    assert frame.loc[STRESS_DA, ("Fase 1", "n")] == "1.050"  # Danish thousands separator
    assert any("færre end 5 klienter" in note for note in result.notes)


def test_min_cell_size_is_shown_and_small_unflagged_cells_are_hidden_too():
    # n = 14 and 15 are below 20: hidden by the second guard although prepost did not flag them
    frame = steering_table(
        result_of(table=make_table(), scales=SCALES, language="en", min_cell_size=20), show_n=True
    ).to_frame()
    ind = ("Independence", "Independence from ex-partner (1–4)")
    assert list(frame.loc[ind, "Phase 1"]) == ["< 20", "–", "–", "–", "–"]
    assert frame.loc[ANX_EN, ("Phase 1", "n")] == "31"


def test_steering_table_without_groups_shows_all_four_columns():
    frame = steering_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5),
        by=None,
        show_n=False,
    )
    frame = frame.to_frame()
    assert list(frame.loc[ANX_DA, "Hele forløbet, start til slut"]) == [
        "2,20", "1,93", "−0,28", "71 %",
    ]  # fmt: skip


def test_group_labels_name_and_order_the_groups():
    labels = {2: "Gruppeforløb", 1: "Rådgivning"}
    result = steering_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5),
        group_labels=labels,
    )
    spanners = list(dict.fromkeys(s for s, _ in result.columns))
    assert spanners == ["Gruppeforløb", "Rådgivning", "Hele forløbet, start til slut"]
    assert group_values(make_table().query("group_var == 'phase'"), labels) == [2, 1]


def test_department_groups_end_with_all_clients():
    table = make_table()
    table.loc[table["group_var"] == "phase", "group_var"] = "department"
    table["group_value"] = table["group_value"].map({1: "Aalborg", 2: "Hjørring"})
    result = steering_table(
        result_of(table=table, scales=SCALES, language="da", min_cell_size=5), by="department"
    )
    spanners = list(dict.fromkeys(s for s, _ in result.columns))
    assert spanners == ["Aalborg", "Hjørring", "Alle klienter"]
    assert result.caption == "Før- og eftermålinger pr. afdeling"


def test_html_has_caption_spanning_headers_and_numeric_classes():
    result = steering_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5)
    )
    parsed = parse(result._repr_html_())
    assert parsed.caption == "Før- og eftermålinger pr. fase"
    top = parsed.rows[0]
    spans = [(cell[2], cell[1].get("colspan")) for cell in top if cell[1].get("colspan")]
    assert spans == [("Fase 1", "5"), ("Fase 2", "5"), ("Hele forløbet, start til slut", "5")]
    body = [row for row in parsed.rows[2:] if any(c[0] == "td" for c in row)]
    body = [row for row in body if not row[0][1].get("colspan")]  # drop the notes row
    assert len(body) == 4
    for row in body:
        cells = [c for c in row if c[0] == "td"]
        assert len(cells) == 15
        assert all("num" in c[1].get("class", "") for c in cells)
    assert body[0][0][1].get("rowspan") == "2"  # the area spans its two scales
    assert "<style>" in result._repr_html_() and "<style>" not in result.to_html()


def test_html_escapes_labels():
    scales = [SCALES[0].model_copy(update={"label": {"da": "A<b>", "en": "A<b>"}})]
    table = make_table().query("scale == 'anxiety_depression'")
    html = steering_table(
        result_of(table=table, scales=scales, language="da", min_cell_size=5)
    ).to_html()
    assert "A&lt;b&gt;" in html and "A<b>" not in html


# --------------------------------------------------------------------------- results table


def test_scale_results_table_formats_ci_p_and_reliability_by_language():
    da = scale_results_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5)
    ).to_frame()
    en = scale_results_table(
        result_of(table=make_table(), scales=SCALES, language="en", min_cell_size=5)
    ).to_frame()
    assert da.loc[ANX_DA, ("", "Ændring (95 %-KI)")] == "−0,28 (−0,35; −0,21)"
    assert en.loc[ANX_EN, ("", "Change (95% CI)")] == "−0.28 (−0.35 to −0.21)"
    assert da.loc[ANX_DA, ("", "p")] == "< 0,001"
    assert da.loc[PTSD_DA, ("", "p")] == "0,210"
    assert da.loc[ANX_DA, ("", "Reliabilitet (kilde)")] == "0,89 (angivet)"
    assert da.loc[PTSD_DA, ("", "Reliabilitet (kilde)")] == "0,82 (Cronbachs α)"
    assert en.loc[ANX_EN, ("", "Reliability (source)")] == "0.89 (specified)"
    assert list(da.loc[ANX_DA, "Andel klienter"]) == ["71 %", "25 %", "4 %"]
    assert list(en.loc[ANX_EN, "Share of clients"]) == ["71%", "25%", "4%"]
    assert da.loc[STRESS_DA, ("", "n")] == "1.064"
    assert en.loc[("Inclusion", "Economic stress (1–100)"), ("", "n")] == "1,064"
    assert list(da.loc[IND_DA]) == ["< 5"] + ["–"] * 10


def test_fmt_ci_and_scale_label():
    assert fmt_ci(0.5, 0.25, 0.75, 2, "da") == "0,50 (0,25; 0,75)"
    assert fmt_ci(0.5, np.nan, 0.75, 2, "en") == "0.50"
    assert fmt_ci(np.nan, 0.1, 0.2, 2, "en") == "–"
    half = Scale(name="x", label="X", score="x", range=(-2.5, 2.5), higher_is_better=True)
    assert scale_label(half, "da") == "X (−2,5–2,5)"
    assert scale_label(SCALES[2], "en") == "Economic stress (1–100)"


# --------------------------------------------------------------------------- attrition, counts


def test_attrition_table_hides_small_parts_and_their_statistics():
    attrition = pd.DataFrame(
        {
            "scale": ["anxiety_depression", "independence"],
            "n_baseline": pd.array([60, 7], dtype="Int64"),
            "n_followup": pd.array([45, pd.NA], dtype="Int64"),
            "n_lost": pd.array([15, pd.NA], dtype="Int64"),
            "mean_baseline_followup": [2.21, np.nan],
            "mean_baseline_lost": [2.35, np.nan],
            "difference": [0.14, np.nan],
            "ci_low": [-0.12, np.nan],
            "ci_high": [0.4, np.nan],
            "p_value": [0.29, np.nan],
            "suppressed": [False, True],
        }
    )
    result = attrition_table(
        result_of(attrition=attrition, scales=SCALES, language="da", min_cell_size=5)
    )
    frame = result.to_frame()
    assert list(frame.loc[ANX_DA]) == ["60", "45", "15", "2,21", "2,35", "0,14 (−0,12; 0,40)",
                                       "0,290"]  # fmt: skip
    assert list(frame.loc[IND_DA]) == ["7", "< 5", "< 5", "–", "–", "–", "–"]
    assert result.caption == text("prepost_tab_attrition_caption", "da")


def test_occasion_counts_table_reads_n_columns_and_hides_small_counts():
    counts = pd.DataFrame(
        {
            "occasion": [1, 2, 3, 4],
            "n_clients": pd.array([1064, 48, 40, pd.NA], dtype="Int64"),
            "n_anxiety_depression": pd.array([1060, 47, 3, pd.NA], dtype="Int64"),
            "n_ptsd": pd.array([1058, 45, 39, 0], dtype="Int64"),
        }
    )
    da = occasion_counts_table(
        result_of(occasion_counts=counts, scales=SCALES, language="da", min_cell_size=5)
    ).to_frame()
    assert list(da.index) == ["Måling 1", "Måling 2", "Måling 3", "Måling 4"]
    assert list(da.loc["Måling 1"]) == ["1.064", "1.060", "1.058"]
    assert list(da.loc["Måling 3"]) == ["40", "< 5", "39"]
    assert list(da.loc["Måling 4"]) == ["< 5", "< 5", "0"]
    en = occasion_counts_table(
        result_of(occasion_counts=counts, scales=SCALES, language="en", min_cell_size=5)
    ).to_frame()
    assert list(en.loc["Measurement 1"]) == ["1,064", "1,060", "1,058"]
    assert list(en.columns.get_level_values(1)) == ["Clients in all", "Anxiety/depression", "PTSD"]


# --------------------------------------------------------------------------- checks


def test_bad_options_are_named():
    table = make_table()
    with pytest.raises(ValueError, match=r"`language` must be one of \{'da', 'en'\}, got 'de'"):
        steering_table(result_of(table=table, scales=SCALES, language="de", min_cell_size=5))
    with pytest.raises(ValueError, match=r"`by` must be one of \{'phase'\} or None, got 'region'"):
        steering_table(
            result_of(table=table, scales=SCALES, language="da", min_cell_size=5), by="region"
        )
    with pytest.raises(ValueError, match="`min_cell_size` must be a whole number >= 1, got 0"):
        scale_results_table(result_of(table=table, scales=SCALES, language="da", min_cell_size=0))
    with pytest.raises(DataError, match=r"scale\(s\) \['ptsd'\] not among the scales"):
        three = [SCALES[0], SCALES[2], SCALES[3]]
        scale_results_table(result_of(table=table, scales=three, language="da"))
    with pytest.raises(DataError, match="lacks the column"):
        scale_results_table(
            result_of(
                table=table.drop(columns="d_z"), scales=SCALES, language="da", min_cell_size=5
            )
        )


def test_summary_is_plain_text_with_caption_and_notes():
    summary = scale_results_table(
        result_of(table=make_table(), scales=SCALES, language="en", min_cell_size=5)
    ).summary()
    assert summary.startswith("Results per scale, all clients")
    assert re.search(r"Anxiety/depression \(1–4\)\s+45\s+2\.20\s+1\.93", summary)
    assert "Before = first measurement, after = last measurement." in summary


# Texts that are rightly the same in both languages (symbols, numbers, names).
SAME_IN_BOTH = {
    "prepost_tab_col_n", "prepost_tab_col_p", "prepost_tab_col_d_z", "prepost_tab_below",
    "prepost_tab_group_numbered", "prepost_fig_n",
}  # fmt: skip


def test_every_prepost_text_is_translated():
    same = {k for k, v in catalogue().items() if k.startswith("prepost_") and v["da"] == v["en"]}
    assert same == SAME_IN_BOTH


def test_no_english_words_in_danish_results_table():
    html = scale_results_table(
        result_of(table=make_table(), scales=SCALES, language="da", min_cell_size=5)
    ).to_html()
    for word in (
        "Before",
        "After",
        "Change",
        "Improved",
        "Unchanged",
        "Deteriorated",
        "Mean",
        "Reliability",
        "specified",
        "threshold",
        "Scale",
        "Outcome",
        "measurement",
    ):
        assert word not in html  # fmt: skip


def test_steering_table_reads_its_rows_once_not_once_per_scale(monkeypatch):
    filters: list[int] = []
    astype = pd.Series.astype

    def counted(self, *args, **kwargs):
        filters.append(1)
        return astype(self, *args, **kwargs)

    monkeypatch.setattr(pd.Series, "astype", counted)
    counts = []
    for keep in (SCALES[:2], SCALES):
        table = make_table()
        table = table[table["scale"].isin([s.name for s in keep])]
        filters.clear()
        steering_table(result_of(table=table, scales=keep, language="da"), by="phase")
        counts.append(len(filters))
    assert counts[0] == counts[1]  # a pandas filter per scale and group was most of its time


def test_two_rows_for_one_scale_and_group_are_an_error():
    table = make_table()
    table = pd.concat([table, table.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match="2 rows for scale 'anxiety_depression' and all clients"):
        steering_table(result_of(table=table, scales=SCALES, language="da"), by="phase")


def test_rows_by_scale_reads_the_rows_as_to_dict_records_would_without_it(monkeypatch):
    frame = pd.DataFrame(
        {
            "scale": ["a", "b", "a", "b"],
            "group_value": pd.Series([np.int64(2), None, np.nan, "x"], dtype=object),
            "n": pd.array([5, pd.NA, 3, 7], dtype="Int64"),
            "mean": [1.5, np.nan, 2.0, 3.25],
            "kept": [True, False, True, True],
            "name": pd.array(["u", None, "w", "z"], dtype="string"),
            "when": pd.to_datetime(["2025-01-01", None, "2025-03-01", "2025-04-01"]),
            "kind": pd.Categorical(["p", "q", "p", None]),
        },
        index=[10, 11, 13, 17],
    )
    plain = frame.to_dict("records")
    expected = [{**r, "_index": i} for i, r in zip(frame.index, plain, strict=True)]

    def refused(*args, **kwargs):
        raise AssertionError("pandas' to_dict reads every column through iloc per call")

    monkeypatch.setattr(pd.DataFrame, "to_dict", refused)
    by_scale = rows_by_scale(frame)
    assert list(by_scale) == ["a", "b"]
    got = [*by_scale["a"], *by_scale["b"]]
    expected = [expected[0], expected[2], expected[1], expected[3]]
    assert [list(r) for r in got] == [list(r) for r in expected]
    for row, want in zip(got, expected, strict=True):
        for key, value in want.items():
            assert type(row[key]) is type(value), key
            same = row[key] is value or row[key] == value
            assert same or (value != value and row[key] != row[key]), key  # NaN, NaT
