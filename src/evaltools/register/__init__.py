"""Register-style panels: participants against a matched comparison group from the registers.

The second analysis of evaltools (issue 3): a person x year panel from national registers,
participants with (staggered) start years and a comparison pool. The steps, one module each:

* :mod:`~evaltools.register.readers`: DuckDB reads only the needed columns and persons;
* :mod:`~evaltools.register.propensity` and :mod:`~evaltools.register.matching`: the logit
  propensity score; nearest-neighbour matching with a caliper, exact on start cohort, pseudo
  start years for comparison persons;
* :mod:`~evaltools.register.balance`: balance table and love plot;
* :mod:`~evaltools.register.fixed_effects`: least squares with absorbed person and year
  effects and person-clustered standard errors (fixest/Stata small-sample convention), with
  the within transformations in :mod:`~evaltools.register.within` and the PanelOLS
  cross-check in :mod:`~evaltools.register.panelols`, both returning a
  :class:`~evaltools.register.fit_result.FixedEffectsFit`;
* :mod:`~evaltools.register.did`: 2x2 difference-in-differences and TWFE;
* :mod:`~evaltools.register.event_study`: effect by year since start, pre-trend test;
* :mod:`~evaltools.register.staggered` and :mod:`~evaltools.register.aggregation`:
  Callaway & Sant'Anna group-time effects, their aggregations and inference;
* :mod:`~evaltools.register.results` and :mod:`~evaltools.register.figures`: the result
  object, ``results.json`` records and the figures;
* :mod:`~evaltools.data.demo_register`: synthetic register data with known effects.

:func:`analyse_register_panel` runs them all from a parameter section.
"""

from evaltools.data.demo_register import (
    TRUE_EFFECTS,
    make_register_demo,
    true_effect,
    write_register_demo,
)
from evaltools.register.analysis import analyse_register_panel, estimation_sample, match_register
from evaltools.register.balance import BalanceTable, balance_table, love_plot
from evaltools.register.did import DidResult, did_2x2, twfe
from evaltools.register.event_study import EventStudyResult, event_study
from evaltools.register.figures import effect_figure, trends_figure
from evaltools.register.fixed_effects import FixedEffectsFit, fit_fixed_effects
from evaltools.register.matching import MatchResult, match_comparisons
from evaltools.register.results import RegisterPanelResult
from evaltools.register.staggered import StaggeredResult, staggered_att

__all__ = [
    "TRUE_EFFECTS",
    "BalanceTable",
    "DidResult",
    "EventStudyResult",
    "FixedEffectsFit",
    "MatchResult",
    "RegisterPanelResult",
    "StaggeredResult",
    "analyse_register_panel",
    "balance_table",
    "did_2x2",
    "effect_figure",
    "estimation_sample",
    "event_study",
    "fit_fixed_effects",
    "love_plot",
    "make_register_demo",
    "match_comparisons",
    "match_register",
    "staggered_att",
    "trends_figure",
    "true_effect",
    "twfe",
    "write_register_demo",
]
