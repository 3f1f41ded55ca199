"""Seeded, synthetic indicator-system data for the demo grantees (pre/post analysis).

Three fictitious Danish organisations of clearly different sizes measure their clients on six
scales modelled on Mødrehjælpen's indicator system, at up to four occasions about three
months apart. The data are made with a known truth, so the analyses can be checked against it:

- :data:`TRUE_CHANGE` is the expected change of each scale's observed score (mean of the
  reverse-coded items, or the score column) from occasion 1 to occasion 4, in scale units;
  :func:`true_change` gives it per phase.
- Dropout between occasions depends on a latent severity, so clients lost to follow-up were
  worse off at baseline than those who stayed. Change does not depend on severity, so the
  completers' expected change equals :data:`TRUE_CHANGE` up to small floor/ceiling effects.
- Item noise gives Cronbach's alpha of about 0.8-0.85 for the item scales; the score scales
  have a known reliability (:attr:`DemoScale.reliability`).

Nothing here is real data; names of organisations and clients are invented.

Run ``python -m evaltools.data.demo_prepost`` to write the demo CSV files to ``data/demo/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit
from scipy.stats import norm

from evaltools.atomic import write_bytes_atomic
from evaltools.choices import check_choice

__all__ = [
    "GRANTEES",
    "OCCASIONS",
    "PHASES",
    "PHASE_CHANGE_FACTOR",
    "PHASE_SHARES",
    "SCALES",
    "TRUE_CHANGE",
    "DemoGrantee",
    "DemoScale",
    "demo_params_files",
    "generate_indicator_data",
    "true_change",
    "write_demo_data",
]

PHASES: tuple[str, ...] = ("counselling", "group_course", "aftercare")
"""Programme phase codes stored in the data; their labels live in the parameter files."""

PHASE_SHARES: Mapping[str, float] = MappingProxyType(
    {"counselling": 0.5, "group_course": 0.3, "aftercare": 0.2}
)
"""Probability that a client is in each phase."""

PHASE_CHANGE_FACTOR: Mapping[str, float] = MappingProxyType(
    {"counselling": 0.8, "group_course": 1.2, "aftercare": 1.2}
)
"""True change in a phase as a multiple of :data:`TRUE_CHANGE`; averages 1 over phases."""

OCCASIONS: tuple[int, ...] = (1, 2, 3, 4)
"""Measurement occasions, about three months apart."""

_TRAJECTORY = np.array([0.0, 0.5, 0.8, 1.0])
"""Share of a client's total change reached at occasions 1..4."""


