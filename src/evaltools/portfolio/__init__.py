"""The portfolio: every grantee's ``results.json`` of a round side by side, for the board.

Reading grantees' results (:mod:`~evaltools.portfolio.grantees`), the round
(:mod:`~evaltools.portfolio.round`) and its frames (:mod:`~evaltools.portfolio.frames`,
:mod:`~evaltools.portfolio.pooling`), tables, figures and the report
(:mod:`~evaltools.portfolio.build`), and a demo round (:mod:`~evaltools.portfolio.demo`).
"""
