"""Seeded, synthetic data for the indicator-system demo grantee (``vejen_videre``).

A fictitious organisation runs "Ud af voldens skygge" in a short variant (KORT: counselling
only) and a long one (LANGT: counselling, group course, aftercare), in two departments. Each
client is measured before and after every phase they take part in (occasions 1, 2, ... in
order), on five scales; the data also hold background at intake (age, children, referral),
start and closing dates, two yes/no/don't-know questions and one Likert question, asked at
the first and the last measurement.

Missing answers come a phase at a time: the scales of the first phase are always answered
(intake), a later phase's at both its measurements or at neither, and the single-choice
questions may be skipped at the last measurement. So a client's first score is a before and
the last an after: the pre/post tables (first to last, per occasion) and the phase table
(inside each phase, start to end) count the same measurements, and no difference between
them gives a few clients away (the report's cross-table check would hide those rows).

Known truth, so the analyses can be checked: :data:`PHASE_EFFECT` is the expected change of
each scale inside each phase (scale units, before the scores are clipped to their range).
Nothing here is real data; names and ids are invented.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from evaltools.atomic import write_bytes_atomic

SLUG = "vejen_videre"
N_CLIENTS = 180
SEED = 20250612
PHASES = ("counselling", "group_course", "aftercare")
VARIANT_PHASES = MappingProxyType({"KORT": PHASES[:1], "LANGT": PHASES})

# scale: (range, baseline mean, person SD, noise SD, decimals)
SCALES = MappingProxyType(
    {
        "anxiety_depression": ((1, 4), 2.3, 0.45, 0.18, 2),
        "ptsd": ((1, 4), 2.7, 0.45, 0.18, 2),
        "economic_stress": ((1, 100), 58.0, 14.0, 6.0, 0),
        "network": ((0, 10), 4.0, 1.8, 0.7, 0),
    }
)
PHASE_EFFECT = MappingProxyType(
    {
        "anxiety_depression": {"counselling": -0.25, "group_course": -0.30, "aftercare": -0.10},
        "ptsd": {"counselling": -0.10, "group_course": -0.35, "aftercare": -0.10},
        "economic_stress": {"counselling": -2.0, "group_course": -4.0, "aftercare": -5.0},
        "network": {"counselling": 0.5, "group_course": 1.2, "aftercare": 0.6},
    }
)
SELF_ESTEEM_ITEMS = ("se1", "se2", "se3", "se4")
REFERRALS = ("self", "municipality", "health", "police")
YES, NO, DONT_KNOW = 1, 2, 9


def generate(seed: int = SEED) -> pd.DataFrame:
    """The long table: one row per client and measurement (phase x before/after)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(N_CLIENTS):
        client = f"VV-{1000 + 7 * i + int(rng.integers(0, 7)):05d}"
        variant = "LANGT" if rng.random() < 0.6 else "KORT"
        department = "aarhus" if rng.random() < 0.55 else "odense"
        age = int(np.clip(rng.normal(34, 9), 18, 68))
        children = ("0", "1", "2", "3+")[int(rng.choice(4, p=(0.15, 0.35, 0.3, 0.2)))]
        referral = REFERRALS[int(rng.choice(4, p=(0.35, 0.35, 0.2, 0.1)))]
        start = pd.Timestamp("2024-02-01") + pd.Timedelta(days=int(rng.integers(0, 640)))
        latent = {s: rng.normal(0, 1) for s in SCALES}
        esteem = rng.normal(0, 1)
        phases = list(VARIANT_PHASES[variant])
        stop = len(phases)
        for k in range(1, len(phases)):  # some leave before a later phase
            if rng.random() < 0.12:
                stop = k
                break
        phases = phases[:stop]
        level = {s: SCALES[s][1] + SCALES[s][2] * latent[s] for s in SCALES}
        esteem_level = 2.8 + 0.6 * esteem
        occasion, day = 0, start
        n_rows = 2 * len(phases)
        last_after = max(i for i in range(n_rows) if i % 2 == 1)
        for p, phase in enumerate(phases):
            for moment in ("before", "after"):
                occasion += 1
                if moment == "after":
                    for s in SCALES:
                        level[s] += PHASE_EFFECT[s][phase] * rng.normal(1, 0.6)
                    esteem_level += 0.25 * rng.normal(1, 0.6)
                # drawn at the after: a later phase's questionnaires unanswered (its before
                # is blanked below); the first phase's scales always answered (at intake)
                skipped = moment == "after" and rng.random() < 0.08
                missing = skipped and p > 0
                row = {
                    "client_id": client,
                    "measurement": occasion,
                    "date": day.date().isoformat(),
                    "variant": variant,
                    "department": department,
                    "phase": phase,
                    "moment": moment,
                    "age": age,
                    "children": children,
                    "referral": referral,
                    "start_date": start.date().isoformat(),
                }
                for s, ((low, high), _, _, noise, decimals) in SCALES.items():
                    value = np.clip(level[s] + rng.normal(0, noise), low, high)
                    row[s] = None if missing else round(float(value), decimals)
                for item in SELF_ESTEEM_ITEMS:
                    answer = int(np.clip(round(esteem_level + rng.normal(0, 0.55)), 1, 5))
                    row[item] = None if missing else answer
                index = 2 * p + (moment == "after")
                first, last = index == 0, index == last_after
                row.update(_answers(rng, first=first, last=last, progress=p + 1, missing=skipped))
                if missing:
                    rows[-1].update({c: None for c in (*SCALES, *SELF_ESTEEM_ITEMS)})
                rows.append(row)
                day += pd.Timedelta(days=int(rng.integers(50, 80)) if moment == "before" else 10)
        closed = variant == "KORT" or stop < len(VARIANT_PHASES[variant])
        end = day if (closed or rng.random() < 0.7) else None
        for row in rows[-n_rows:]:
            row["end_date"] = (
                end.date().isoformat() if end is not None and end.year < 2026 else None
            )
    frame = pd.DataFrame(rows)
    whole = ["economic_stress", "network", *SELF_ESTEEM_ITEMS]
    whole += ["child_play", "feel_safe", "satisfied_network"]
    return frame.astype({c: "Int64" for c in whole})


def _answers(
    rng: np.random.Generator, *, first: bool, last: bool, progress: int, missing: bool
) -> dict[str, int | None]:
    """The single-choice answers, asked at the first and the last measurement only."""
    if missing or not (first or last):
        return {"child_play": None, "feel_safe": None, "satisfied_network": None}
    better = 0.0 if first else 0.12 * progress
    play = rng.choice([YES, NO, DONT_KNOW], p=_probabilities(0.45 + better, 0.12))
    safe = rng.choice([YES, NO, DONT_KNOW], p=_probabilities(0.40 + 1.3 * better, 0.08))
    satisfied = int(np.clip(round(rng.normal(2.6 + 2.5 * better, 1.0)), 1, 5))
    return {"child_play": int(play), "feel_safe": int(safe), "satisfied_network": satisfied}


def _probabilities(yes: float, dont_know: float) -> list[float]:
    yes = min(yes, 0.9 - dont_know)
    return [yes, 1 - yes - dont_know, dont_know]


def write_indicator_demo(folder: Path) -> list[Path]:
    """Write ``<folder>/vejen_videre.csv``; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{SLUG}.csv"
    text = generate().to_csv(index=False, lineterminator="\n")
    write_bytes_atomic(target, text.encode("utf-8"))
    return [target]
