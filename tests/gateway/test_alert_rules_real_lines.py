"""The alert rules (resources/alert_rule.py) on console lines the real gateway wrote: LiteLLM
1.81.15 with aigw's guard, usage logger and limits, two replicas sharing a real Redis
(tests/gateway/test_limits.py's pair). Each rule's query runs on those lines through the local
Log Analytics' KQL (aigw_localcloud/arm/kql.py, what the local workspace answers) and fires
on the scenario, not on the control:
- a developer key past 80% and then 100% of its budget (the usage lines' spend_usd/budget_usd,
  then the guard's refusal line) fires both budget rules for that key only;
- LiteLLM's own rate limiter refusing a key (429 usage lines with no model group) is not
  Azure's 429; Azure's 429s (the emulator throttling) are."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aigw.config.alerts import AlertsConfig
from aigw.resources.alert_rule import rules_of
from aigw_localcloud.arm import kql
from aigw_localcloud.openai.faults import Fault
from gateway.test_limits import Pair, _call, limits_pair

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

APP = "ca-real-lines"
ALERTS = AlertsConfig.model_validate(
    {"emails": ["oncall@example.com"], "min_calls": 5, "azure_throttling": {"percent": 10}}
)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with limits_pair(tmp_path_factory.mktemp("alert-lines")) as p:
        yield p


def _lines(p: Pair, key: str | None = None, at_least: int = 0) -> list[str]:
    """The gateway's usage and refusal lines, once `key` has `at_least` of them (a usage line
    is written after the answer has been sent)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [x for x in p.log().splitlines() if x.startswith('{"aigw_')]
        mine = [x for x in lines if key is not None and f'"key":"{key}"' in x]
        if len(mine) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def fired(lines: list[str], rule_id: str) -> set[tuple[str, ...]]:
    """The dimension combinations the rule fires for on these lines (Count of rows > 0)."""
    (rule,) = [r for r in rules_of(ALERTS, "test", APP) if r.id == rule_id]
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rows: list[dict[str, Any]] = [
        {"TimeGenerated": stamp, "ContainerAppName_s": APP, "Log_s": line} for line in lines
    ]
    table = kql.run(kql.parse(rule.query), rows, now=now)["tables"][0]
    names = [c["name"] for c in table["columns"]]
    return {
        tuple(str(dict(zip(names, row, strict=True))[d]) for d in rule.dimensions)
        for row in table["rows"]
    }


def test_budget_rules_fire_for_the_key_past_its_budget(pair: Pair, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    if now.day == 1 and now.hour == 0 and now.minute < 5:
        pytest.skip("the rules read this month's lines only: wait for the month's sixth minute")
    # dave's budget is $1.00; at the test prices one call costs about $0.59
    first = _call(pair, 0, "dave")
    assert first.status_code == 200
    for _ in range(3):  # carol has no budget: never in a budget alert
        assert _call(pair, 1, "carol").status_code == 200
    lines = _lines(pair, "carol", 3)
    assert fired(_lines(pair, "dave", 1), "budget-warning") == set()  # dave at ~59%
    assert _call(pair, 1, "dave").status_code == 200  # now past $1.00 (~119%)
    lines = _lines(pair, "dave", 2)
    assert fired(lines, "budget-warning") == {("dave",)}
    assert fired(lines, "budget-exhausted") == {("dave",)}
    refused = _call(pair, 0, "dave")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "insufficient_quota"
    lines = _lines(pair, "dave", 3)
    assert any('"reason":"budget"' in x for x in lines)  # the guard's refusal line
    assert fired(lines, "budget-exhausted") == {("dave",)}


def test_azures_429s_fire_the_throttling_rule_and_the_limiters_do_not(pair: Pair) -> None:
    codes = [_call(pair, i, "alice").status_code for i in range(9)]  # rpm 6
    assert codes.count(429) == 3, codes
    before = _lines(pair, "alice", 9)
    assert fired(before, "azure-throttling") == set()  # only the limiter's 429s so far
    aoai = pair.gateways[0].aoai
    aoai.faults.set(Fault(status=429, count=20, retry_after_ms=0))
    try:
        throttled = [_call(pair, 0, "carol").status_code for _ in range(2)]
    finally:
        aoai.faults.set(None)
    assert throttled == [429, 429]
    lines = _lines(pair, "carol", 5)
    assert fired(lines, "azure-throttling") == {()}
    assert fired(lines, "server-errors") == set()
