"""Sentences that describe the data are built from it (issue 13, item 2).

Unit tests of :mod:`evaltools.prepost.narrative` on made-up results of several shapes, and one
`evaltools run` through the CLI on a small data set with no groups, two measurements and the
same number of clients at both (written by the test itself).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaltools.params.models import Scale
from evaltools.prepost.narrative import (
    groups_heading,
    groups_intro,
    reliability_sources,
    steering_grouping,
    trajectory_caption,
)
from evaltools.prepost.result import PrePostResult

SCALE = Scale(name="sc", label={"da": "Score", "en": "Score"}, area={"da": "A", "en": "A"},
              score="sc", range=(1, 4), higher_is_better=True, reliability=0.8)  # fmt: skip


def _result(counts: list[int], language: str = "da") -> PrePostResult:
    occasions = list(range(1, len(counts) + 1))
    trajectories = pd.DataFrame({"scale": "sc", "group_var": None, "group_value": None,
                                 "occasion": occasions, "n": counts, "mean": 2.0})  # fmt: skip
    occasion_counts = pd.DataFrame({"occasion": occasions, "n_clients": counts, "n_sc": counts})
    table = pd.DataFrame({"scale": ["sc"], "group_var": [None], "reliability": [0.8],
                          "reliability_source": ["params"]})  # fmt: skip
    return PrePostResult(
        table=table, trajectories=trajectories, attrition=pd.DataFrame(),
        occasion_counts=occasion_counts, min_cell_size=5, language=language, scales=(SCALE,),
    )  # fmt: skip


def test_trajectory_caption_names_the_occasions_and_the_n_pattern() -> None:
    two = trajectory_caption(_result([60, 60]))
    assert "måling 1 og 2" in two and "1–4" not in two
    assert "falder" not in two and "samme antal klienter (60)" in two
    four = trajectory_caption(_result([120, 103, 85, 79]))
    assert "måling 1–4" in four and "falder fra 120 ved første til 79 ved sidste" in four
    three = trajectory_caption(_result([80, 55, 28], "en"))
    assert "measurements 1–3" in three and "falls from 80" in three
    varies = trajectory_caption(_result([40, 55, 30], "en"))
    assert "between 30 and 55" in varies


def test_groups_texts_follow_the_grouping_columns() -> None:
    result = _result([60, 60])
    assert steering_grouping([]) is None
    assert steering_grouping(["department"]) == "department"
    assert steering_grouping(["department", "phase"]) == "phase"
    none = groups_heading(result, []) + " " + groups_intro(result, None)
    assert "fase" not in none.replace("fx fase", "")  # no phase sentence without a phase
    one = groups_heading(result, ["department"]) + " " + groups_intro(result, "department")
    assert one.startswith("Resultater pr. afdeling") and "fase" not in one
    both = groups_heading(result, ["department", "phase"])
    assert both == "Resultater pr. afdeling og fase"
    assert "hver fase" in groups_intro(result, "phase")


def test_reliability_sources_come_from_the_result() -> None:
    assert reliability_sources(_result([9, 9])) == "Score 0,80 (angivet i parameterfilen)"


PARAMS = """\
grantee: "Testforening"
intervention: "Testindsats"
period: "2025"
slug: shape
language: {language}
min_cell_size: 5
analyses: [prepost]
prepost:
  data: data.csv
  id: client_id
  occasion: measurement
  groups: []
  compare: [first, last]
  scales:
    - name: sc
      label: {{da: "Angst", en: "Anxiety"}}
      area: {{da: "Psykisk", en: "Mental"}}
      score: sc
      range: [1, 4]
      higher_is_better: false
      reliability: 0.85
"""


@pytest.mark.e2e
@pytest.mark.parametrize("language", ["da", "en"])
def test_report_on_two_measurements_without_groups_describes_its_own_data(
    tmp_path: Path, language: str
) -> None:
    rng = np.random.default_rng(13)
    base = rng.normal(2.5, 0.4, 30)
    rows = [
        {
            "client_id": f"k{i:02d}",
            "measurement": m,
            "sc": round(float(np.clip(base[i] - 0.2 * m, 1, 4)), 2),
        }
        for i in range(30)
        for m in (1, 2)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "p.yml").write_text(PARAMS.format(language=language), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", "from evaltools.cli import main; main()", "run",
         str(tmp_path / "p.yml"), "--out", str(tmp_path / "reports"), "--renderer", "nbconvert",
         "--format", "html"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "reports" / "shape" / "report.html").read_text(encoding="utf-8")
    words = re.sub(r"<[^>]+>", " ", page)
    if language == "da":
        assert "måling 1 og 2" in words and "samme antal klienter (30)" in words
        assert "1–4" not in words.replace("Angst (1–4)", "")
        assert "pr. afdeling og fase" not in words and "for hver fase" not in words
        assert "falder fra måling til måling" not in words
    else:
        assert "measurements 1 and 2" in words and "same number of clients (30)" in words
        assert "by department and phase" not in words and "for each phase" not in words
        assert "falls from one measurement" not in words
