"""Developer key limits on the real LiteLLM 1.81.15 (issue 26): two gateway processes (two
replicas) share one real Redis server (the distribution's redis-server, started here as the
local cloud starts it); each key's requests and tokens per minute are counted by LiteLLM's own
limiter (proxy/hooks/parallel_request_limiter_v3.py) from the limits aigw's guard gives it,
and its monthly spend by aigw (usage logger adds, guard reads) in the same store."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.gateway.developer_keys import dump, new_record
from aigw.gateway.render import (
    DEVELOPER_KEYS_FILE_NAME,
    REDIS_HOST_VAR,
    REDIS_PASSWORD_VAR,
    REDIS_PORT_VAR,
)
from aigw_localcloud.cache.redis_server import RedisServer
from gateway_fixtures import RenderedGateway, rendered_gateway
from helpers import ENV_DIR

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

GATEWAY_KEY = "sk-aigw-limits-gateway-key-0123456789ab"
AOAI_KEY = "aoai-limits-key-0123456789abcdef"
CODEX = "gpt-5.3-codex"
KEYS = {
    "alice": "sk-aigw-dev-alice-limits-0123456789abcd",  # rpm 6
    "bob": "sk-aigw-dev-bob-limits-0123456789abcdef",  # tpm 300
    "carol": "sk-aigw-dev-carol-limits-0123456789abcd",  # the defaults: none here
    "dave": "sk-aigw-dev-dave-limits-0123456789abcde",  # budget: a few calls' worth
}
OVERLAY = """extends: dev.yaml
limits: {store: redis}
models:
  - alias: gpt-5.3-codex
    kind: responses
    api_version: "2025-04-01-preview"
    price: {input: 1000, cached_input: 100, output: 8000}
