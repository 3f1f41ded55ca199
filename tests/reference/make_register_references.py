"""Write the reference numbers of the register panel tests (run from the repository root).

    .venv/bin/python tests/reference/make_register_references.py

It writes, next to this script:

* ``stata_xtreg_fe_simulated.csv.gz``: the simulated panel of linearmodels' test suite
  (``linearmodels/tests/panel/results/simulated-panel.dta``, linearmodels 7.1): firm, time,
  y, x1..x5. The published Stata 13 results for it (``xtreg y x1-x5, fe vce(cluster
  firm_id)``, from ``stata-panel-simulated-results.txt`` of the same folder) are copied by
  hand into ``stata_xtreg_fe_cluster.json``.
* ``pyfixest_panel.csv.gz`` and ``pyfixest_reference.json``: a small staggered panel
  (seeded) and pyfixest's ``feols`` results on it with its default small-sample
  correction (which reproduces R fixest's defaults): the event study with binned ends,
  person and year effects, controls, weights; the TWFE; and a one-way model.
* ``mpdta_moderndid_reference.json``: moderndid's analytic (non-bootstrap) standard errors
  on ``mpdta`` (Callaway & Sant'Anna with ``est_method="reg"``), the Python port of R
  ``did``: a cross-check of the influence functions; the point estimates are also
  published in the ``did`` README (see ``did_mpdta_published.json``).
* ``mpdta_pyfixest_reference.json``: pyfixest's TWFE and event study on ``mpdta`` as the
  reference suite's ``evaltools run`` sets them up (all counties, no matching).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def stata_panel() -> None:
    src = resources.files("linearmodels.tests.panel.results") / "simulated-panel.dta"
    data = pd.read_stata(str(src))
    out = data[["firm", "time", "y", "x1", "x2", "x3", "x4", "x5"]].copy()
    out["time"] = out["time"].dt.year
    out.to_csv(HERE / "stata_xtreg_fe_simulated.csv.gz", index=False, float_format="%.17g")


def pyfixest_panel() -> pd.DataFrame:
    rng = np.random.default_rng(20140101)
    n, years = 240, np.arange(2010, 2019)
    person = np.repeat(np.arange(n), len(years))
    year = np.tile(years, n)
    start = np.where(rng.random(n) < 0.4, rng.choice([2013, 2014, 2015, 2016], n), 0)
    start_i = start[person]
    x1, x2, x3 = rng.normal(size=(3, len(person)))
    effect = np.where((start_i > 0) & (year >= start_i), 0.3 + 0.1 * (year - start_i), 0.0)
    y = (
        rng.normal(size=n)[person]
        + 0.05 * (year - 2010)
        + 0.5 * x1
        - 0.2 * x2
        + effect
        + rng.normal(size=len(person))
    )
    frame = pd.DataFrame(
        {
            "person": person,
            "year": year,
            "start": start_i,
            "y": y,
            "x1": x1,
            "x2": x2,
            "x3": x3,
            "w": np.round(rng.uniform(0.5, 2.0, n)[person], 3),
        }
    )
    frame.to_csv(HERE / "pyfixest_panel.csv.gz", index=False, float_format="%.17g")
    return frame


def pyfixest_reference(frame: pd.DataFrame) -> None:
    import pyfixest as pf

    data = frame.copy()
    rel = np.where(data["start"] > 0, np.clip(data["year"] - data["start"], -3, 3), -1)
    for e in [-3, -2, 0, 1, 2, 3]:
        data[f"event_{e}"] = ((data["start"] > 0) & (rel == e)).astype(float)
    data["D"] = ((data["start"] > 0) & (data["year"] >= data["start"])).astype(float)
    terms = "event_-3 + event_-2 + event_0 + event_1 + event_2 + event_3".replace("-", "m")
    data.columns = [c.replace("-", "m") for c in data.columns]
    models = {
        "event_study": f"y ~ {terms} + x1 + x2 + x3 | person + year",
        "twfe": "y ~ D | person + year",
        "oneway": "y ~ x1 + x2 | person",
    }
    out: dict = {"pyfixest_version": pf.__version__, "ssc": "pyfixest default (fixest's)"}
    for name, fml in models.items():
        for weights in (None, "w"):
            fit = pf.feols(fml, data, vcov={"CRV1": "person"}, weights=weights)
            key = name + ("_weighted" if weights else "")
            out[key] = {
                "formula": fml,
                "coef": {
                    k.replace("m", "-") if k.startswith("event_") else k: float(v)
                    for k, v in fit.coef().items()
                },
                "se": {
                    k.replace("m", "-") if k.startswith("event_") else k: float(v)
                    for k, v in fit.se().items()
                },
            }
    (HERE / "pyfixest_reference.json").write_text(json.dumps(out, indent=2) + "\n")


def moderndid_reference() -> None:
    import moderndid as md

    data = md.load_mpdta()
    out: dict = {
        "moderndid_version": md.__version__,
        "call": "att_gt(mpdta, yname='lemp', tname='year', idname='countyreal', "
        "gname='first.treat', est_method='reg', boot=False, cband=False)",
    }
    for control in ("nevertreated", "notyettreated"):
        res = md.att_gt(
            data,
            yname="lemp",
            tname="year",
            idname="countyreal",
            gname="first.treat",
            est_method="reg",
            boot=False,
            cband=False,
            control_group=control,
        )
        block = {
            "att_gt": [float(v) for v in res.att_gt],
            "se_gt": [float(v) for v in res.se_gt],
            "groups": [int(v) for v in res.groups],
            "times": [int(v) for v in res.times],
            "wald_pvalue": float(res.wald_pvalue),
        }
        for kind in ("simple", "group", "dynamic"):
            agg = md.aggte(res, type=kind, boot=False, cband=False)
            block[kind] = {"att": float(agg.overall_att), "se": float(agg.overall_se)}
            if kind == "dynamic":
                block[kind]["by_event"] = [float(v) for v in agg.att_by_event]
                block[kind]["se_by_event"] = [float(v) for v in agg.se_by_event]
            if kind == "group":
                block[kind]["by_group"] = [float(v) for v in agg.att_by_event]
                block[kind]["se_by_group"] = [float(v) for v in agg.se_by_event]
        out[control] = block
    (HERE / "mpdta_moderndid_reference.json").write_text(json.dumps(out, indent=2) + "\n")


def mpdta_pyfixest_reference() -> None:
    """TWFE and event study on mpdta as `evaltools run` sets them up (no matching)."""
    import moderndid as md
    import pyfixest as pf

    data = md.load_mpdta().to_pandas()
    g = data["first.treat"]
    rel = np.where(g > 0, np.clip(data["year"] - g, -3, 3), -1)
    for e in [-3, -2, 0, 1, 2, 3]:
        data[f"event_{e}".replace("-", "m")] = ((g > 0) & (rel == e)).astype(float)
    data["D"] = ((g > 0) & (data["year"] >= g)).astype(float)
    terms = " + ".join(f"event_{e}".replace("-", "m") for e in [-3, -2, 0, 1, 2, 3])
    models = {
        "twfe": "lemp ~ D | countyreal + year",
        "event_study": f"lemp ~ {terms} | countyreal + year",
    }
    out: dict = {
        "pyfixest_version": pf.__version__,
        "data": "mpdta (moderndid.load_mpdta), never-treated: first.treat == 0",
        "vcov": "CRV1 by countyreal, pyfixest's default small-sample correction",
        "event_study_binning": "event time year - first.treat clipped to [-3, 3], reference -1",
    }

    def key(term: str) -> str:
        return term.replace("m", "-") if term.startswith("event_") else term

    for name, fml in models.items():
        fit = pf.feols(fml, data, vcov={"CRV1": "countyreal"})
        out[name] = {
            "formula": fml,
            "coef": {key(k): float(v) for k, v in fit.coef().items()},
            "se": {key(k): float(v) for k, v in fit.se().items()},
        }
    (HERE / "mpdta_pyfixest_reference.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    stata_panel()
    pyfixest_reference(pyfixest_panel())
    moderndid_reference()
    mpdta_pyfixest_reference()
