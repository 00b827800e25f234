"""Issue 22: plan's upstream preflight (the Azure OpenAI account, its deployments) reads beside
the observation, not after it, so a no-op plan costs about one round of reads."""

from __future__ import annotations

from pathlib import Path

import azure.mgmt.cognitiveservices  # noqa: F401  (imported up front, as a CLI run has it)

from aigw.engine import workflow

from .harness import close_stack, make_stack

# Added to every request: each observation read takes at least this long, so a preflight
# started with the observation starts well before the observation's last read has ended.
LATENCY = 0.25


def _preflight(path: str) -> bool:
    return "/providers/microsoft.cognitiveservices/" in path.lower()


def test_preflight_reads_start_before_the_observation_ends(tmp_path: Path) -> None:
    stack = make_stack(tmp_path, with_gateway=False)  # its account serves the emulator
    try:
        session = stack.session()
        stack.cloud.faults.add("* *", "latency", latency=LATENCY)
        mark = stack.mark()
        plan = workflow.make_plan(session)
        session.close()
        assert plan.has_changes  # nothing deployed: the plan creates everything
        reads = [e for e in stack.since(mark) if not e.is_write]
        upstream = [e for e in reads if _preflight(e.path)]
        observation = [e for e in reads if not _preflight(e.path)]
        # the account found among the subscription's, then its deployments; each read once
        assert len(upstream) == 2, [e.path for e in upstream]
        assert len({e.path for e in upstream}) == 2
        assert observation
        first_upstream = min(e.time for e in upstream)
        last_observed = max(e.time + e.duration_ms / 1000 for e in observation)
        # Ordering, not timing: after the observation, the preflight would start once its
        # last answer had been sent.
        assert first_upstream < last_observed, (first_upstream, last_observed)
    finally:
        close_stack(stack)
