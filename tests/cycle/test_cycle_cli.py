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

from evaltools.report.i18n import catalogue, fmt_percent, text

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


def _marks(names: list[str], cells: list[str]) -> set[str]:
    """The marks a cycle table's row shows: ``small`` (``< k``) and ``complement`` (``–``) in a
    count column; in the change table also ``zero`` (a count of 0) and ``undefined`` (``–``
    beside a count that is shown)."""
    below = f"< {MIN_CELL_SIZE}"
    counts = [c for n, c in zip(names, cells, strict=True) if n in _COUNT_HEADERS]
    found = {"small" for c in counts if c == below} | {"complement" for c in counts if c == "–"}
    n_header = text("cycle_col_n", "da")
    if n_header in names and not found:
        n = cells[names.index(n_header)]
        stats = cells[names.index(n_header) + 1 :]
        if n == "0":
            found.add("zero")
        elif "–" in stats:
            found.add("undefined")
    return found


_COUNT_HEADERS = {text(key, "da") for key in COUNT_COLUMNS}


def test_each_mark_is_explained_once_below_the_tables_that_show_it(runs: dict[str, Path]) -> None:
    """Below each cycle table, a note for each mark it shows and none for another; no other
    note on the page explains them again (the pre/post tables carry their own footnotes)."""
    column = text("cycle_col_n", "da")
    seen: set[str] = set()
    for level in ("board", "steering", "team"):
        html = (runs["late"] / "levels" / level / "report.html").read_text("utf-8")
        soup = BeautifulSoup(html, "html.parser")
        expected: dict[str, int] = {}
        for table in soup.find_all("table"):
            if "evaltools-table" in (table.get("class") or []):
                continue
            names = [th.get_text(" ", strip=True) for th in table.find("tr").find_all("th")]
            marks: set[str] = set()
            for row in table.find_all("tr")[1:]:
                cells = [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"])]
                marks |= _marks(names, cells)
            prefix = "cycle_change_note" if column in names else "cycle_note"
            below = table.find_next("p")
            below_text = below.get_text(" ", strip=True) if below else ""
            for mark in ("small", "complement", "zero", "undefined"):
                key = f"{prefix}_{mark}"
                if key not in catalogue():
                    continue
                note = text(key, "da", k=MIN_CELL_SIZE, column=column)
                assert (note in below_text) == (mark in marks), (level, names, mark)
                expected[note] = expected.get(note, 0) + (mark in marks)
            seen |= {f"{prefix}_{m}" for m in marks}
        # no other paragraph explains a mark: none quotes one (»< 3«, »–«), and each that
        # says "< 3" is the notes below a table
        below_tables = {id(t.find_next("p")) for t in soup.find_all("table")}
        for paragraph in soup.find_all("p"):
            said = paragraph.get_text(" ", strip=True)
            assert "»–«" not in said and f"»< {MIN_CELL_SIZE}" not in said, (level, said)
            if f"< {MIN_CELL_SIZE}" in said:
                assert id(paragraph) in below_tables, (level, said)
        page = soup.get_text(" ", strip=True)
        for note, times in expected.items():
            assert page.count(note) == times, (level, note)
        rule = text("level_privacy", "da", k=MIN_CELL_SIZE).replace("**", "")
        assert page.count(rule.split(". ", 1)[1]) == 1, level  # the rule, once, at the end
    assert {
        "cycle_note_complement",
        "cycle_change_note_zero",
        "cycle_change_note_undefined",
    } <= seen
