"""The monitoring cycle through the command line, against counts by hand and direct pandas.

``evaltools run`` on the hand-counted data of :mod:`cycle_support` (the fixture analysis
notebook and the real cycle notebook): an earlier as-of date gives smaller counts that equal a
direct computation; the team report's completion rate equals the hand count; nothing below
the minimum cell size is shown anywhere in a level report's tables.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from batch_support import evaltools
from bs4 import BeautifulSoup
from cycle_support import (
    AS_OF,
    HAND_COUNT,
    MIN_CELL_SIZE,
    cycle_notebooks,
    dated_rows,
    write_cycle_grantee,
)

from evaltools.report.i18n import fmt_percent, text

CYCLE = """\
cycle:
  trend: month
  course: {{when: [last_occasion], last_occasion: 3, interval_days: 30}}
{as_of}levels: {levels}
"""
COUNT_COLUMNS = (
    "cycle_col_started",
    "cycle_col_active",
    "cycle_col_closed",
    "cycle_col_helped",
    "cycle_col_n",
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs of the same data: every date (every level), and as of 2024-03-31 (team)."""
    root = tmp_path_factory.mktemp("cycle_cli")
    notebooks = cycle_notebooks(root / "notebooks")
    folders = {}
    runs = (("late", "", "[board, steering, team]"), ("early", f"  as_of: {AS_OF}\n", "[team]"))
    for name, as_of, levels in runs:
        extra = CYCLE.format(as_of=as_of, levels=levels)
        params = write_cycle_grantee(root / "params", name, extra=extra)
        out = root / "reports"
        result = evaltools(
            "run", str(params), "--out", str(out), "--renderer", "nbconvert", "--format", "html",
            notebooks=notebooks,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        folders[name] = out / name
    return folders


def _results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def test_earlier_as_of_gives_smaller_counts_equal_to_pandas(runs: dict[str, Path]) -> None:
    data = dated_rows()
    dates = pd.to_datetime(data["date"])
    late, early = _results(runs["late"]), _results(runs["early"])
    assert early["coverage"]["as_of"] == AS_OF
    assert early["coverage"]["measurements_after_as_of"] == int((dates > AS_OF).sum()) == 8
    assert late["coverage"]["measurements_after_as_of"] == 0

    def helped(frame: pd.DataFrame, as_of: str) -> dict[int, int]:
        """Clients active in each year: started by its end, not closed before its start."""
        kept = frame[pd.to_datetime(frame["date"]) <= pd.Timestamp(as_of)]
        by_client = kept.groupby("client_id").agg(
            first=("date", "min"), last=("date", "max"), occ=("measurement", "max")
        )
        first, last = pd.to_datetime(by_client["first"]), pd.to_datetime(by_client["last"])
        closed = by_client["occ"] >= 3
        return {
            year: int(((first.dt.year <= year) & (~closed | (last.dt.year >= year))).sum())
            for year in (2023, 2024)
        }

    for document, as_of in ((late, "2024-05-05"), (early, AS_OF)):
        shown = {r["year"]: r["helped"] for r in document["trend"]["helped"]}
        assert shown == helped(data, as_of)
    late_2024 = {r["year"]: r["helped"] for r in late["trend"]["helped"]}[2024]
    early_2024 = {r["year"]: r["helped"] for r in early["trend"]["helped"]}[2024]
    assert early_2024 < late_2024  # 13 < 17: E's four clients start after the as-of date

    # started per month: a groupby on each client's first date up to the as-of date
    kept = data[dates <= AS_OF]
    first = pd.to_datetime(kept.groupby("client_id")["date"].min())
    started = first.dt.strftime("%Y-%m").value_counts()
    flow = early["trend"]["flow"]
    assert flow[-1]["period"] == "2024-03"
    shown = [r for r in flow if r["started"] is not None]
    assert shown, flow
    for record in shown:
        assert record["started"] == started.get(record["period"], 0)


def _month_text(html: str) -> str:
    # the report keeps "60 %" together with a no-break space; compare as plain text
    return BeautifulSoup(html, "html.parser").get_text(" ", strip=True).replace("\xa0", " ")


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("early", HAND_COUNT),
        # as of 2024-05-05 (the latest date) the team's month is April, the last complete
        # one: due A's occasion 3 (04-05) x 5 and D's occasion 2 (04-14) x 3, none made
        ("late", {"month": "2024-04", "due": 8, "done": 0, "missing": 8, "rate": 0.0}),
    ],
)
def test_team_completion_rate_equals_the_hand_count(
    runs: dict[str, Path], name: str, counts: dict
) -> None:
    page = _month_text((runs[name] / "levels" / "team" / "report.html").read_text("utf-8"))
    expected = text(
        "level_measurements_text",
        "da",
        due=counts["due"],
        done=counts["done"],
        missing=counts["missing"],
        month=counts["month"],
        rate=fmt_percent(counts["rate"], "da"),
    )
    assert expected in page, page


def test_nothing_below_the_minimum_cell_size_in_any_level_table(runs: dict[str, Path]) -> None:
    headers = {text(key, "da") for key in COUNT_COLUMNS}
    checked = 0
    for level in ("board", "steering", "team"):
        html = (runs["late"] / "levels" / level / "report.html").read_text("utf-8")
        soup = BeautifulSoup(html, "html.parser")
        for table in soup.find_all("table"):
            names = [th.get_text(" ", strip=True) for th in table.find("tr").find_all("th")]
            columns = [i for i, n in enumerate(names) if n in headers or n == "n"]
            for row in table.find_all("tr")[1:]:
                cells = [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"])]
                for i in columns:
                    value = cells[i].replace(".", "") if i < len(cells) else ""
                    if re.fullmatch(r"\d+", value):
                        checked += 1
                        assert not 0 < int(value) < MIN_CELL_SIZE, (level, names[i], cells)
    assert checked >= 10  # the tables were found and read
