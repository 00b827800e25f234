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
from aigw.gateway.render import render_gateway
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

    from aigw.gateway.developer_keys import dump, new_record
    from aigw.gateway.render import DEVELOPER_KEYS_FILE_NAME

    dev_key = "sk-aigw-dev-alice-0123456789abcdef0123"
    config_dir = fresh.config_dir
    record = new_record("alice", dev_key, datetime.now(UTC), None, None)
    (config_dir / DEVELOPER_KEYS_FILE_NAME).write_text(dump({"alice": record}))
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
        (config_dir / DEVELOPER_KEYS_FILE_NAME).unlink()


def _turn(c: object, previous: str | None = None) -> object:
    body: dict[str, object] = {"model": CODEX, "input": "go on", "store": True}
    if previous is not None:
        body["previous_response_id"] = previous
    return c.post("/v1/responses", json=body)  # type: ignore[attr-defined]


def test_a_stored_conversation_stays_on_the_upstream_that_holds_it(fresh: Gateway) -> None:
    """`previous_response_id` names a response stored on one Azure OpenAI resource; no other
    resource can read it (400 previous_response_not_found). While that upstream throttles, a
    turn of its conversation gets the holder's own 429 and retry-after (LiteLLM answers with
    the first error once the fallback is refused), not a failover that sends the id where it
    cannot be found; a new conversation still fails over, and once the upstream answers
    again the conversation goes on where it was. Before gateway/files/aigw_responses.py's
    third rule the id went to payg (its 400 was hidden behind the same 429)."""
    with fresh.client() as c:
        first = _turn(c)
        assert first.status_code == 200, first.text  # type: ignore[attr-defined]
        rid = first.json()["id"]  # type: ignore[attr-defined]
        with fresh.admin("primary") as a:
            a.put("/_aigw/faults", json={"status": 429, "retry_after_ms": 2000})
        held = _turn(c, rid)
        assert held.status_code == 429, held.text  # type: ignore[attr-defined]
        assert fresh.calls("payg", ok_only=False) == 0  # the id never reached another resource
        assert _codex(c) == 200  # a new conversation fails over as before
        assert fresh.calls("payg") == 1
        with fresh.admin("primary") as a:
            a.delete("/_aigw/faults")
        again = _turn(c, rid)
        assert again.status_code == 200, again.text  # type: ignore[attr-defined]
    assert fresh.calls("primary") == 2


SPREAD = """extends: base.yaml
upstreams:
  - name: payg
    endpoint: https://payg-swc.openai.azure.com
    auth: key
failover:
  num_retries: 2
  allowed_fails: 1
  cooldown_seconds: 3
models:
  - alias: gpt-5.3-codex
    kind: responses
    api_version: "2025-04-01-preview"
    upstreams:
      - {upstream: primary, weight: 1}
      - {upstream: payg, deployment: codex-payg, weight: 1}
"""


def test_a_weighted_model_sends_each_turn_to_the_upstream_that_stored_its_conversation(
    tmp_path: Path,
) -> None:
    """Two upstreams sharing a responses model by weight: every turn of a stored conversation
    reaches the resource that holds its previous response (LiteLLM's
    `responses_api_deployment_check`, which aigw's router settings turn on). Without it the
    shuffle sends about half the turns to the other resource, which answers 400
    previous_response_not_found (or, with the state keeper, a retry)."""
    d = tmp_path / "environments"
    d.mkdir()
    (d / "base.yaml").write_bytes((ENV_DIR / "base.yaml").read_bytes())
    (d / "spread.yaml").write_text(SPREAD)
    cfg = load_env("spread", d).config
    router = yaml.safe_load(render_gateway(cfg).config_yaml)["router_settings"]
    assert router["optional_pre_call_checks"] == ["responses_api_deployment_check"]
    with multi_gateway(cfg, tmp_path) as gw, gw.client() as c:
        conversations = []
        for _ in range(4):
            first = _turn(c)
            assert first.status_code == 200, first.text  # type: ignore[attr-defined]
            conversations.append(first.json()["id"])  # type: ignore[attr-defined]
        gw.clear()
        for rid in conversations:
            for _ in range(3):
                turn = _turn(c, rid)
                assert turn.status_code == 200, turn.text  # type: ignore[attr-defined]
                rid = turn.json()["id"]  # type: ignore[attr-defined]
        calls = [e for em in gw.emulators.values() for e in em.journal if e.operation]
        log = gw.process.log_path.read_text()
    # every turn answered by the resource holding its conversation, and at the first try:
    # the state keeper never had to hold one back (its "held" line)
    assert len(calls) == 12 and all(e.status == 200 for e in calls), [e.status for e in calls]
    assert '"held"' not in log
