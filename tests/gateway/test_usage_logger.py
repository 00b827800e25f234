"""aigw's usage logger (src/aigw/gateway/files/aigw_usage.py): on plain data, and inside the real
LiteLLM 1.81.15 serving aigw's rendered config in front of the Azure OpenAI emulator: chat,
embeddings and responses (plain and streamed) each write exactly one line on stdout, with the
token counts the emulator returned, and never the prompt, the completion or a key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.config.upstreams import ModelConfig, ModelKind
from aigw.gateway.files.aigw_usage import MARKER, usage_record
from gateway_fixtures import RenderedGateway, rendered_gateway
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY

PROMPT_CANARY = "canary-prompt-9b1e4f77d2"
CHAT = "gpt-4.1-mini"

FIELDS = {
    MARKER,
    "time",
    "key",
    "model",
    "deployment",
    "call_type",
    "stream",
    "prompt_tokens",
    "cached_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "total_tokens",
    "latency_ms",
    "status",
    "http_status",
    "request_id",
}


def test_record_from_plain_data_holds_counts_and_names_only() -> None:
    payload = {
        "id": "call-1",
        "model": "azure/dep-1",
        "model_group": "alias-1",
        "call_type": "aresponses",
        "stream": True,
        "prompt_tokens": 7,
        "completion_tokens": 5,
        "total_tokens": 12,
        "startTime": 100.0,
        "endTime": 100.25,
        "metadata": {"user_api_key_alias": "alice", "user_api_key_hash": "h" * 64},
        "messages": [{"role": "user", "content": PROMPT_CANARY}],
        "response": {"output": PROMPT_CANARY},
    }
    rec = usage_record(payload, ok=True)
    assert set(rec) == FIELDS
    assert (rec["key"], rec["model"], rec["deployment"]) == ("alice", "alias-1", "dep-1")
    assert (rec["prompt_tokens"], rec["completion_tokens"], rec["total_tokens"]) == (7, 5, 12)
    assert (rec["latency_ms"], rec["status"], rec["http_status"]) == (250, "success", 200)
    assert PROMPT_CANARY not in json.dumps(rec) and "h" * 64 not in json.dumps(rec)
    failed = usage_record({**payload, "error_information": {"error_code": "429"}}, ok=False)
    assert (failed["status"], failed["http_status"]) == ("failure", 429)
    assert usage_record({}, ok=False)["http_status"] == 500


# -- the real LiteLLM --------------------------------------------------------------------------


def _config() -> EnvConfig:
    cfg = load_env("dev", ENV_DIR).config
    chat = ModelConfig(alias=CHAT, kind=ModelKind.chat, api_version="2024-10-21")
    return cfg.model_copy(update={"models": [*cfg.models, chat]})


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RenderedGateway]:
    with rendered_gateway(
        _config(),
        tmp_path_factory.mktemp("usage"),
        gateway_key=GATEWAY_KEY_CANARY,
        aoai_key=AOAI_KEY_CANARY,
    ) as gw:
        yield gw


def usage_lines(log: Path) -> list[dict[str, Any]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith('{"' + MARKER + '"'):
            out.append(json.loads(line))
    return out


def wait_lines(log: Path, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        lines = usage_lines(log)
        if len(lines) >= count or time.monotonic() > deadline:
            time.sleep(0.5)  # a second line for the same call would show up now
            return usage_lines(log)
        time.sleep(0.1)


def _client(gw: RenderedGateway) -> httpx.Client:
    return httpx.Client(
        base_url=gw.process.url,
        headers={"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"},
        timeout=60,
        trust_env=False,
    )


def _sse_json(text: str) -> list[dict[str, Any]]:
    events = []
    for line in text.splitlines():
        if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
            events.append(json.loads(line[5:]))
    return events


def _usage_of(kind: str, r: httpx.Response, stream: bool) -> tuple[int, int, int]:
    """(prompt, completion, total) tokens as the emulator reported them to the client."""
    if not stream:
        u = r.json()["usage"]
    elif kind == "responses":
        done = [e for e in _sse_json(r.text) if e.get("type") == "response.completed"]
        u = done[-1]["response"]["usage"]
    else:
        u = next(e["usage"] for e in reversed(_sse_json(r.text)) if e.get("usage"))
    if kind == "responses":
        return u["input_tokens"], u["output_tokens"], u["total_tokens"]
    return u["prompt_tokens"], u.get("completion_tokens", 0), u["total_tokens"]


CALLS: list[tuple[str, str, bool]] = [
    ("chat", "/v1/chat/completions", False),
    ("chat", "/v1/chat/completions", True),
    ("embeddings", "/v1/embeddings", False),
    ("responses", "/v1/responses", False),
    ("responses", "/v1/responses", True),
]


@pytest.mark.litellm
@pytest.mark.slow
@pytest.mark.parametrize(("kind", "path", "stream"), CALLS)
def test_one_line_per_call_with_the_emulators_counts(
    gateway: RenderedGateway, kind: str, path: str, stream: bool
) -> None:
    alias = {
        "chat": CHAT,
        "embeddings": "text-embedding-3-large",
        "responses": "gpt-5.3-codex",
    }[kind]
    body: dict[str, Any] = {"model": alias}
    if kind == "chat":
        body["messages"] = [{"role": "user", "content": PROMPT_CANARY}]
    elif kind == "embeddings":
        body["input"] = PROMPT_CANARY
    else:
        body["input"] = PROMPT_CANARY
    if stream:
        body["stream"] = True
        if kind == "chat":
            body["stream_options"] = {"include_usage": True}
    log = gateway.process.log_path
    before = len(usage_lines(log))
    with _client(gateway) as c:
        r = c.post(path, json=body)
    assert r.status_code == 200, r.text[:300]
    expected = _usage_of(kind, r, stream)
    lines = wait_lines(log, before + 1)[before:]
    assert len(lines) == 1, lines
    line = lines[0]
    assert set(line) == FIELDS
    got = (line["prompt_tokens"], line["completion_tokens"], line["total_tokens"])
    assert got == expected
    assert line["model"] == alias and line["deployment"] == alias
    assert line["status"] == "success" and line["http_status"] == 200
    assert line["stream"] is stream
    assert line["key"] == "aigw-gateway-key"
    assert line["request_id"] == r.headers.get("x-litellm-call-id"), dict(r.headers)
    text = log.read_text(errors="replace")
    for canary in (PROMPT_CANARY, GATEWAY_KEY_CANARY, AOAI_KEY_CANARY):
        assert canary not in text


def test_a_priced_model_gets_its_cost_with_cached_input_apart_and_reasoning_as_output() -> None:
    payload = {
        "model_group": "gpt-5.3-codex",
        "prompt_tokens": 10_000,
        "completion_tokens": 2_000,
        "total_tokens": 12_000,
        "metadata": {
            "user_api_key_alias": "alice",
            # LiteLLM's usage object of a Responses call (Responses-shaped details)
            "usage_object": {
                "input_tokens_details": {"cached_tokens": 4_000},
                "output_tokens_details": {"reasoning_tokens": 1_500},
            },
        },
    }
    prices = {"gpt-5.3-codex": {"input": 1.75, "cached_input": 0.175, "output": 14}}
    rec = usage_record(payload, ok=True, prices=prices)
    assert (rec["cached_tokens"], rec["reasoning_tokens"]) == (4_000, 1_500)
    assert rec["cost_usd"] == round((6_000 * 1.75 + 4_000 * 0.175 + 2_000 * 14) / 1e6, 8)
    from aigw.config.limits import Price  # the YAML's rule and the gateway's agree

    assert rec["cost_usd"] == round(Price(**prices["gpt-5.3-codex"]).cost(10_000, 4_000, 2_000), 8)
    # a pinned group is its alias's price; no price, or a failed call: no cost
    assert (
        usage_record({**payload, "model_group": "gpt-5.3-codex@payg"}, ok=True, prices=prices)[
            "cost_usd"
        ]
        == rec["cost_usd"]
    )
    assert "cost_usd" not in usage_record(payload, ok=True)
    assert "cost_usd" not in usage_record(payload, ok=False, prices=prices)
