"""The Azure OpenAI emulator, exercised over real HTTP with httpx."""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment

KEY = "aoai-test-key-0123456789"
EMB = "text-embedding-3-large"
CODEX = "gpt-5-codex"
CHAT = "gpt-4o-mini"
DATED = "2025-04-01-preview"
EMB_VERSION = "2023-05-15"

DEPLOYMENTS = {
    EMB: Deployment(EMB, "embeddings", 3072),
    CODEX: Deployment(CODEX, "responses"),
    CHAT: Deployment(CHAT, "chat"),
    "small": Deployment("small", "embeddings", 16, api_versions=frozenset({EMB_VERSION})),
}

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
        },
        "required": ["city", "unit", "days"],
    },
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[AzureOpenAIEmulator]:
    with AzureOpenAIEmulator(DEPLOYMENTS, api_key=KEY) as em:
        yield em


@pytest.fixture
def client(emulator: AzureOpenAIEmulator) -> Iterator[httpx.Client]:
    emulator.clear_journal()
    with httpx.Client(base_url=emulator.url, headers={"api-key": KEY}, timeout=10) as c:
        yield c


def emb_url(deployment: str = EMB, version: str | None = EMB_VERSION) -> str:
    suffix = f"?api-version={version}" if version else ""
    return f"/openai/deployments/{deployment}/embeddings{suffix}"


def parse_sse(text: str) -> list[tuple[str | None, str]]:
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        events.append((name, "\n".join(data)))
    return events


# -- lifecycle, auth, routing -------------------------------------------------------------------


def test_url_is_loopback_and_stop_closes_port() -> None:
    em = AzureOpenAIEmulator(api_key=KEY).start()
    url = em.url
    assert url.startswith("http://127.0.0.1:")
    assert httpx.post(url + "/nope", headers={"api-key": KEY}).status_code == 404
    em.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "/nope", timeout=2)


def test_default_deployments_are_codex_and_embeddings() -> None:
    with AzureOpenAIEmulator(api_key=KEY) as em:
        assert set(em.deployments) == {CODEX, EMB}
        r = httpx.post(
            em.url + emb_url(), json={"input": "x"}, headers={"api-key": KEY}, timeout=10
        )
        assert len(r.json()["data"][0]["embedding"]) == 3072