@dataclass(frozen=True)
class DemoScale:
    """How one scale is simulated.

    Values are on the *keyed* scale, where items are already reverse-coded, so every item of a
    scale points the same way. Each client has a latent level ``baseline + person_sd * z``;
    each occasion adds the client's share of change and an occasion fluctuation
    (``occasion_sd``); each answer adds an item offset and noise (``item_sd``), then is
    rounded to an integer and clipped to ``range``.

    Attributes
    ----------
    name
        Scale name, as in the parameter files.
    range
        Lowest and highest possible answer (integers).
    higher_is_better
        Direction: whether a higher score means the client is better off.
    baseline
        Population mean of the latent level at occasion 1, in scale units.
    person_sd, occasion_sd, item_sd
        Standard deviations of the client level, the occasion fluctuation and item noise.
    change_sd
        Standard deviation of individual change around the phase's true change.
    items
        Item columns, or empty for a scale stored as one score column.
    reverse_items
        Items stored reverse-coded (``low + high - keyed value``).
    item_offsets
        Item difficulty offsets (sum to zero), one per item.
    score
        The score column, for a scale without items.
    reliability
        Reliability of the score implied by the simulation (true-score variance over total
        variance at occasion 1); given for score scales, where alpha cannot be computed.
    """

    name: str
    range: tuple[int, int]
    higher_is_better: bool
    baseline: float
    person_sd: float
    occasion_sd: float
    item_sd: float
    change_sd: float
    items: tuple[str, ...] = ()
    reverse_items: tuple[str, ...] = ()
    item_offsets: tuple[float, ...] = ()
    score: str | None = None
    reliability: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if bool(self.items) == (self.score is not None):
            raise ValueError(f"scale '{self.name}': give either `items` or `score`")
        if self.items and len(self.item_offsets) != len(self.items):
            raise ValueError(f"scale '{self.name}': one item offset per item")
        if self.score is not None:
            true_var = self.person_sd**2 + self.occasion_sd**2
            rel = true_var / (true_var + self.item_sd**2 + 1 / 12)  # 1/12: rounding
            object.__setattr__(self, "reliability", round(rel, 2))

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns of this scale."""
        return self.items if self.items else (str(self.score),)

    @property
    def offsets(self) -> np.ndarray:
        """Item offsets as an array (one zero for a score scale)."""
        return np.asarray(self.item_offsets if self.items else (0.0,), dtype=float)


SCALES: Mapping[str, DemoScale] = MappingProxyType(
    {
        s.name: s
        for s in (
            DemoScale(
                name="anxiety_depression",
                range=(1, 4),
                higher_is_better=False,
                baseline=2.25,
                person_sd=0.50,
                occasion_sd=0.15,
                item_sd=0.42,
                change_sd=0.30,
                items=("ad1", "ad2", "ad3", "ad4", "ad5"),
                reverse_items=("ad5",),
                item_offsets=(-0.15, 0.10, 0.20, -0.05, -0.10),
            ),
            DemoScale(
                name="ptsd",
                range=(1, 4),
                higher_is_better=False,
                baseline=2.75,
                person_sd=0.50,
                occasion_sd=0.15,
                item_sd=0.40,
                change_sd=0.35,
                items=("pt1", "pt2", "pt3", "pt4"),
                item_offsets=(0.10, -0.10, 0.15, -0.15),
            ),
            DemoScale(
                name="economic_stress",
                range=(1, 100),
                higher_is_better=False,
                baseline=55.0,
                person_sd=15.0,
                occasion_sd=5.0,
                item_sd=8.0,
                change_sd=10.0,
                score="economic_stress",
            ),
            DemoScale(
                name="self_esteem",
                range=(1, 5),
                higher_is_better=True,
                baseline=2.9,
                person_sd=0.60,
                occasion_sd=0.15,
                item_sd=0.50,
                change_sd=0.35,
                items=("se1", "se2", "se3", "se4"),
                reverse_items=("se2",),
                item_offsets=(0.10, -0.20, 0.05, 0.05),
            ),
            DemoScale(
                name="network",
                range=(0, 10),
                higher_is_better=True,
                baseline=4.5,
                person_sd=1.7,
                occasion_sd=0.5,
                item_sd=0.9,
                change_sd=1.3,
                score="network",
            ),
            DemoScale(
                name="independence",
                range=(1, 4),
                higher_is_better=True,
                baseline=2.6,
                person_sd=0.55,
                occasion_sd=0.15,
                item_sd=0.38,
                change_sd=0.35,
                items=("in1", "in2", "in3"),
                item_offsets=(0.10, -0.15, 0.05),
            ),
        )
    }
)
"""The simulated scales, by name."""

TRUE_CHANGE: Mapping[str, float] = MappingProxyType(
    {
        "anxiety_depression": -0.40,
        "ptsd": -0.30,
        "economic_stress": -9.0,
        "self_esteem": 0.35,
        "network": 1.0,
        "independence": 0.50,
    }
)
"""Expected change of each scale's observed score from occasion 1 to 4, in scale units.

