"""The guard's limits on plain data (issue 26): a key's own limits over the defaults, the
budget's answer, LiteLLM's rate-limit message reworded, and a broken limits file failing
closed. The same rules on the real LiteLLM with a real Redis: tests/gateway/test_limits.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aigw.gateway.files import aigw_guard as guard

NOW = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)


def _keys(**records: dict[str, object]) -> str:
    return json.dumps({"version": 1, "keys": records})


def test_a_keys_own_limits_win_over_the_defaults_and_the_gateway_key_has_none() -> None:
    keys = guard.parse_keys(
        _keys(
            alice={"sha256": "a" * 64, "tpm": 300, "budget": 2.5},
            bob={"sha256": "b" * 64},
        )
    )
    defaults = guard.parse_limits(json.dumps({"tpm": 1000, "rpm": 60}))
    assert guard.limits_of(keys["a" * 64], defaults) == guard.KeyLimits(300, 60, 2.5)
    assert guard.limits_of(keys["b" * 64], defaults) == guard.KeyLimits(1000, 60, None)
    assert guard.limits_of(None, defaults) == guard.KeyLimits(None, None, None)
    assert guard.parse_limits(None) == guard.Limits()  # no file: no limits


def test_a_bad_limit_fails_closed() -> None:
    keys = guard.parse_keys(_keys(ok={"sha256": "c" * 64}, bad={"sha256": "d" * 64, "rpm": "lots"}))
    assert "d" * 64 not in keys and "c" * 64 in keys  # that key is refused (401), not unlimited
    assert guard.parse_limits('{"tpm": 0}').broken
    assert guard.parse_limits("{not json").broken


def test_the_budget_answer_is_openais_insufficient_quota_naming_key_and_reset() -> None:
    assert guard.budget_refusal("dave", 5.0, 4.99, NOW) is None
    refusal = guard.budget_refusal("dave", 5.0, 5.0, NOW)
    assert refusal is not None
    body = json.loads(guard.error_body(refusal))["error"]
    assert body["code"] == body["type"] == "insufficient_quota"
    assert "this key (dave) has used its monthly budget: $5.00 of $5.00" in body["message"]
    assert "resets on 2027-01-01 UTC" in body["message"]  # December turns into January
    assert refusal.status == 429 and refusal.reason == "budget"
    assert guard.spend_key("dave", NOW) == "aigw:spend:2026-12:dave"


def test_litellms_rate_limit_message_is_reworded_without_the_key_digest() -> None:
    digest = "6ef5da7fba51c3dd22309d07a1233037fffef89cb266107c2438b595b12bf20b"
    # LiteLLM 1.81.15 proxy/hooks/parallel_request_limiter_v3.py _handle_rate_limit_error
    message = (
        f"Rate limit exceeded for api_key: {digest}. Limit type: tokens. Current limit: 300, "
        "Remaining: 0. Limit resets at: 2026-12-08 03:02:41 UTC"
    )
    refusal = guard.rate_limit_refusal(message, "bob", "60")
    assert refusal is not None
    body = json.loads(guard.error_body(refusal))["error"]
    assert body == {
        "message": "rate limit of this key (bob): 300 tokens per minute; retry after 60 s",
        "type": "tokens",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert digest not in json.dumps(body)
    # Azure's own 429 (a throttled upstream) is not a key's limit: left as it is
    assert (
        guard.rate_limit_refusal("Requests to the Responses_Create Operation ...", "bob", "2")
        is None
    )
