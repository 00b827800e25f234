"""Azure's Responses rules in the Azure OpenAI emulator (issue 24): reasoning output items and
their streamed events, `store` and item ids, `previous_response_id`, encrypted content bound to
the account that produced it, and the scripted multi-turn tool calls (/_aigw/script) for both
the Responses API and chat completions. Pure emulator over real HTTP (httpx and the `openai`
package), no LiteLLM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment

KEY = "aoai-test-key-0123456789"
CODEX = "gpt-5-codex"
CHAT = "gpt-4o-mini"
DATED = "2025-04-01-preview"
RESPONSES = "/openai/v1/responses"
DEPLOYMENTS = {CODEX: Deployment(CODEX, "responses"), CHAT: Deployment(CHAT, "chat")}
ENCRYPTED = ["reasoning.encrypted_content"]

READ_TOOL = {
    "type": "function",
    "name": "read_file",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
}
RUN_TOOL = {
    "type": "function",
    "name": "run",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}
SCRIPT = {
    "tool_calls": [
        {"name": "read_file", "arguments": {"path": "README.md"}},
        {"name": "run", "arguments": {"cmd": "ls -la"}},
    ]
}


def _emulator() -> AzureOpenAIEmulator:
    return AzureOpenAIEmulator(DEPLOYMENTS, api_key=KEY)


@pytest.fixture(scope="module")
def emulator() -> Iterator[AzureOpenAIEmulator]:
    with _emulator() as em:
        yield em


@pytest.fixture
def client(emulator: AzureOpenAIEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers={"api-key": KEY}, timeout=10) as c:
        c.delete("/_aigw/script")
        yield c
        c.delete("/_aigw/script")


def _events(text: str) -> list[dict[str, Any]]:
    out = []
    for block in text.split("\n\n"):
        data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            out.append(json.loads("\n".join(data)))
    return out


def _sdk_shape(obj: Any) -> Any:
    """`obj` with usage.input_tokens_details.cache_write_tokens, a field the openai package
    (3.x) requires but Azure's documented Responses usage does not carry ({"cached_tokens": 0},
    learn.microsoft.com/azure/ai-foundry/openai/how-to/responses): added here only so the
    package's types can check everything else."""
    if isinstance(obj, dict):
        out = {k: _sdk_shape(v) for k, v in obj.items()}
        if "cached_tokens" in out and "cache_write_tokens" not in out:
            out["cache_write_tokens"] = 0
        return out
    if isinstance(obj, list):
        return [_sdk_shape(v) for v in obj]
    return obj


def _not_found(item_id: str, *, store_false: bool) -> dict[str, Any]:
    message = f"Item with id '{item_id}' not found."
    if store_false:
        message += (
            " Items are not persisted when `store` is set to false. Try again with `store` set "
            "to true, or remove this item from your input."
        )
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": "input",
            "code": None,
        }
    }


# -- 1. reasoning output items ----------------------------------------------------------------


def test_codex_output_starts_with_a_reasoning_item(client: httpx.Client) -> None:
    body = client.post(RESPONSES, json={"model": CODEX, "input": "Say hi"}).json()
    Response.model_validate(_sdk_shape(body))  # the openai package's own type accepts it
    reasoning, message = body["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["id"].startswith("rs_")
    assert reasoning["summary"] == []  # no reasoning.summary asked
    assert "encrypted_content" not in reasoning  # not asked for in `include`
    assert message["type"] == "message"
    usage = body["usage"]
    assert usage["output_tokens_details"]["reasoning_tokens"] > 0
    assert usage["output_tokens"] > usage["output_tokens_details"]["reasoning_tokens"]


def test_encrypted_content_and_summary_only_when_asked(client: httpx.Client) -> None:
    body = client.post(
        RESPONSES,
        json={
            "model": CODEX,
            "input": "Say hi",
            "include": ENCRYPTED,
            "reasoning": {"effort": "low", "summary": "auto"},
        },
    ).json()
    reasoning = body["output"][0]
    assert reasoning["encrypted_content"].startswith("gAAAAA")  # a Fernet-like token
    (summary,) = reasoning["summary"]
    assert summary["type"] == "summary_text" and summary["text"]
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}


def test_a_chat_model_answers_responses_without_reasoning(client: httpx.Client) -> None:
    body = client.post(RESPONSES, json={"model": CHAT, "input": "hi"}).json()
    (item,) = body["output"]
    assert item["type"] == "message"
    assert body["usage"]["output_tokens_details"]["reasoning_tokens"] == 0


