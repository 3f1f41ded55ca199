"""Issue 16, item 6: a grantee's checks (run in the batch's own process) are under the batch's
time limit too."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from evaltools.batch.planning import CheckTimeout, check_time_limit


def test_slow_check_is_stopped_with_a_clear_error() -> None:
    started = time.monotonic()
    with (
        pytest.raises(CheckTimeout, match=r"nord.yml: checking .* did not finish within 0.2 s"),
        check_time_limit(0.2, Path("params/nord.yml")),
    ):
        while True:  # a check that never ends (a huge file, a stalled read)
            time.sleep(0.01)
    assert time.monotonic() - started < 5


def test_no_limit_and_fast_checks_pass() -> None:
    with check_time_limit(None, Path("a.yml")):
        time.sleep(0.01)
    with check_time_limit(5, Path("a.yml")):
        pass
    time.sleep(0.01)  # the alarm was cancelled: nothing fires after the block
