"""Synthetic register data for the demo grantees: a person x year panel with known effects.

The panel mimics an extract from Danish registers for a programme like Mødrehjælpen's
"I Gang": participants who start in different years (staggered, 2014-2019) and a comparison
pool at least 20 times larger that never took part, followed every year 2010-2022.

* Baseline covariates (measured in 2010): ``age`` (grows by one a year in the panel),
  ``children``, ``prior_education`` (0 primary school, 1 upper secondary, 2 vocational or
  higher), ``prior_earnings`` (DKK 1,000) and ``region``.
* Selection: participants are drawn with probability rising in youth, children, low
  education and low earnings, so a naive comparison with the whole pool is biased.
* Outcomes: ``in_education`` and ``employed`` (0/1) and ``earnings`` (DKK 1,000 a year).
  Without the programme their paths depend on age and the other covariates: young people
  leave education and find work faster, so even the trends of participants and pool differ
  unless they are matched on the covariates.
* Effects: :data:`TRUE_EFFECTS`, by year since start, added to the probabilities (and,
  through employment, to earnings); zero before start, constant from year 3 on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

from evaltools.atomic import write_bytes_atomic
from evaltools.choices import check_choice

REGIONS: tuple[str, ...] = ("Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland")
FIRST_YEAR, LAST_YEAR = 2010, 2022
START_YEARS: tuple[int, ...] = (2014, 2015, 2016, 2017, 2018, 2019)
WAGE = 220.0  # DKK 1,000 a year earned by being employed rather than not

_EDUCATION = {0: 0.00, 1: 0.05, 2: 0.10, 3: 0.15}
_EMPLOYED = {0: -0.04, 1: -0.02, 2: 0.01, 3: 0.04}

#: True average effect on the participants by year since start (event time), per outcome:
#: shares (0..1) for ``in_education`` and ``employed``, DKK 1,000 for ``earnings``. Zero
#: before the start year; the year-3 value holds for every later year.
TRUE_EFFECTS: dict[str, dict[int, float]] = {
    "in_education": {e: (_EDUCATION[min(e, 3)] if e >= 0 else 0.0) for e in range(-6, 9)},
    "employed": {e: (_EMPLOYED[min(e, 3)] if e >= 0 else 0.0) for e in range(-6, 9)},
    "earnings": {
        e: (round(WAGE * _EMPLOYED[min(e, 3)], 6) if e >= 0 else 0.0) for e in range(-6, 9)
    },
}

PARQUET_NAME = "register_panel.parquet"
CSV_NAME = "register_panel_small.csv"


def true_effect(outcome: str, event_time: int) -> float:
    """The true effect on `outcome` `event_time` years after start (see TRUE_EFFECTS)."""
    if outcome not in TRUE_EFFECTS:
        check_choice("outcome", outcome, tuple(TRUE_EFFECTS))
    e = int(event_time)
    if e < 0:
        return 0.0
    return TRUE_EFFECTS[outcome][min(e, 3)]


def make_register_demo(
    *,
    n_participants: int = 400,
    pool_ratio: int = 20,
    seed: int = 2014,
) -> pd.DataFrame:
    """A person x year register panel (2010-2022) with participants and a comparison pool.

    Parameters
    ----------
    n_participants
        Participants (starting 2014-2019, spread evenly).
    pool_ratio
        Persons in the comparison pool per participant (at least 20 makes matching work).
    seed
        Seed of the random generator: the same arguments give the same panel.

    Returns
    -------
    pandas.DataFrame
        One row per person and year, sorted by ``person_id`` and ``year``, with
        ``person_id`` (int), ``year``, ``start_year`` (nullable Int64, missing for the
        pool), ``in_education``, ``employed`` (0/1 int), ``earnings`` (DKK 1,000, one
        decimal), ``age``, ``children``, ``prior_education``, ``prior_earnings`` and
        ``region``.
    """
    if n_participants < 1 or pool_ratio < 1:
        raise ValueError("`n_participants` and `pool_ratio` must be at least 1")
    rng = np.random.default_rng(seed)
    n = n_participants * (1 + pool_ratio)
    people = _baseline(rng, n)

    # selection on observables only: weighted draw without replacement
    index = (
        -0.13 * (people["age0"] - 24)
        + 0.35 * people["children"]
        - 0.55 * people["prior_education"]
        - 0.006 * (people["prior_earnings"] - 150)
        + np.select(
            [people["region"] == "Hovedstaden", people["region"] == "Nordjylland"],
            [0.35, -0.25],
            0.0,
        )
    ).to_numpy()
    chosen = rng.choice(n, size=n_participants, replace=False, p=special.softmax(index))
    start = np.full(n, -1)
    start[chosen] = rng.choice(START_YEARS, size=n_participants)
    people["start"] = start

    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    t_count = len(years)
    rows = np.repeat(np.arange(n), t_count)
    year = np.tile(years, n)
    p = people.iloc[rows].reset_index(drop=True)
    age = p["age0"].to_numpy() + (year - FIRST_YEAR)
    trend = year - FIRST_YEAR
    event = np.where(p["start"].to_numpy() > 0, year - p["start"].to_numpy(), -99)
    edu_effect = _effect_of("in_education", event)
    emp_effect = _effect_of("employed", event)

    educ = p["prior_education"].to_numpy()
    p_edu = (
        0.04
        + 0.70 * np.exp(-(age - 16) / 4.0)
        - 0.03 * (educ == 2)
        + 0.004 * trend
        + 0.04 * p["u_edu"].to_numpy()
    )
    p_edu = np.clip(p_edu, 0.01, 0.80)
    p_emp = (
        0.22
        + 0.13 * educ
        + 0.0012 * (p["prior_earnings"].to_numpy() - 150)
        - 0.04 * p["children"].to_numpy()
        + 0.30 * (1 - np.exp(-(age - 16) / 7.0))
        + 0.008 * trend
        + 0.06 * p["u_emp"].to_numpy()
    )
    p_emp = np.clip(p_emp, 0.05, 0.85)

    in_education = (_persistent_uniform(rng, n, t_count, 0.6) < p_edu + edu_effect).astype(int)
    employed = (_persistent_uniform(rng, n, t_count, 0.6) < p_emp + emp_effect).astype(int)
    earnings = (
        45.0
        + 0.3 * p["prior_earnings"].to_numpy()
        + WAGE * employed
        + 2.5 * trend
        + rng.normal(0.0, 10.0, size=len(year))
    )

    frame = pd.DataFrame(
        {
            "person_id": p["person_id"].to_numpy(),
            "year": year,
            "start_year": pd.array(np.where(p["start"] > 0, p["start"], 0), dtype="Int64"),
            "in_education": in_education,
            "employed": employed,
            "earnings": np.round(earnings, 1),
            "age": age,
            "children": p["children"].to_numpy(),
            "prior_education": educ,
            "prior_earnings": p["prior_earnings"].to_numpy(),
            "region": pd.array(p["region"].to_numpy(), dtype="string"),
        }
    )
    frame.loc[frame["start_year"] == 0, "start_year"] = pd.NA
    return frame.sort_values(["person_id", "year"], ignore_index=True)


def write_register_demo(folder: str | Path, *, seed: int = 2014) -> list[Path]:
    """Write the demo register extracts into `folder` (created if needed).

    Writes ``register_panel.parquet`` (400 participants, a pool of 8,000; about 109,000
    person-years) and ``register_panel_small.csv`` (60 participants, a pool of 1,200),
    the latter the way Danish systems export CSV: ``;`` between fields, decimal comma,
    UTF-8, and an empty ``start_year`` for the pool.

    Returns
    -------
    list of Path
        The files written, Parquet first.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    big = make_register_demo(seed=seed)
    parquet = folder / PARQUET_NAME
    write_bytes_atomic(parquet, big.to_parquet(index=False))
    small = make_register_demo(n_participants=60, pool_ratio=20, seed=seed + 1)
    csv = folder / CSV_NAME
    text = small.to_csv(sep=";", decimal=",", index=False, lineterminator="\n")
    write_bytes_atomic(csv, text.encode("utf-8"))
    return [parquet, csv]