def test_streamed_events_in_azures_order(client: httpx.Client) -> None:
    r = client.post(
        f"/openai/responses?api-version={DATED}",
        json={
            "model": CODEX,
            "input": "Stream me a longer answer please",
            "stream": True,
            "include": ENCRYPTED,
            "reasoning": {"summary": "detailed"},
        },
    )
    assert r.status_code == 200
    events = _events(r.text)
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    for event in events:  # every event is one of the openai package's streaming types
        adapter.validate_python(_sdk_shape(event))
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    names = [e["type"] for e in events]
    first_message = names.index("response.output_item.added", 3)
    assert names[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
    ]
    reasoning_part = names[3:first_message]
    assert reasoning_part[-3:] == [
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    assert set(reasoning_part[1:-3]) == {"response.reasoning_summary_text.delta"}
    assert names[first_message : first_message + 2] == [
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert names[-1] == "response.completed"
    added, done = events[2], events[first_message - 1]
    assert added["item"]["type"] == done["item"]["type"] == "reasoning"
    assert added["output_index"] == done["output_index"] == 0
    assert events[first_message]["output_index"] == 1
    deltas = "".join(e["delta"] for e in events if e["type"].endswith("summary_text.delta"))
    final = events[-1]["response"]
    assert deltas == final["output"][0]["summary"][0]["text"]
    # Stricter than OpenAI's docs (earendil-works/pi#4256 saw it on Azure): the encrypted
    # content comes whole only in response.completed, not on the item events.
    assert "encrypted_content" not in added["item"]
    assert "encrypted_content" not in done["item"]
    assert final["output"][0]["encrypted_content"].startswith("gAAAAA")


def test_the_openai_sdk_streams_reasoning_then_text(emulator: AzureOpenAIEmulator) -> None:
    client = openai.OpenAI(base_url=f"{emulator.url}/openai/v1/", api_key=KEY, max_retries=0)
    with client.responses.stream(
        model=CODEX, input="hello there", include=["reasoning.encrypted_content"]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert "hello there" in final.output_text


# -- 2. store and item ids ----------------------------------------------------------------------


def test_store_false_with_an_item_id_is_400_not_persisted(client: httpx.Client) -> None:
    first = client.post(
        RESPONSES, json={"model": CODEX, "input": "hi", "store": False, "include": ENCRYPTED}
    ).json()
    assert first["store"] is False
    reasoning = first["output"][0]
    r = client.post(
        RESPONSES,
        json={
            "model": CODEX,
            "store": False,
            "include": ENCRYPTED,
            "input": [{"role": "user", "content": "hi"}, reasoning, first["output"][1]],
        },
    )
    assert r.status_code == 400
    assert r.json() == _not_found(reasoning["id"], store_false=True)


def test_store_false_stateless_replay_without_ids_works(client: httpx.Client) -> None:
    first = client.post(
        RESPONSES, json={"model": CODEX, "input": "hi", "store": False, "include": ENCRYPTED}
    ).json()
    replay = [{k: v for k, v in item.items() if k != "id"} for item in first["output"]]
    r = client.post(
        RESPONSES,
        json={
            "model": CODEX,
            "store": False,
            "include": ENCRYPTED,
            "input": [{"role": "user", "content": "hi"}, *replay, {"role": "user", "content": "2"}],
        },
    )
    assert r.status_code == 200, r.text


def test_store_true_keeps_items_and_previous_response_id(client: httpx.Client) -> None:
    first = client.post(RESPONSES, json={"model": CODEX, "input": "hi"}).json()
    assert first["store"] is True  # Azure's default
    with_ids = client.post(
        RESPONSES,
        json={
            "model": CODEX,
            "input": [{"role": "user", "content": "hi"}, *first["output"]],
        },
    )
    assert with_ids.status_code == 200, with_ids.text
    chained = client.post(
        RESPONSES,
        json={"model": CODEX, "input": "and then?", "previous_response_id": first["id"]},
    )
    assert chained.status_code == 200, chained.text
    assert chained.json()["previous_response_id"] == first["id"]
    reference = client.post(
        RESPONSES,
        json={
            "model": CODEX,
            "input": [{"type": "item_reference", "id": first["output"][0]["id"]}],
        },
    )
    assert reference.status_code == 200, reference.text


def test_store_true_with_an_unknown_item_id_is_400(client: httpx.Client) -> None:
    item = {"type": "reasoning", "id": "rs_0123456789abcdef", "summary": []}
    r = client.post(RESPONSES, json={"model": CODEX, "input": [item]})
    assert r.status_code == 400
    assert r.json() == _not_found("rs_0123456789abcdef", store_false=False)


def test_previous_response_id_only_for_a_stored_response_of_this_account(
    client: httpx.Client,
) -> None:
    unstored = client.post(RESPONSES, json={"model": CODEX, "input": "x", "store": False}).json()
    with _emulator() as other, httpx.Client(base_url=other.url, headers={"api-key": KEY}) as oc:
        elsewhere = oc.post(RESPONSES, json={"model": CODEX, "input": "x"}).json()
    for previous in ("resp_nope", unstored["id"], elsewhere["id"]):
        r = client.post(
            RESPONSES, json={"model": CODEX, "input": "y", "previous_response_id": previous}
        )
        assert r.status_code == 400, previous
        assert r.json() == {
            "error": {
                "message": f"Previous response with id '{previous}' not found.",
                "type": "invalid_request_error",
                "param": "previous_response_id",
                "code": "previous_response_not_found",
            }
        }


def test_items_of_another_account_are_not_found_there(client: httpx.Client) -> None:
    with _emulator() as other, httpx.Client(base_url=other.url, headers={"api-key": KEY}) as oc:
        first = oc.post(RESPONSES, json={"model": CODEX, "input": "x"}).json()
    r = client.post(RESPONSES, json={"model": CODEX, "input": first["output"]})
    assert r.status_code == 400
    assert r.json() == _not_found(first["output"][0]["id"], store_false=False)


# -- 3. encrypted content bound to the account ----------------------------------------------


def _stateless_reasoning(c: httpx.Client) -> dict[str, Any]:
    first = c.post(
        RESPONSES, json={"model": CODEX, "input": "x", "store": False, "include": ENCRYPTED}
    ).json()
    item = first["output"][0]
    return {
        "type": "reasoning",
        "summary": item["summary"],
        "encrypted_content": item["encrypted_content"],
    }


def _invalid_encrypted(token: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"The encrypted content {token[:4]}...{token[-4:]} could not be verified.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_encrypted_content",
        }
    }


def _replay(c: httpx.Client, reasoning: dict[str, Any]) -> httpx.Response:
    return c.post(
        RESPONSES,
        json={
            "model": CODEX,
            "store": False,
            "include": ENCRYPTED,
            "input": [
                {"role": "user", "content": "x"},
                reasoning,
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": "more"},
            ],
        },
    )


def test_encrypted_content_of_another_account_is_400_invalid(client: httpx.Client) -> None:
    with _emulator() as other, httpx.Client(base_url=other.url, headers={"api-key": KEY}) as oc:
        foreign = _stateless_reasoning(oc)
        assert _replay(oc, foreign).status_code == 200  # its own account verifies it
    r = _replay(client, foreign)
    assert r.status_code == 400
    assert r.json() == _invalid_encrypted(foreign["encrypted_content"])


@pytest.mark.parametrize("how", ["flip", "truncate", "garbage"])
def test_tampered_encrypted_content_is_400_invalid(client: httpx.Client, how: str) -> None:
    reasoning = _stateless_reasoning(client)
    token = reasoning["encrypted_content"]
    middle = len(token) // 2
    bad = {
        "flip": token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :],
        "truncate": token[:-8],
        "garbage": "not-a-token",
    }[how]
    r = _replay(client, {**reasoning, "encrypted_content": bad})
    assert r.status_code == 400
    assert r.json() == _invalid_encrypted(bad)


# -- 4. scripted multi-turn tool calls ----------------------------------------------------------


def test_script_admin_put_get_delete(client: httpx.Client) -> None:
    assert client.get("/_aigw/script").json() == {"tool_calls": None}
    put = client.put("/_aigw/script", json=SCRIPT)
    assert put.status_code == 200
    assert put.json() == SCRIPT
    assert client.get("/_aigw/script").json() == SCRIPT
    assert client.delete("/_aigw/script").json() == {"tool_calls": None}
    bad: dict[str, Any]
    for bad in ({"tool_calls": [{"arguments": {}}]}, {"tool_calls": "x"}, {"nope": []}):
        r = client.put("/_aigw/script", json=bad)
        assert r.status_code == 400, bad
    assert client.get("/_aigw/script").json() == {"tool_calls": None}


def _call(body: dict[str, Any]) -> dict[str, Any]:
    calls = [i for i in body["output"] if i["type"] == "function_call"]
    assert len(calls) == 1, body["output"]
    return calls[0]


def _text(body: dict[str, Any]) -> str:
    (message,) = [i for i in body["output"] if i["type"] == "message"]
    return str(message["content"][0]["text"])


def test_script_drives_responses_turn_by_turn(client: httpx.Client) -> None:
    client.put("/_aigw/script", json=SCRIPT)
    tools = [RUN_TOOL, READ_TOOL]
    history: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    first = client.post(RESPONSES, json={"model": CODEX, "input": history, "tools": tools}).json()
    call1 = _call(first)
    assert (call1["name"], json.loads(call1["arguments"])) == ("read_file", {"path": "README.md"})
    history += [
        *first["output"],
        {"type": "function_call_output", "call_id": call1["call_id"], "output": "# aigw"},
    ]
    second = client.post(RESPONSES, json={"model": CODEX, "input": history, "tools": tools}).json()
    call2 = _call(second)
    assert (call2["name"], json.loads(call2["arguments"])) == ("run", {"cmd": "ls -la"})
    assert call2["call_id"] != call1["call_id"]
    history += [
        *second["output"],
        {"type": "function_call_output", "call_id": call2["call_id"], "output": "total 8"},
    ]
    third = client.post(RESPONSES, json={"model": CODEX, "input": history, "tools": tools}).json()
    assert "total 8" in _text(third)
    # The same history answers the same again: stateless and deterministic.
    again = client.post(RESPONSES, json={"model": CODEX, "input": history[:4], "tools": tools})
    assert _call(again.json())["name"] == "run"


def test_script_counts_tool_results_through_previous_response_id(client: httpx.Client) -> None:
    client.put("/_aigw/script", json=SCRIPT)
    tools = [READ_TOOL, RUN_TOOL]
    first = client.post(RESPONSES, json={"model": CODEX, "input": "go", "tools": tools}).json()
    out1 = {"type": "function_call_output", "call_id": _call(first)["call_id"], "output": "one"}
    second = client.post(
        RESPONSES,
        json={"model": CODEX, "input": [out1], "tools": tools, "previous_response_id": first["id"]},
    ).json()
    assert _call(second)["name"] == "run"
    out2 = {"type": "function_call_output", "call_id": _call(second)["call_id"], "output": "two"}
    third = client.post(
        RESPONSES,
        json={
            "model": CODEX,
            "input": [out2],
            "tools": tools,
            "previous_response_id": second["id"],
        },
    ).json()
    assert "two" in _text(third)


def test_script_names_a_tool_not_offered(client: httpx.Client) -> None:
    client.put("/_aigw/script", json=SCRIPT)
    body = client.post(RESPONSES, json={"model": CODEX, "input": "go", "tools": [RUN_TOOL]}).json()
    assert [i["type"] for i in body["output"]] == ["reasoning", "message"]
    assert _text(body) == "script: tool read_file not offered"
    chat = client.post(
        f"/openai/deployments/{CHAT}/chat/completions?api-version={DATED}",
        json={"messages": [{"role": "user", "content": "go"}]},
    ).json()
    assert chat["choices"][0]["message"]["content"] == "script: tool read_file not offered"


def _chat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {k: v for k, v in tool.items() if k != "type"}}


