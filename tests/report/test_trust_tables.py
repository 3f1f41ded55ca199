"""Tables a board can trust (issue 13, items 1 and 6).

A count hidden only so that a small one can't be worked out is not small: it shows as "–"
with a footnote giving that reason, never as "< 5". Each table's notes describe its own
columns. Numbers are made up for the tests.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from prepost.test_tables import SCALES, change_row, make_table

from evaltools.prepost.result import PrePostResult
from evaltools.prepost.tables import scale_results_table, steering_table
from evaltools.privacy.suppression import match_count_reasons
from evaltools.register.report import counts_table
from evaltools.register.results import RegisterPanelResult
from evaltools.report.i18n import text

MATCH_COUNTS = pd.DataFrame(
    {"group": ["participants", "pool", "matched", "unmatched", "comparison"],
     "n": [412, 5000, 409, 3, 409]}
)  # fmt: skip


def _register_stub(language: str) -> SimpleNamespace:
    matching = SimpleNamespace(counts=lambda: MATCH_COUNTS.copy(), n_excluded=0, n_pool_excluded=0)
    spec = SimpleNamespace(never_started="empty", missing="drop", panel="balanced", outcomes=[])
    stub = SimpleNamespace(
        matching_kind="propensity",
        matching=matching,
        spec=spec,
        did=None,
        event_study=None,
        staggered=None,
        language=language,
        min_cell_size=5,
    )
    stub.match_counts = lambda lang: RegisterPanelResult.match_counts(stub, lang)  # the real rule
    return stub


def test_match_count_reasons_tell_small_from_complementary() -> None:
    reasons = match_count_reasons(MATCH_COUNTS, 5)
    assert reasons == ["complementary", None, None, "primary", None]


def test_register_counts_show_a_complementary_total_as_dash_with_its_reason() -> None:
    for language in ("da", "en"):
        table = counts_table(_register_stub(language))
        cells = [row[0] for row in table.cells]
        # 412 participants are hidden so that the 3 unmatched can't be worked out: not "< 5"
        assert cells[0] == "–"
        assert cells[3] == "< 5"
        assert text("report_hidden_complementary", language, min=5) in table.notes
        assert (
            text("report_hidden_primary", language, min=5, who=text("report_who_people", language))
            in table.notes
        )


def _complementary_result(language: str) -> PrePostResult:
    """The test table, with the overall PTSD row hidden as a complement (n = 40)."""
    table = make_table()
    row = change_row("ptsd", n=pd.NA, hidden=True)
    at = table.index[(table["scale"] == "ptsd") & table["group_var"].isna()][0]
    for column, value in row.items():
        table.at[at, column] = value
    reasons = pd.DataFrame({"n_paired": [None] * len(table)}, index=table.index, dtype=object)
    reasons.loc[at, "n_paired"] = "complementary"
    for i in table.index[table["n_paired"].isna() & (table.index != at)]:
        reasons.loc[i, "n_paired"] = "primary"
    return PrePostResult(
        table=table, trajectories=pd.DataFrame(), attrition=pd.DataFrame(),
        occasion_counts=pd.DataFrame(), scales=tuple(SCALES), language=language,
        min_cell_size=5, _hidden={"table": reasons},
    )  # fmt: skip


def test_prepost_tables_show_complementary_rows_as_dash_not_below_min() -> None:
    for language in ("da", "en"):
        result = _complementary_result(language)
        results = scale_results_table(result, part="change")
        ptsd = next(i for i, h in enumerate(results.row_headers) if "PTSD" in h[1])
        assert results.cells[ptsd][0] == "–"
        assert text("report_hidden_complementary", language, min=5) in results.notes
        steering = steering_table(result, show_n=True)
        assert steering.cells[ptsd][-5] == "–"  # whole course: n
        assert text("report_hidden_complementary", language, min=5) in steering.notes
        assert any(n.startswith("< 5") for n in steering.notes)


def test_only_small_hidden_cells_get_only_the_small_note() -> None:
    table = make_table()
    result = PrePostResult(
        table=table, trajectories=pd.DataFrame(), attrition=pd.DataFrame(),
        occasion_counts=pd.DataFrame(), scales=tuple(SCALES), language="da", min_cell_size=5,
    )  # fmt: skip
    notes = steering_table(result).notes
    assert any(n.startswith("< 5: færre end 5 klienter") for n in notes)
    assert text("report_hidden_complementary", "da", min=5) not in notes


def test_each_part_of_the_results_table_explains_only_its_own_columns() -> None:
    result = PrePostResult(
        table=make_table(), trajectories=pd.DataFrame(), attrition=pd.DataFrame(),
        occasion_counts=pd.DataFrame(), scales=tuple(SCALES), language="en", min_cell_size=5,
    )  # fmt: skip
    change = " ".join(scale_results_table(result, part="change").notes)
    rci = " ".join(scale_results_table(result, part="reliable_change").notes)
    assert "dz" in change and "paired t-test" in change
    assert "RCI threshold" not in change
    assert "RCI threshold" in rci
    assert "dz" not in rci and "t-test" not in rci and "Change =" not in rci