def _baseline(rng: np.random.Generator, n: int) -> pd.DataFrame:
    age0 = rng.integers(16, 41, size=n)
    children = np.minimum(rng.poisson(0.6 + 0.04 * (age0 - 16)), 5)
    education = rng.choice([0, 1, 2], size=n, p=[0.35, 0.30, 0.35])
    earnings = np.exp(rng.normal(np.log(90 + 4 * (age0 - 16) + 40 * education), 0.45))
    region = rng.choice(REGIONS, size=n, p=[0.32, 0.14, 0.21, 0.23, 0.10])
    ids = rng.permutation(np.arange(100_001, 100_001 + 3 * n))[:n]
    return pd.DataFrame(
        {
            "person_id": ids,
            "age0": age0,
            "children": children,
            "prior_education": education,
            "prior_earnings": np.round(earnings, 1),
            "region": region,
            "u_edu": np.clip(rng.normal(size=n), -2.5, 2.5),
            "u_emp": np.clip(rng.normal(size=n), -2.5, 2.5),
        }
    )


def _effect_of(outcome: str, event: np.ndarray) -> np.ndarray:
    table = np.array([TRUE_EFFECTS[outcome][e] for e in range(4)])
    return np.where(event >= 0, table[np.clip(event, 0, 3)], 0.0)


def _persistent_uniform(rng: np.random.Generator, n: int, t: int, rho: float) -> np.ndarray:
    """Uniform(0, 1) draws, person-major, correlated within person (Gaussian copula)."""
    person = np.repeat(rng.normal(size=n), t)
    noise = rng.normal(size=n * t)
    return stats.norm.cdf(np.sqrt(rho) * person + np.sqrt(1 - rho) * noise)
