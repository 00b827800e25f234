"""Several upstreams per model (issue 16), on the real LiteLLM 1.81.15 in front of one Azure
OpenAI emulator per upstream: failover on 429, the circuit breaker and recovery, weights,
`retry-after` honoured, the hidden per-upstream groups. Modest counts (< 2 min)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from aigw.config.load import load_env
from aigw.gateway.config import render_gateway
from aigw.gateway.smoke import run_smoke
from failover_fixtures import CODEX, GATEWAY_KEY, Gateway, failover_config, multi_gateway
from helpers import ENV_DIR

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

CHAT = "gpt-4.1-mini"
EMBED = "text-embedding-3-large"
COOLDOWN = 3


def _chat(c: object, model: str = CHAT) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return int(c.post("/v1/chat/completions", json=body).status_code)  # type: ignore[attr-defined]


def _codex(c: object, model: str = CODEX) -> int:
    body = {"model": model, "input": "hi"}
    return int(c.post("/v1/responses", json=body).status_code)  # type: ignore[attr-defined]


def test_render_single_upstream_is_unchanged_and_multi_has_the_router(tmp_path: Path) -> None:
    for env in ("dev", "prod"):
        data = yaml.safe_load(render_gateway(load_env(env, ENV_DIR).config).config_yaml)
        assert "router_settings" not in data
        assert all("@" not in e["model_name"] for e in data["model_list"])
    data = yaml.safe_load(render_gateway(failover_config(tmp_path, COOLDOWN)).config_yaml)
    groups = [e["model_name"] for e in data["model_list"]]
    assert groups.count(CODEX) == 1 and f"{CODEX}@payg" in groups and f"{CODEX}@primary" in groups
    assert groups.count(EMBED) == 2  # weighted: both upstreams in the alias's group
    weights = [
        e["litellm_params"].get("weight") for e in data["model_list"] if e["model_name"] == EMBED
    ]
    assert weights == [3, 1]
    payg = next(e for e in data["model_list"] if e["model_name"] == f"{CODEX}@payg")
    assert payg["litellm_params"]["model"] == "azure/codex-payg"
    assert payg["litellm_params"]["api_key"] == "os.environ/LITELLM_AZURE_OPENAI_API_KEY_PAYG"
    router = data["router_settings"]
    # ordered: the next upstream's group; weighted: each upstream's group, heaviest first,
    # once the group's retries are spent
    assert sorted(router["fallbacks"], key=str) == sorted(
        [
            {CODEX: [f"{CODEX}@payg"]},
            {CHAT: [f"{CHAT}@payg"]},
            {EMBED: [f"{EMBED}@primary", f"{EMBED}@payg"]},
        ],
        key=str,
    )
    assert router["model_group_retry_policy"][CODEX] == {"RateLimitErrorRetries": 0}
    assert EMBED not in router["model_group_retry_policy"]  # weighted: retried in the group
    assert (router["allowed_fails"], router["cooldown_time"]) == (1, COOLDOWN)
    assert router["num_retries"] == 2 and router["routing_strategy"] == "simple-shuffle"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("failover")
    with multi_gateway(failover_config(tmp, COOLDOWN), tmp) as gateway:
        yield gateway


@pytest.fixture
def fresh(gw: Gateway) -> Iterator[Gateway]:
    for name in gw.emulators:
        with gw.admin(name) as a:
            a.delete("/_aigw/faults")
    time.sleep(COOLDOWN + 0.5)  # no cooldown left from another test
    gw.clear()
    yield gw


def test_only_aliases_are_listed_and_each_upstream_answers_its_pinned_group(fresh: Gateway) -> None:
    with fresh.client() as c:
        listed = {m["id"] for m in c.get("/v1/models").json()["data"]}
        assert listed == {CODEX, CHAT, EMBED}
        assert _codex(c, f"{CODEX}@payg") == 200
        assert _chat(c, f"{CHAT}@primary") == 200
    assert fresh.calls("payg") == 1 and fresh.calls("primary") == 1


# Azure's two 429 bodies (openai/faults.py): LiteLLM fails over on the status, whichever body.
@pytest.mark.parametrize("code", ["RateLimitReached", "429"])
def test_primary_429_every_call_all_succeed_via_the_secondary_then_traffic_returns(
    fresh: Gateway, code: str
) -> None:
    with fresh.admin("primary") as a:
        a.put("/_aigw/faults", json={"status": 429, "retry_after_ms": 2000, "code": code})
    with fresh.client() as c:
        codes = [_codex(c) for _ in range(10)] + [_chat(c) for _ in range(10)]
    assert codes == [200] * 20
    assert fresh.calls("payg") == 20 and fresh.calls("primary") == 0
    throttled = [e for e in fresh.emulators["primary"].journal if e.status == 429]
    # chat: the circuit breaker stops calling the primary after allowed_fails + 1 failures;
    # responses: LiteLLM 1.81.15 never cools it down (gateway/routes.py), one 429 per call
    assert sum(1 for e in throttled if e.operation == "chat") <= 2
    assert sum(1 for e in throttled if e.operation == "responses") == 10
    with fresh.admin("primary") as a:
        a.delete("/_aigw/faults")
    # a cooldown lasts what Azure's retry-after said (2 s here), else cooldown_time
    time.sleep(COOLDOWN + 0.5)
    fresh.clear()
    with fresh.client() as c:
        assert [_chat(c) for _ in range(5)] + [_codex(c) for _ in range(5)] == [200] * 10
    assert fresh.calls("primary") == 10 and fresh.calls("payg") == 0


def test_primary_failing_500_fails_over_too(fresh: Gateway) -> None:
    with fresh.admin("primary") as a:
        a.put("/_aigw/faults", json={"status": 503})
    with fresh.client() as c:
        assert [_chat(c) for _ in range(6)] == [200] * 6
    assert fresh.calls("payg") == 6


def test_weights_share_traffic_and_a_throttled_one_is_skipped(fresh: Gateway) -> None:
    body = {"model": EMBED, "input": "hi"}
    with fresh.client() as c:
        assert all(c.post("/v1/embeddings", json=body).status_code == 200 for _ in range(24))
        assert fresh.calls("primary") > fresh.calls("payg") > 0  # weights 3:1
        fresh.clear()
        with fresh.admin("primary") as a:
            a.put("/_aigw/faults", json={"status": 429, "retry_after_ms": 2000})
        assert all(c.post("/v1/embeddings", json=body).status_code == 200 for _ in range(12))
    assert fresh.calls("payg") == 12


def test_retry_after_is_honoured_on_the_last_upstream(fresh: Gateway) -> None:
    with fresh.admin("primary") as a:
        a.put("/_aigw/faults", json={"status": 429, "retry_after_ms": 2000})
    with fresh.admin("payg") as a:
        a.put("/_aigw/faults", json={"status": 429, "count": 1, "retry_after_ms": 1500})
    with fresh.client() as c:
        assert _chat(c) == 200
    payg = [e for e in fresh.emulators["payg"].journal if e.operation]
    assert [e.status for e in payg] == [429, 200]
    # retry-after: 2 (1500 ms rounded up): LiteLLM waits it (plus up to 0.75 s jitter)
    assert payg[1].time - payg[0].time >= 1.9


def test_smoke_reports_each_upstream_and_a_dead_secondary_fails_naming_it(fresh: Gateway) -> None:
    url, cfg = fresh.process.url, fresh.config
    checks = run_smoke(url, GATEWAY_KEY, cfg, verify=False, timeout=30)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    upstream = sorted(c.name for c in checks if c.name.startswith("upstream "))
    assert upstream == sorted(
        f"upstream {u}: {m}" for m in (CODEX, CHAT, EMBED) for u in ("primary", "payg")
    )
    with fresh.admin("payg") as a:
        a.put("/_aigw/faults", json={"status": 503})
    checks = run_smoke(url, GATEWAY_KEY, cfg, verify=False, timeout=30)
    failed = [c for c in checks if not c.ok]
    # the aliases still answer (the primary serves them); only the secondary's checks fail
    assert failed and all(c.name.startswith("upstream payg: ") for c in failed), failed
    assert all("upstream payg (" in c.details and "HTTP 503" in c.details for c in failed)
    assert all("\n" not in c.details for c in failed)


def test_a_developer_key_sees_and_calls_only_the_aliases(fresh: Gateway) -> None:
    from datetime import UTC, datetime

    from aigw.gateway.config import TEAM_KEYS_FILE_NAME
    from aigw.gateway.team_keys import dump, new_record

    dev_key = "sk-aigw-dev-alice-0123456789abcdef0123"
    config_dir = fresh.config_dir
    record = new_record("alice", dev_key, datetime.now(UTC), None, None)
    (config_dir / TEAM_KEYS_FILE_NAME).write_text(dump({"alice": record}))
    try:
        with fresh.client(dev_key) as c:
            listed = {m["id"] for m in c.get("/v1/models").json()["data"]}
            assert listed == {CODEX, CHAT, EMBED}
            assert _chat(c) == 200
            refused = c.post(
                "/v1/chat/completions",
                json={"model": f"{CHAT}@payg", "messages": [{"role": "user", "content": "x"}]},
            )
            assert refused.status_code == 400 and "not served" in refused.text
    finally:
        (config_dir / TEAM_KEYS_FILE_NAME).unlink()
