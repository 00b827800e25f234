"""Crash and resume: the deploy (then the destroy) is SIGKILLed right after each write of its
plan in turn; the next run converges with nothing lost or duplicated and an empty plan."""

from __future__ import annotations

from typing import Any

import pytest

from plan_support import clean_writes

from .scenarios import crash_run

# A clean prod deploy's writes (each resource the kinds desire: 11 with the shipped kinds, the
# developer keys secret created empty among them) and a destroy's after it (8), from the
# registry; checked against a clean run below.
DEPLOY_WRITES, DESTROY_WRITES = clean_writes("prod")


@pytest.mark.parametrize("k", range(1, DEPLOY_WRITES + 1))
def test_deploy_killed_after_write_k_resumes(k: int, clean: dict[str, Any]) -> None:
    run = crash_run("deploy", k, clean)
    assert run.faults["crash"] == 1 or k == DEPLOY_WRITES, run.errors
    # The very next deploy converges (no second try needed).
    assert run.converged and run.attempts == 1, run.errors
    assert run.plan_empty_after and (run.lost, run.duplicated) == (0, 0), run.diffs


@pytest.mark.parametrize("k", range(1, DESTROY_WRITES + 1))
def test_destroy_killed_after_write_k_resumes(k: int, clean: dict[str, Any]) -> None:
    run = crash_run("destroy", k, clean)
    assert run.converged, run.errors
    assert run.plan_empty_after and (run.lost, run.duplicated) == (0, 0), run.diffs


def test_write_counts_match_a_clean_run() -> None:
    from .scenarios import writes_of_clean

    assert writes_of_clean("deploy") == DEPLOY_WRITES
    assert writes_of_clean("destroy") == DESTROY_WRITES
