"""A small dated data set whose monitoring-cycle numbers are counted by hand (no tests here).

The CLI tests of the cycle and of ``batch --level`` run the real ``evaltools`` command with the
fixture analysis notebook (``tests/fixtures/notebooks/prepost.ipynb``, about a second) and the
real ``notebooks/cycle.ipynb`` (the trend section and the reports per level), in a notebooks
folder of their own.

Clients (interval 30 days, occasions 1..3, a course closes when occasion 3 is reached):

====  =======  ==========  ===================================================  =========
group clients  start       measurements                                         closed
====  =======  ==========  ===================================================  =========
C     6        2023-05-01  occasions 1, 2, 3 (05-01, 05-31, 06-30)               2023-06-30
B     5        2024-01-10  1, 2 (02-09); occasion 3 (due 03-10) made 03-11 by 3  3 in March
A     5        2024-02-05  1; occasion 2 (due 03-06) made 03-07 by 3             no
D     3        2024-03-15  1 only (occasion 2 due 04-14)                         no
E     4        2024-04-05  1, 2 (05-05): after the as-of date 2024-03-31         no
====  =======  ==========  ===================================================  =========

By hand, March 2024 as of 2024-03-31: due 5 (A, occasion 2) + 5 (B, occasion 3) = 10, done
3 + 3 = 6, missing 4, completion rate 60 %. E's 8 rows are after 2024-03-31.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_PREPOST = Path(__file__).parent / "fixtures" / "notebooks" / "prepost.ipynb"
AS_OF = "2024-03-31"
HAND_COUNT = {"month": "2024-03", "due": 10, "done": 6, "missing": 4, "rate": 0.6}
MIN_CELL_SIZE = 3

_GROUPS = {  # group: (clients, start, [(occasion, date, how many clients have it)])
    "C": (6, "2023-05-01", [(1, "2023-05-01", 6), (2, "2023-05-31", 6), (3, "2023-06-30", 6)]),
    "B": (5, "2024-01-10", [(1, "2024-01-10", 5), (2, "2024-02-09", 5), (3, "2024-03-11", 3)]),
    "A": (5, "2024-02-05", [(1, "2024-02-05", 5), (2, "2024-03-07", 3)]),
    "D": (3, "2024-03-15", [(1, "2024-03-15", 3)]),
    "E": (4, "2024-04-05", [(1, "2024-04-05", 4), (2, "2024-05-05", 4)]),
}

PARAMS = """\
grantee: "Cyklushuset {name}"
intervention: "Testforløb"
slug: {name}
period: "2024"
language: {language}
min_cell_size: {k}
analyses: [prepost]
prepost:
  data: {data}
  id: client_id
  occasion: measurement
  date: date
  groups: [department]
  scales:
    - name: worry
      label: {{da: "Bekymring", en: "Worry"}}
      items: [a1, a2]
      range: [1, 4]
      higher_is_better: false
      reliability: 0.8
"""


def dated_rows() -> pd.DataFrame:
    """The long table of the module docstring: client_id, measurement, date, department,
    a1, a2 (answers that vary between clients, worry falling over the course)."""
    rows = []
    for group, (n, _start, visits) in _GROUPS.items():
        for i in range(n):
            client = f"{group}{i + 1}"
            for occasion, day, how_many in visits:
                if i >= how_many:
                    continue
                a1 = max(1, 4 - (occasion - 1) - (i % 2))
                a2 = max(1, 3 - (occasion - 1) * (i % 3 == 0) + (i % 2))
                rows.append(
                    {
                        "client_id": client,
                        "measurement": occasion,
                        "date": day,
                        "department": "Nord" if i % 2 == 0 else "Syd",
                        "a1": a1,
                        "a2": min(a2, 4),
                    }
                )
    return pd.DataFrame(rows)


def write_cycle_grantee(folder: Path, name: str, *, extra: str = "", language: str = "da") -> Path:
    """Write ``<folder>/<name>.csv`` and ``<folder>/<name>.yml`` (with `extra` YAML at the end);
    return the parameter file."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.csv"
    dated_rows().to_csv(data, index=False, lineterminator="\n")
    text = PARAMS.format(name=name, language=language, k=MIN_CELL_SIZE, data=data) + extra
    params = folder / f"{name}.yml"
    params.write_text(text, encoding="utf-8")
    return params


def cycle_notebooks(folder: Path) -> Path:
    """A notebooks folder with the fixture analysis notebook and the real cycle notebook."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE_PREPOST, folder / "prepost.ipynb")
    shutil.copy(ROOT / "notebooks" / "cycle.ipynb", folder / "cycle.ipynb")
    return folder
