"""Transient faults on every route (429 with Retry-After, 500, 503, dropped connections, lost
answers, slow answers) at up to 20% of requests: every deploy converges to the clean state."""

from __future__ import annotations

from typing import Any

import pytest

from .scenarios import fault_run, pick_rate, seeds_from_env

SEEDS = seeds_from_env(8)


@pytest.mark.parametrize("seed", range(SEEDS))
def test_deploy_under_faults_converges_without_duplicates(seed: int, clean: dict[str, Any]) -> None:
    run = fault_run(seed, clean, rate=pick_rate(seed))
    assert sum(run.faults.values()) > 0
    assert run.converged, run.errors
    assert run.plan_empty_after, run.diffs
    assert (run.lost, run.duplicated) == (0, 0), run.diffs
    # aigw retries what is transient itself: the first deploy succeeds.
    assert run.attempts == 1, run.errors


def test_top_rate_on_every_kind_converges(clean: dict[str, Any]) -> None:
    run = fault_run(1000, clean, rate=0.2)
    assert {"429", "500", "503"} & set(run.faults)
    assert run.ok and run.attempts == 1, (run.errors, run.diffs)