Averaged over phases with :data:`PHASE_SHARES`; a phase's own change is
``TRUE_CHANGE[scale] * PHASE_CHANGE_FACTOR[phase]`` (see :func:`true_change`).
"""

_SEVERITY_LOADING = 0.6  # correlation of each scale's client level with general severity
_DROPOUT_INTERCEPT = -2.1  # logit of dropping out between two occasions at average severity
_DROPOUT_SLOPE = 0.9  # log odds ratio of dropout per SD of severity
_SKIP_OCCASION = 0.04  # chance of missing occasion 2 or 3 and returning later
_MISSING_ITEM = 0.03  # chance that one answer is missing
_MOSTLY_SKIPPED = 0.015  # chance that a client skips (nearly) a whole scale at an occasion


@dataclass(frozen=True)
class DemoGrantee:
    """A fictitious grantee whose data :func:`generate_indicator_data` simulates.

    Attributes
    ----------
    slug
        File stem of its data (``data/demo/<slug>.csv``) and parameter file.
    grantee, intervention
        Organisation and intervention names (Danish).
    departments
        Department names (Danish towns) and the share of clients in each.
    size
        Number of clients.
    seed
        Default random seed.
    id_prefix
        Prefix of client ids ("FN" gives "FN-0001").
    scales
        Names of the scales it measures (keys of :data:`SCALES`).
    language, brand
        Report language and brand its parameter file asks for.
    """

    slug: str
    grantee: str
    intervention: str
    departments: Mapping[str, float]
    size: int
    seed: int
    id_prefix: str
    scales: tuple[str, ...] = tuple(SCALES)
    language: str = "da"
    brand: str = "default"

    def __post_init__(self) -> None:
        unknown = [s for s in self.scales if s not in SCALES]
        if unknown:
            raise ValueError(f"`scales` must be among {set(SCALES)}, got {unknown}")
        if self.size < 1:
            raise ValueError(f"`size` must be at least 1, got {self.size}")
        if abs(sum(self.departments.values()) - 1) > 1e-9:
            raise ValueError(f"department shares must sum to 1, got {dict(self.departments)}")


GRANTEES: Mapping[str, DemoGrantee] = MappingProxyType(
    {
        g.slug: g
        for g in (
            DemoGrantee(
                slug="kvindecenter_syd",
                grantee="Kvindecenter Syd",
                intervention="Et liv uden vold",
                departments={"Kolding": 0.45, "Esbjerg": 0.35, "Sønderborg": 0.20},
                size=400,
                seed=20250101,
                id_prefix="KS",
                language="en",
                brand="havblik_fonden",
            ),
            DemoGrantee(
                slug="familiehuset_nord",
                grantee="Familiehuset Nord",
                intervention="Ud af voldens skygge",
                departments={"Aalborg": 0.6, "Hjørring": 0.4},
                size=120,
                seed=20250202,
                id_prefix="FN",
                brand="nordlys_fonden",
            ),
            DemoGrantee(
                slug="moedrenetvaerket_fyn",
                grantee="Mødrenetværket Fyn",
                intervention="Stærke mødre",
                departments={"Odense": 0.6, "Svendborg": 0.4},
                size=25,
                seed=20250303,
                id_prefix="MF",
                scales=("anxiety_depression", "self_esteem", "network", "independence"),
            ),
        )
    }
)
"""The demo grantees, by slug: large (400 clients), mid-size (120) and small (25)."""

_FIRST_START = np.datetime64("2024-07-01")
_START_WINDOW_DAYS = 214  # starts spread from July 2024 to end of January 2025


def true_change(scale: str, phase: str | None = None) -> float:
    """Return the true mean change of `scale` from occasion 1 to 4, in scale units.

    With `phase` None, the change averaged over phases (:data:`TRUE_CHANGE`); otherwise the
    change in that phase.
    """
    if scale not in TRUE_CHANGE:
        check_choice("scale", scale, tuple(TRUE_CHANGE))
    if phase is None:
        return TRUE_CHANGE[scale]
    if phase not in PHASE_CHANGE_FACTOR:
        check_choice("phase", phase, tuple(PHASES))
    return TRUE_CHANGE[scale] * PHASE_CHANGE_FACTOR[phase]


def _expected_answer(mean: np.ndarray, sd: np.ndarray, low: int, high: int) -> np.ndarray:
    """E[clip(round(X), low, high)] for X ~ N(mean, sd^2), elementwise."""
    thresholds = np.arange(low, high) + 0.5
    return low + norm.sf((thresholds[:, None] - mean) / sd).sum(axis=0)


def _expected_score(s: DemoScale, shift: float, occasion_share: float) -> float:
    """Expected observed keyed score with the latent mean moved by `shift` * share."""
    sd = np.sqrt(
        s.person_sd**2 + s.occasion_sd**2 + s.item_sd**2 + (occasion_share * s.change_sd) ** 2
    )
    mean = s.baseline + s.offsets + shift * occasion_share
    return float(_expected_answer(mean, np.full_like(mean, sd), *s.range).mean())


@cache
def _latent_shift(scale: str, phase: str) -> float:
    """Latent mean change that makes the observed score change equal the true change."""
    s = SCALES[scale]
    target = true_change(scale, phase)
    start = _expected_score(s, 0.0, 0.0)
    width = float(s.range[1] - s.range[0])
    return float(brentq(lambda d: _expected_score(s, d, 1.0) - start - target, -width, width))


def _resolve(grantee: DemoGrantee | str) -> DemoGrantee:
    if isinstance(grantee, DemoGrantee):
        return grantee
    if grantee not in GRANTEES:
        check_choice("grantee", grantee, tuple(GRANTEES))
    return GRANTEES[grantee]


def generate_indicator_data(grantee: DemoGrantee | str, *, seed: int | None = None) -> pd.DataFrame:
    """Simulate one grantee's indicator-system data.

    Parameters
    ----------
    grantee
        A :class:`DemoGrantee` or the slug of one in :data:`GRANTEES`.
    seed
        Random seed; the grantee's own seed when None.

    Returns
    -------
    pandas.DataFrame
        Long table, one row per client x measurement occasion, sorted by client and occasion:
        ``client_id`` (e.g. "FN-0001"), ``department``, ``phase`` (a code of :data:`PHASES`),
        ``measurement`` (1..4), ``date`` (datetime64, occasions about 91 days apart), then the
        item columns (integers on the item range, reverse items stored reversed) and score
        columns (integers on the score range) of the grantee's scales; missing answers are
        ``<NA>``. Clients drop out after an occasion with a probability that rises with their
        baseline severity.
    """
    g = _resolve(grantee)
    rng = np.random.default_rng(g.seed if seed is None else seed)
    n = g.size

    departments = list(g.departments)
    department = rng.choice(len(departments), size=n, p=list(g.departments.values()))
    phase = rng.choice(len(PHASES), size=n, p=[PHASE_SHARES[p] for p in PHASES])
    severity = rng.standard_normal(n)

    # Who is measured when: dropout after each occasion depends on severity.
    present = np.ones((n, len(OCCASIONS)), dtype=bool)
    p_drop = expit(_DROPOUT_INTERCEPT + _DROPOUT_SLOPE * severity)
    for t in range(1, len(OCCASIONS)):
        present[:, t] = present[:, t - 1] & (rng.random(n) >= p_drop)
    skip = rng.random((n, len(OCCASIONS))) < _SKIP_OCCASION
    skip[:, [0, -1]] = False
    later = np.flip(np.cumsum(np.flip(present, axis=1), axis=1), axis=1) > 1  # seen again
    present &= ~(skip & later)

    start_day = rng.integers(0, _START_WINDOW_DAYS + 1, size=n)
    gaps = np.clip(np.rint(rng.normal(91, 7, size=(n, len(OCCASIONS) - 1))), 75, 110)
    days = start_day[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(gaps, axis=1)], 1)

    columns: dict[str, np.ndarray] = {}
    for k, name in enumerate(SCALES):
        srng = np.random.default_rng([g.seed if seed is None else seed, 1000 + k])
        s = SCALES[name]
        # Draw for every scale so a grantee's subset does not change the others' values.
        values = _simulate_scale(s, severity, phase, srng)
        if name in g.scales:
            columns.update(values)

    rows = present.ravel()
    client = np.repeat(np.arange(n), len(OCCASIONS))[rows]
    width = max(4, len(str(n)))
    frame = pd.DataFrame(
        {
            "client_id": [f"{g.id_prefix}-{i + 1:0{width}d}" for i in client],
            "department": np.asarray(departments, dtype=object)[department[client]],
            "phase": np.asarray(PHASES, dtype=object)[phase[client]],
            "measurement": np.tile(np.asarray(OCCASIONS), n)[rows],
            "date": _FIRST_START + days.ravel()[rows].astype("timedelta64[D]"),
        }
    )
    frame["department"] = frame["department"].astype("str")
    frame["phase"] = frame["phase"].astype("str")
    for col, values in columns.items():
        frame[col] = pd.array(values.ravel()[rows], dtype="Int64")
    return frame


def _simulate_scale(
    s: DemoScale, severity: np.ndarray, phase: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Answers of `n` clients at every occasion: column -> float array (n, occasions), NaN."""
    n, n_occ = len(severity), len(OCCASIONS)
    worse = 1.0 if not s.higher_is_better else -1.0  # direction in which severity pushes
    z = _SEVERITY_LOADING * severity + np.sqrt(1 - _SEVERITY_LOADING**2) * rng.standard_normal(n)
    level = s.baseline + worse * s.person_sd * z
    shift = np.array([_latent_shift(s.name, p) for p in PHASES])[phase]
    change = shift + s.change_sd * rng.standard_normal(n)
    state = (
        level[:, None]
        + change[:, None] * _TRAJECTORY[None, :]
        + s.occasion_sd * rng.standard_normal((n, n_occ))
    )
    low, high = s.range
    answers = (
        state[:, :, None] + s.offsets + s.item_sd * rng.standard_normal((n, n_occ, len(s.offsets)))
    )
    answers = np.clip(np.rint(answers), low, high)

    missing = rng.random(answers.shape) < _MISSING_ITEM
    mostly = rng.random((n, n_occ)) < _MOSTLY_SKIPPED
    keep_one = rng.integers(0, answers.shape[2], size=(n, n_occ))
    kept = np.arange(answers.shape[2])[None, None, :] == keep_one[:, :, None]
    if answers.shape[2] == 1:
        kept[:] = False
    missing |= mostly[:, :, None] & ~kept
    answers[missing] = np.nan

    out: dict[str, np.ndarray] = {}
    for j, col in enumerate(s.columns):
        values = answers[:, :, j]
        out[col] = low + high - values if col in s.reverse_items else values
    return out


def write_demo_data(
    folder: Path = Path("data/demo"),
    *,
    grantees: Iterable[DemoGrantee | str] | None = None,
) -> list[Path]:
    """Write each demo grantee's data to ``<folder>/<slug>.csv`` and return the paths.

    The files are UTF-8, comma separated, with a decimal point and ISO dates; they are the
    same byte for byte on every run, and each is written to a temporary file first and then
    renamed, so a failed run never leaves a half-written file.

    Parameters
    ----------
    folder
        Output folder, created if missing.
    grantees
        Grantees (or slugs) to write; all of :data:`GRANTEES` when None.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [_resolve(g) for g in (GRANTEES.values() if grantees is None else grantees)]
    paths = []
    for g in chosen:
        frame = generate_indicator_data(g)
        target = folder / f"{g.slug}.csv"
        text = frame.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d")
        write_bytes_atomic(target, text.encode("utf-8"))
        paths.append(target)
    return paths


def demo_params_files(project_root: Path) -> list[Path]:
    """Return the demo parameter files, ``<project_root>/params/demo/*.yml``, sorted."""
    return sorted((Path(project_root) / "params" / "demo").glob("*.yml"))


if __name__ == "__main__":  # pragma: no cover
    for path in write_demo_data():
        print(path)