"""


@dataclass
class Pair:
    gateways: list[RenderedGateway]
    config_dirs: list[Path]

    def client(self, i: int, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.gateways[i % 2].process.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
            trust_env=False,
        )

    def write_keys(self, budget: float, bob_tpm: int = 300) -> None:
        now = datetime.now(UTC)
        records = {n: new_record(n, k, now, None, None) for n, k in KEYS.items()}
        records["alice"] = replace(records["alice"], rpm=6)
        records["bob"] = replace(records["bob"], tpm=bob_tpm)
        records["dave"] = replace(records["dave"], budget=budget)
        for d in self.config_dirs:
            (d / DEVELOPER_KEYS_FILE_NAME).write_text(dump(records))

    def log(self) -> str:
        return "".join(g.process.log_path.read_text() for g in self.gateways)


def _config(tmp: Path) -> EnvConfig:
    d = tmp / "environments"
    d.mkdir(parents=True)
    for name in ("base.yaml", "dev.yaml"):
        shutil.copy(ENV_DIR / name, d / name)
    (d / "lim.yaml").write_text(OVERLAY)
    return load_env("lim", d).config


@contextlib.contextmanager
def limits_pair(tmp: Path) -> Iterator[Pair]:
    """Two gateways (replicas) of one config sharing one real Redis, with KEYS written
    (bench/limits.py uses it too)."""
    cfg = _config(tmp)
    with RedisServer(tmp / "redis") as redis:
        environ = {
            REDIS_HOST_VAR: redis.host,
            REDIS_PORT_VAR: str(redis.port),
            REDIS_PASSWORD_VAR: redis.password,
        }
        with (
            rendered_gateway(
                cfg, tmp / "g0", gateway_key=GATEWAY_KEY, aoai_key=AOAI_KEY, environ=environ
            ) as g0,
            rendered_gateway(
                cfg, tmp / "g1", gateway_key=GATEWAY_KEY, aoai_key=AOAI_KEY, environ=environ
            ) as g1,
        ):
            dirs = [tmp / f"g{i}" / "files" / "etc" / "litellm" for i in (0, 1)]
            p = Pair([g0, g1], dirs)
            p.write_keys(budget=1.0)
            yield p


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with limits_pair(tmp_path_factory.mktemp("limits")) as p:
        yield p


def _call(p: Pair, i: int, name: str, text: str = "hi") -> httpx.Response:
    with p.client(i, KEYS[name]) as c:
        return c.post("/v1/responses", json={"model": CODEX, "input": text})


def test_requests_per_minute_are_counted_across_both_replicas(pair: Pair) -> None:
    codes = [_call(pair, i, "alice").status_code for i in range(14)]
    assert codes.count(200) == 6, codes  # not 6 per replica: 12 without the shared store
    assert codes[:6] == [200] * 6 and set(codes[6:]) == {429}
    refused = _call(pair, 1, "alice")
    body = refused.json()["error"]
    assert body == {
        "message": "rate limit of this key (alice): 6 requests per minute; retry after 60 s",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert refused.headers["retry-after"] == "60"
    # another key and the gateway key are not held by alice's limit
    assert _call(pair, 0, "carol").status_code == 200
    with pair.client(1, GATEWAY_KEY) as c:
        assert c.post("/v1/responses", json={"model": CODEX, "input": "x"}).status_code == 200
    lines = [json.loads(x) for x in pair.log().splitlines() if x.startswith('{"aigw_refused"')]
    assert any(r["key"] == "alice" and r["reason"] == "rate_limit_requests" for r in lines)
    assert KEYS["alice"] not in pair.log()


def test_tokens_per_minute_hold_across_both_replicas(pair: Pair) -> None:
    used, codes = 0, []
    for i in range(12):
        r = _call(pair, i, "bob", "a few words of input for the token count")
        codes.append(r.status_code)
        if r.status_code == 200:
            used += r.json()["usage"]["total_tokens"]
    per_call = used // max(1, codes.count(200))
    assert 429 in codes and codes.index(429) == codes.count(200), codes  # once held, held
    # LiteLLM counts a call's tokens once it is answered: a call is let through while the
    # minute has tokens left, so the total ends within one call of the limit
    assert 300 <= used < 300 + per_call + 1, (used, codes)
    refused = _call(pair, 0, "bob")
    assert refused.json()["error"]["message"].startswith("rate limit of this key (bob): 300 tokens")


def test_a_monthly_budget_is_spent_across_replicas_then_refused_until_raised(
    pair: Pair,
) -> None:
    # price: input 1000, output 8000 USD per million tokens: a short call costs cents
    spent, costs = 0.0, []
    for i in range(40):
        r = _call(pair, i, "dave")
        if r.status_code != 200:
            break
        u = r.json()["usage"]
        cost = (u["input_tokens"] * 1000 + u["output_tokens"] * 8000) / 1e6
        costs.append(cost)
        spent += cost
    else:
        pytest.fail("the budget never held")
    assert spent >= 1.0 > spent - costs[-1]  # refused once the month's spend reached $1
    error = r.json()["error"]
    assert r.status_code == 429 and error["code"] == "insufficient_quota"
    assert error["type"] == "insufficient_quota"
    assert "this key (dave) has used its monthly budget" in error["message"]
    assert "of $1.00" in error["message"]
    assert _call(pair, (i + 1) % 2, "dave").status_code == 429  # the other replica agrees
    usage = [json.loads(x) for x in pair.log().splitlines() if x.startswith('{"aigw_usage"')]
    dave = [u for u in usage if u["key"] == "dave" and u["status"] == "success"]
    assert sum(u["cost_usd"] for u in dave) == pytest.approx(spent)
    # each line carries the key's month so far (this call included) and its budget: what the
    # budget alert rules read (resources/alert_rule.py SPEND_FIELD, BUDGET_FIELD)
    from aigw.resources.alert_rule import BUDGET_FIELD, SPEND_FIELD

    assert [u[BUDGET_FIELD] for u in dave] == [1.0] * len(dave)
    assert sorted(u[SPEND_FIELD] for u in dave) == pytest.approx(
        [sum(costs[: i + 1]) for i in range(len(costs))]
    )
    pair.write_keys(budget=100.0)  # raised: `aigw keys limit` writes the same file
    assert _call(pair, i, "dave").status_code == 200


def test_the_shared_store_never_caches_a_response(pair: Pair) -> None:
    before = len([e for e in pair.gateways[0].aoai.journal if e.operation])
    for _ in range(2):
        assert _call(pair, 0, "carol", "the same prompt twice").status_code == 200
    after = len([e for e in pair.gateways[0].aoai.journal if e.operation])
    assert after - before == 2
