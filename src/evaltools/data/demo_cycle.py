"""Dates for the demo's indicator data that show the monitoring cycle, with a planted trend.

:func:`evaltools.data.demo_prepost.generate_indicator_data` simulates each client's answers;
this module gives the clients' measurements dates over four years instead of the few months
of the original simulation, without changing a single answer (so every result that does not
look at dates stays the same):

- *quarterly intake*: each client starts on a day drawn uniformly over
  :data:`INTAKE_START` .. :data:`INTAKE_END` (16 quarters, 2022-2025); the client's later
  measurements keep their distances from the first, as simulated (about 91 days apart);
- *closed and ongoing courses*: a course ends with its last measurement; clients who started
  late in 2025 are still running when the data end;
- *a planted trend*: in each grantee's first department (:func:`planted_department`) the
  clients who improved more start later: their start days are the department's drawn days in
  order, given to the clients in order of their improvement plus noise
  (:data:`PLANT_NOISE` standard deviations). So the mean improvement of the department's
  clients closed in a year grows year by year, while the other departments have none
  (their start days are drawn independently of their answers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaltools.atomic import write_bytes_atomic
from evaltools.data.demo_prepost import GRANTEES, SCALES, DemoGrantee, generate_indicator_data

__all__ = [
    "INTAKE_END",
    "INTAKE_START",
    "PLANT_NOISE",
    "planted_department",
    "redate",
    "write_dated_demo_data",
]

INTAKE_START = pd.Timestamp("2022-01-01")
INTAKE_END = pd.Timestamp("2025-12-31")
PLANT_NOISE = 1.0
"""Noise added to the standardized improvement before ordering, in its standard deviations."""


def planted_department(grantee: DemoGrantee) -> str:
    """The department whose improvement grows year by year (the grantee's first)."""
    return next(iter(grantee.departments))


def redate(frame: pd.DataFrame, grantee: DemoGrantee) -> pd.DataFrame:
    """`frame` (from ``generate_indicator_data``) with dates spread over 2022-2025.

    Only the ``date`` column changes; rows, their order and every answer stay as they are.
    Deterministic for a grantee (its seed).
    """
    rng = np.random.default_rng([grantee.seed, 7301])
    dates = pd.to_datetime(frame["date"])
    first = dates.groupby(frame["client_id"]).transform("min")
    offset = dates - first  # each measurement's distance from the client's first
    clients = frame.drop_duplicates("client_id").set_index("client_id")["department"]
    span = (INTAKE_END - INTAKE_START).days
    start_day = pd.Series(rng.integers(0, span + 1, size=len(clients)), index=clients.index)

    planted = planted_department(grantee)
    members = clients.index[clients == planted]
    improvement = _improvement(frame, grantee).reindex(members)
    filled = improvement.fillna(improvement.mean() if improvement.notna().any() else 0.0)
    sd = float(filled.std(ddof=0)) or 1.0
    noisy = filled / sd + PLANT_NOISE * rng.standard_normal(len(members))
    order = members[np.argsort(noisy.to_numpy(), kind="stable")]
    start_day[order] = np.sort(start_day[members].to_numpy())

    start = INTAKE_START + pd.to_timedelta(start_day, unit="D")
    out = frame.copy()
    out["date"] = (frame["client_id"].map(start) + offset).to_numpy()
    return out


def _improvement(frame: pd.DataFrame, grantee: DemoGrantee) -> pd.Series:
    """Each client's change from first to last measurement, improvement positive.

    Averaged over the grantee's scales after standardizing each scale's change; the keyed
    score is the mean of the scale's items, reverse items recoded (as in the parameters).
    """
    parts = []
    ordered = frame.sort_values(["client_id", "measurement"], kind="stable")
    for name in grantee.scales:
        s = SCALES[name]
        values = ordered[list(s.columns)].astype("float64")
        low, high = s.range
        for column in s.reverse_items:
            values[column] = low + high - values[column]
        score = values.mean(axis=1)
        by_client = score.groupby(ordered["client_id"])
        change = by_client.last() - by_client.first()  # first and last answered occasions
        change = change if s.higher_is_better else -change
        sd = float(change.std()) or 1.0
        parts.append(change / sd)
    return pd.concat(parts, axis=1).mean(axis=1)


def write_dated_demo_data(folder: Path) -> list[Path]:
    """Write each demo grantee's data, dated over 2022-2025, to ``<folder>/<slug>.csv``.

    The same files as :func:`evaltools.data.demo_prepost.write_demo_data` (same format, same
    answers) with the dates of :func:`redate`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for g in GRANTEES.values():
        frame = redate(generate_indicator_data(g), g)
        target = folder / f"{g.slug}.csv"
        text = frame.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d")
        write_bytes_atomic(target, text.encode("utf-8"))
        paths.append(target)
    return paths
