"""The real LiteLLM (aigw's rendered dev config, its guard included) in front of the emulator's
Responses rules (issue 24): what LiteLLM passes through of `store`, `include`, item ids,
`previous_response_id`, the reasoning events, and the scripted tool calls on both of its
routes to a codex deployment (Responses, and chat completions bridged to Responses)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigw.config.load import load_env
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from gateway_fixtures import rendered_gateway
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY

pytestmark = [pytest.mark.litellm]

MODEL = "gpt-5.3-codex"
ENCRYPTED = ["reasoning.encrypted_content"]
READ = {
    "type": "function",
    "name": "read_file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
}
RUN = {
    "type": "function",
    "name": "run",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}
SCRIPT = {
    "tool_calls": [
        {"name": "read_file", "arguments": {"path": "README.md"}},
        {"name": "run", "arguments": {"cmd": "ls"}},
    ]
}


@dataclass
class Gateway:
    url: str
    aoai: AzureOpenAIEmulator

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, trust_env=False)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with rendered_gateway(
        load_env("dev", ENV_DIR).config,
        Path(tmp_path_factory.mktemp("gw")),
        gateway_key=GATEWAY_KEY_CANARY,
        aoai_key=AOAI_KEY_CANARY,
    ) as gw:
        yield Gateway(gw.process.url, gw.aoai)


@pytest.fixture
def c(gateway: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.aoai.url) as admin:
        admin.put("/_aigw/script", json=SCRIPT)
        with gateway.client() as client:
            yield client
        admin.delete("/_aigw/script")


def _call(body: dict[str, Any]) -> dict[str, Any]:
    (call,) = [i for i in body["output"] if i["type"] == "function_call"]
    return call


def _output(call: dict[str, Any], text: str) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call["call_id"], "output": text}


def test_responses_stateful_replay_and_previous_response_id(c: httpx.Client) -> None:
    tools = [READ, RUN]
    history: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    first = c.post("/v1/responses", json={"model": MODEL, "input": history, "tools": tools})
    assert first.status_code == 200, first.text
    assert [i["type"] for i in first.json()["output"]] == ["reasoning", "function_call"]
    call = _call(first.json())
    assert json.loads(call["arguments"]) == {"path": "README.md"}
    # codex on Azure (store true, the default): the items go back with their ids
    history += [*first.json()["output"], _output(call, "# readme")]
    second = c.post("/v1/responses", json={"model": MODEL, "input": history, "tools": tools})
    assert second.status_code == 200, second.text
    assert _call(second.json())["name"] == "run"
    # the same step through previous_response_id (LiteLLM decodes its own response id)
    chained = c.post(
        "/v1/responses",
        json={
            "model": MODEL,
            "input": [_output(call, "# readme")],
            "tools": tools,
            "previous_response_id": first.json()["id"],
        },
    )
    assert chained.status_code == 200, chained.text
    run = _call(chained.json())
    assert run["name"] == "run"
    last = c.post(
        "/v1/responses",
        json={
            "model": MODEL,
            "input": [_output(run, "total 8")],
            "tools": tools,
            "previous_response_id": chained.json()["id"],
        },
    )
    assert last.status_code == 200, last.text
    (message,) = [i for i in last.json()["output"] if i["type"] == "message"]
    assert "total 8" in message["content"][0]["text"]


def test_responses_store_false_replays_with_or_without_ids(c: httpx.Client) -> None:
    """Through aigw's gateway the encrypted content leaves marked with its upstream, and a
    store-false replay works with or without item ids: the gateway takes them off
    (gateway/files/aigw_responses.py). Azure's own 400 for ids with store false, through a
    gateway without that keeper: tests/gateway/test_smoke_codex_turns.py and
    tests/clients/test_failover_sessions.py."""
    base = {"model": MODEL, "tools": [READ, RUN], "store": False, "include": ENCRYPTED}
    first = c.post("/v1/responses", json={**base, "input": "go"})
    assert first.status_code == 200, first.text
    output = first.json()["output"]
    marked = output[0]["encrypted_content"]
    assert marked.startswith("aigw1:") and ":gAAAAA" in marked, marked
    turn = [{"role": "user", "content": "go"}]
    stateless = [{k: v for k, v in i.items() if k != "id"} for i in output]
    ok = c.post("/v1/responses", json={**base, "input": [*turn, *stateless]})
    assert ok.status_code == 200, ok.text
    with_ids = c.post("/v1/responses", json={**base, "input": [*turn, *output]})
    assert with_ids.status_code == 200, with_ids.text


def test_responses_stream_carries_the_reasoning_events(c: httpx.Client) -> None:
    body = {
        "model": MODEL,
        "input": "go",
        "tools": [READ],
        "stream": True,
        "include": ENCRYPTED,
        "reasoning": {"summary": "auto"},
    }
    with c.stream("POST", "/v1/responses", json=body) as r:
        assert r.status_code == 200
        events = [
            json.loads(line[6:])
            for line in r.iter_lines()
            if line.startswith("data: ") and line != "data: [DONE]"
        ]
    types = [e["type"] for e in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
    ]
    assert "response.reasoning_summary_text.delta" in types
    final = events[-1]
    assert final["type"] == "response.completed"
    reasoning, call = final["response"]["output"]
    assert reasoning["encrypted_content"].startswith("aigw1:")  # marked by the gateway
    assert ":gAAAAA" in reasoning["encrypted_content"]
    assert call["name"] == "read_file"


def test_chat_completions_bridged_to_responses_follow_the_script(c: httpx.Client) -> None:
    tools = [
        {"type": "function", "function": {k: v for k, v in t.items() if k != "type"}}
        for t in (READ, RUN)
    ]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    for name, result in (("read_file", "# readme"), ("run", "total 8")):
        r = c.post(
            "/v1/chat/completions", json={"model": MODEL, "messages": messages, "tools": tools}
        )
        assert r.status_code == 200, r.text
        choice = r.json()["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        (tool_call,) = choice["message"]["tool_calls"]
        assert tool_call["function"]["name"] == name
        messages += [
            {"role": "assistant", "content": None, "tool_calls": [tool_call]},
            {"role": "tool", "tool_call_id": tool_call["id"], "content": result},
        ]
    r = c.post("/v1/chat/completions", json={"model": MODEL, "messages": messages, "tools": tools})
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    # LiteLLM sends the tool's content as input_text parts; the quote is the text itself
    assert choice["message"]["content"] == "The tool returned: total 8"
