"""`aigw usage --cost` on plain data (aigw/output/usage.py): the gateway's own count per call
(`cost_usd`, what the budget was charged), else the tokens at the YAML's price; failed calls
cost nothing; calls of an unpriced model are counted apart, never guessed."""

from __future__ import annotations

import pytest

from aigw.config.limits import Price
from aigw.output import usage

PRICES = {"gpt-5.3-codex": Price(input=1.75, cached_input=0.175, output=14)}


def _rec(key: str, model: str, **extra: object) -> dict[str, object]:
    return {
        "aigw_usage": 1,
        "time": "2026-12-01T10:00:00Z",
        "key": key,
        "model": model,
        "prompt_tokens": 10_000,
        "cached_tokens": 4_000,
        "completion_tokens": 2_000,
        "total_tokens": 12_000,
        "status": "success",
        **extra,
    }


def test_cost_by_key_prefers_the_gateways_count_and_prices_the_rest() -> None:
    at_price = PRICES["gpt-5.3-codex"].cost(10_000, 4_000, 2_000)
    records = [
        _rec("alice", "gpt-5.3-codex", cost_usd=0.5),  # counted by the gateway at its price
        _rec("alice", "gpt-5.3-codex@payg"),  # an older line: today's price of its alias
        _rec("alice", "gpt-5.3-codex", status="failure"),  # not billed
        _rec("bob", "text-embedding-3-large"),  # no price in the YAML
    ]
    rows = {r["key"]: r for r in usage.aggregate(records, "key", PRICES)}
    assert rows["alice"]["cost_usd"] == pytest.approx(0.5 + at_price)
    assert (rows["alice"]["unpriced"], rows["bob"]["unpriced"]) == (0, 1)
    assert rows["bob"]["cost_usd"] == 0
    total = usage.totals(rows.values())
    assert total["cost_usd"] == pytest.approx(0.5 + at_price) and total["unpriced"] == 1
    assert usage.to_csv(list(rows.values()), "key").splitlines()[0] == (
        "key,requests,failures,refused,prompt_tokens,completion_tokens,total_tokens,cost_usd,unpriced"
    )


def test_without_cost_the_rows_are_as_before() -> None:
    rows = usage.aggregate([_rec("alice", "gpt-5.3-codex", cost_usd=0.5)], "key")
    assert "cost_usd" not in rows[0] and usage.columns(rows) == usage.COUNTS
    assert set(usage.totals(rows)) == set(usage.COUNTS)