@pytest.mark.parametrize(
    "headers",
    [{}, {"api-key": "wrong"}, {"api-key": ""}, {"Authorization": "Bearer wrong"}],
    ids=["missing", "wrong", "empty", "wrong-bearer"],
)
def test_bad_key_is_401_like_azure(emulator: AzureOpenAIEmulator, headers: dict[str, str]) -> None:
    emulator.clear_journal()
    r = httpx.post(emulator.url + emb_url(), json={"input": "x"}, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "401"
    assert r.json()["error"]["message"].startswith("Access denied due to invalid subscription key")
    (entry,) = emulator.journal
    assert entry.status == 401
    assert "wrong" not in json.dumps(entry.to_dict())


def test_bearer_key_is_accepted_and_key_never_journaled(emulator: AzureOpenAIEmulator) -> None:
    emulator.clear_journal()
    r = httpx.post(
        emulator.url + emb_url(), json={"input": "x"}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert r.status_code == 200
    (entry,) = emulator.journal
    assert entry.auth == "bearer"
    assert KEY not in json.dumps(entry.to_dict())


@pytest.mark.parametrize(
    "path",
    [
        f"/openai/openai/deployments/{EMB}/embeddings?api-version={EMB_VERSION}",
        f"/openai/deployments/{EMB}/embeddings",  # no api-version
        f"/openai/deployments/{EMB}/embeddings?api-version=banana",
        f"/openai/deployments/{EMB}/completions?api-version={EMB_VERSION}",
        f"/deployments/{EMB}/embeddings?api-version={EMB_VERSION}",
        "/openai/responses",  # dated route without api-version
        "/openai/responses?api-version=2024-10-21",  # before the Responses API existed
        "/openai/openai/responses?api-version=2025-04-01-preview",
        "/openai/v1/responses?api-version=2025-04-01-preview",
        "/openai/v1/openai/v1/responses",
        "/v1/responses",
        "/",
    ],
)
def test_unknown_paths_are_404_resource_not_found(client: httpx.Client, path: str) -> None:
    r = client.post(path, json={"input": "x", "model": CODEX})
    assert r.status_code == 404, r.text
    assert r.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_get_on_a_post_route_is_404(client: httpx.Client) -> None:
    assert client.get(emb_url()).status_code == 404


def test_unknown_deployment_is_404(client: httpx.Client) -> None:
    r = client.post(emb_url("nope"), json={"input": "x"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "DeploymentNotFound"
    r = client.post(f"/openai/responses?api-version={DATED}", json={"model": "nope", "input": "x"})
    assert r.status_code == 404


def test_api_version_not_allowed_for_deployment_is_404(client: httpx.Client) -> None:
    assert client.post(emb_url("small"), json={"input": "x"}).status_code == 200
    r = client.post(emb_url("small", "2024-02-01"), json={"input": "x"})
    assert r.status_code == 404


def test_wrong_kind_is_400_operation_not_supported(client: httpx.Client) -> None:
    r = client.post(emb_url(CODEX), json={"input": "x"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "OperationNotSupported"
    r = client.post(f"/openai/responses?api-version={DATED}", json={"model": EMB, "input": "hi"})
    assert r.status_code == 400
    r = client.post(
        f"/openai/deployments/{CODEX}/chat/completions?api-version={DATED}",
        json={"messages": [{"role": "user", "content": "hi"}]},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "OperationNotSupported"


def test_bad_json_is_400(client: httpx.Client) -> None:
    r = client.post(emb_url(), content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


# -- embeddings ----------------------------------------------------------------------------------


def test_embeddings_float_are_unit_vectors_and_deterministic(client: httpx.Client) -> None:
    a = client.post(emb_url(), json={"input": "hello"}).json()
    b = client.post(emb_url(), json={"input": ["hello", "world"]}).json()
    assert a["object"] == "list"
    vec = a["data"][0]["embedding"]
    assert len(vec) == 3072
    assert math.isclose(math.fsum(v * v for v in vec), 1.0, rel_tol=1e-4)
    assert b["data"][0]["embedding"] == vec
    assert b["data"][1]["embedding"] != vec
    assert [d["index"] for d in b["data"]] == [0, 1]
    assert a["usage"]["prompt_tokens"] > 0
    assert a["usage"]["total_tokens"] == a["usage"]["prompt_tokens"]


def test_embeddings_are_the_same_across_emulator_instances(client: httpx.Client) -> None:
    first = client.post(emb_url(), json={"input": "stable"}).json()["data"][0]["embedding"]
    with AzureOpenAIEmulator(api_key=KEY) as other:
        second = httpx.post(
            other.url + emb_url(), json={"input": "stable"}, headers={"api-key": KEY}
        ).json()["data"][0]["embedding"]
    assert first == second


def test_embeddings_base64_decodes_to_the_float_vector(client: httpx.Client) -> None:
    floats = client.post(emb_url(), json={"input": "hello"}).json()["data"][0]["embedding"]
    b64 = client.post(emb_url(), json={"input": "hello", "encoding_format": "base64"}).json()
    raw = base64.b64decode(b64["data"][0]["embedding"])
    assert len(raw) == 4 * 3072
    assert list(struct.unpack("<3072f", raw)) == floats


def test_embeddings_dimensions_and_token_input(client: httpx.Client) -> None:
    r = client.post(emb_url(), json={"input": [[1, 2, 3]], "dimensions": 256}).json()
    vec = r["data"][0]["embedding"]
    assert len(vec) == 256
    assert math.isclose(math.fsum(v * v for v in vec), 1.0, rel_tol=1e-4)
    assert r["usage"]["prompt_tokens"] == 3
    assert client.post(emb_url(), json={"input": "x", "dimensions": 5000}).status_code == 400
    assert client.post(emb_url("small"), json={"input": "x"}).json()["data"][0]["embedding"]
    assert (
        len(client.post(emb_url("small"), json={"input": "x"}).json()["data"][0]["embedding"]) == 16
    )


def test_embeddings_missing_input_is_400(client: httpx.Client) -> None:
    assert client.post(emb_url(), json={}).status_code == 400
    assert client.post(emb_url(), json={"input": "x", "encoding_format": "int8"}).status_code == 400


def test_v1_embeddings_take_the_model_from_the_body(client: httpx.Client) -> None:
    r = client.post("/openai/v1/embeddings", json={"model": EMB, "input": "hello"})
    assert r.status_code == 200
    assert len(r.json()["data"][0]["embedding"]) == 3072


def test_journal_records_path_query_deployment(
    emulator: AzureOpenAIEmulator, client: httpx.Client
) -> None:
    client.post(emb_url(), json={"input": "x"})
    (entry,) = emulator.journal
    assert entry.method == "POST"
    assert entry.path == f"/openai/deployments/{EMB}/embeddings"
    assert entry.query == {"api-version": EMB_VERSION}
    assert entry.deployment == EMB
    assert entry.operation == "embeddings"
    assert entry.status == 200
    assert entry.streamed is False
    assert entry.auth == "api-key"


# -- responses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/openai/responses?api-version={DATED}",
        "/openai/v1/responses",
        "/openai/v1/responses?api-version=preview",
        "/openai/v1/responses?api-version=latest",
    ],
)
def test_responses_plain(client: httpx.Client, emulator: AzureOpenAIEmulator, path: str) -> None:
    r = client.post(path, json={"model": CODEX, "input": "Say hi"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["model"] == CODEX
    reasoning, item = body["output"]  # a reasoning model: its reasoning item comes first
    assert reasoning["type"] == "reasoning"
    assert item["type"] == "message"
    assert item["role"] == "assistant"
    (part,) = item["content"]
    assert part["type"] == "output_text"
    assert "Say hi" in part["text"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    (entry,) = emulator.journal
    assert entry.deployment == CODEX
    assert entry.operation == "responses"


def test_responses_accept_message_list_input(client: httpx.Client) -> None:
    body = client.post(
        "/openai/v1/responses",
        json={
            "model": CODEX,
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "first"}]},
                {"type": "message", "role": "user", "content": "second"},
            ],
        },
    ).json()
    assert "second" in body["output"][-1]["content"][0]["text"]


def test_responses_missing_model_is_400(client: httpx.Client) -> None:
    assert client.post("/openai/v1/responses", json={"input": "x"}).status_code == 400


def test_responses_streamed_events(client: httpx.Client, emulator: AzureOpenAIEmulator) -> None:
    r = client.post(
        f"/openai/responses?api-version={DATED}",
        json={"model": CODEX, "input": "Stream me a longer answer please", "stream": True},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    names = [name for name, _ in events]
    payloads = [json.loads(data) for _, data in events]
    assert all(name == p["type"] for name, p in zip(names, payloads, strict=True))
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    assert names[:6] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",  # the reasoning item (no summary asked for)
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert names[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert payloads[0]["response"]["status"] == "in_progress"
    deltas = [p["delta"] for p in payloads if p["type"] == "response.output_text.delta"]
    assert len(deltas) > 1
    final = payloads[-1]["response"]
    assert final["status"] == "completed"
    assert "".join(deltas) == final["output"][1]["content"][0]["text"]
    done = next(p for p in payloads if p["type"] == "response.output_text.done")
    assert done["text"] == "".join(deltas)
    (entry,) = emulator.journal
    assert entry.streamed is True


def _function_call(body: dict[str, Any]) -> dict[str, Any]:
    reasoning, item = body["output"]
    assert reasoning["type"] == "reasoning"
    assert item["type"] == "function_call"
    return item


def test_responses_tool_call_two_turns(client: httpx.Client) -> None:
    url = f"/openai/responses?api-version={DATED}"
    first = client.post(
        url, json={"model": CODEX, "input": "Weather in Paris?", "tools": [WEATHER_TOOL]}
    ).json()
    call = _function_call(first)
    assert call["name"] == "get_weather"
    assert call["call_id"]
    args = json.loads(call["arguments"])
    assert args == {"city": "example", "unit": "celsius", "days": 1}

    second = client.post(
        url,
        json={
            "model": CODEX,
            "tools": [WEATHER_TOOL],
            "input": [
                {"role": "user", "content": "Weather in Paris?"},
                {k: call[k] for k in ("type", "call_id", "name", "arguments")},
                {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny 21C"},
            ],
        },
    ).json()
    _, item = second["output"]
    assert item["type"] == "message"
    assert "sunny 21C" in item["content"][0]["text"]


def test_responses_tool_call_accepts_chat_style_tools(client: httpx.Client) -> None:
    chat_tool = {
        "type": "function",
        "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"},
    }
    body = client.post(
        "/openai/v1/responses", json={"model": CODEX, "input": "x", "tools": [chat_tool]}
    ).json()
    assert _function_call(body)["name"] == "get_weather"


def test_responses_tool_call_streamed(client: httpx.Client) -> None:
    r = client.post(
        "/openai/v1/responses",
        json={"model": CODEX, "input": "x", "tools": [WEATHER_TOOL], "stream": True},
    )
    payloads = [json.loads(d) for _, d in parse_sse(r.text)]
    types = [p["type"] for p in payloads]
    assert "response.function_call_arguments.delta" in types
    args = "".join(
        p["delta"] for p in payloads if p["type"] == "response.function_call_arguments.delta"
    )
    done = next(p for p in payloads if p["type"] == "response.function_call_arguments.done")
    assert done["arguments"] == args
    final = payloads[-1]
    assert final["type"] == "response.completed"
    assert _function_call(final["response"])["arguments"] == args


# -- chat completions ----------------------------------------------------------------------------


def chat_url(deployment: str = CHAT) -> str:
    return f"/openai/deployments/{deployment}/chat/completions?api-version={DATED}"


def test_chat_completion_plain(client: httpx.Client) -> None:
    body = client.post(chat_url(), json={"messages": [{"role": "user", "content": "ping"}]}).json()
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "ping" in choice["message"]["content"]
    assert body["usage"]["total_tokens"] > 0


def test_chat_deployment_also_serves_responses(client: httpx.Client) -> None:
    r = client.post("/openai/v1/responses", json={"model": CHAT, "input": "hi"})
    assert r.status_code == 200


def test_chat_completion_stream(client: httpx.Client) -> None:
    r = client.post(
        chat_url(),
        json={
            "messages": [{"role": "user", "content": "ping with several words in it"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    events = parse_sse(r.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert "ping with several words in it" in text
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0


def test_chat_tool_call_two_turns(client: httpx.Client) -> None:
    tool = {"type": "function", "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"}}
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather?"}]
    first = client.post(chat_url(), json={"messages": messages, "tools": [tool]}).json()
    choice = first["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    json.loads(call["function"]["arguments"])
    messages += [
        choice["message"],
        {"role": "tool", "tool_call_id": call["id"], "content": "rainy"},
    ]
    second = client.post(chat_url(), json={"messages": messages, "tools": [tool]}).json()
    assert "rainy" in second["choices"][0]["message"]["content"]


def test_chat_tool_call_streamed(client: httpx.Client) -> None:
    tool = {"type": "function", "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"}}
    r = client.post(
        chat_url(),
        json={"messages": [{"role": "user", "content": "w"}], "tools": [tool], "stream": True},
    )
    chunks = [json.loads(d) for _, d in parse_sse(r.text)[:-1]]
    args = "".join(
        tc["function"].get("arguments", "")
        for c in chunks
        for tc in c["choices"][0]["delta"].get("tool_calls") or []
    )
    assert json.loads(args)["city"] == "example"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


# -- admin ---------------------------------------------------------------------------------------


def test_admin_endpoints_configure_another_instance() -> None:
    with AzureOpenAIEmulator({}, api_key="old") as em, httpx.Client(base_url=em.url) as c:
        assert c.post(emb_url(), json={"input": "x"}, headers={"api-key": "old"}).status_code == 404
        r = c.put(
            "/_aigw/deployments",
            json={"deployments": [{"name": EMB, "kind": "embeddings", "dimensions": 8}]},
        )
        assert r.status_code == 200
        # the key is the account's own (its world): no admin route hands it another one
        assert c.put("/_aigw/api-key", json={"api_key": "new"}).status_code == 404
        assert c.post(emb_url(), json={"input": "x"}, headers={"api-key": "new"}).status_code == 401
        r = c.post(emb_url(), json={"input": "x"}, headers={"api-key": "old"})
        assert len(r.json()["data"][0]["embedding"]) == 8
        journal = c.get("/_aigw/journal").json()["entries"]
        assert [e["status"] for e in journal] == [404, 401, 200]
        assert journal[-1]["query"] == {"api-version": EMB_VERSION}
        assert "new" not in json.dumps(journal) and "old" not in json.dumps(journal)
        c.delete("/_aigw/journal")
        assert c.get("/_aigw/journal").json()["entries"] == []
        assert c.get("/_aigw/nope").status_code == 404
        deployments = c.get("/_aigw/deployments").json()["deployments"]
        assert deployments == [
            {
                "name": EMB,
                "kind": "embeddings",
                "dimensions": 8,
                "api_versions": None,
                "model": None,  # what ARM reports: derived from the kind (openai/account.py)
                "version": None,
                "capacity": 10,
            }
        ]


def test_concurrent_requests(emulator: AzureOpenAIEmulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> int:
        return httpx.post(
            emulator.url + emb_url(), json={"input": f"t{i}"}, headers={"api-key": KEY}
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(32))) == {200}