def test_script_drives_chat_completions(client: httpx.Client) -> None:
    client.put("/_aigw/script", json=SCRIPT)
    url = f"/openai/deployments/{CHAT}/chat/completions?api-version={DATED}"
    tools = [_chat_tool(READ_TOOL), _chat_tool(RUN_TOOL)]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    for name, args, result in (
        ("read_file", {"path": "README.md"}, "# aigw"),
        ("run", {"cmd": "ls -la"}, "total 8"),
    ):
        choice = client.post(url, json={"messages": messages, "tools": tools}).json()["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        (call,) = choice["message"]["tool_calls"]
        assert call["function"]["name"] == name
        assert json.loads(call["function"]["arguments"]) == args
        messages += [
            choice["message"],
            {"role": "tool", "tool_call_id": call["id"], "content": result},
        ]
    last = client.post(url, json={"messages": messages, "tools": tools}).json()["choices"][0]
    assert last["finish_reason"] == "stop"
    assert "total 8" in last["message"]["content"]
    streamed = client.post(url, json={"messages": messages[:1], "tools": tools, "stream": True})
    chunks = [json.loads(d) for d in (e for e in _raw_data(streamed.text)) if d != "[DONE]"]
    names = [
        tc["function"]["name"]
        for c in chunks
        for tc in c["choices"][0]["delta"].get("tool_calls") or []
        if c["choices"] and tc.get("function", {}).get("name")
    ]
    assert names == ["read_file"]


def _raw_data(text: str) -> Iterator[str]:
    for line in text.split("\n"):
        if line.startswith("data: "):
            yield line[6:]


def test_without_a_script_the_first_tool_is_called(client: httpx.Client) -> None:
    body = client.post(
        RESPONSES, json={"model": CODEX, "input": "go", "tools": [RUN_TOOL, READ_TOOL]}
    ).json()
    assert _call(body)["name"] == "run"
