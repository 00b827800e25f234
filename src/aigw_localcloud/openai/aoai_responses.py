"""The Responses API answers of the Azure OpenAI emulator: response objects (a reasoning item
first on a reasoning model, then text or a tool call) and the streamed events, in OpenAI's
Responses streaming format, with Azure's rules on `store`, item ids, `previous_response_id`
and `encrypted_content`.

Shapes: the `openai` package's types (openai.types.responses: Response, ResponseReasoningItem,
ResponseInputItemParam, ResponseStreamEvent), which the Azure OpenAI v1 data-plane spec
(Azure/azure-rest-api-specs specification/ai/data-plane/OpenAI.v1, api-version v1/preview) takes
from OpenAI's; learn.microsoft.com/azure/ai-foundry/openai/how-to/responses and .../reasoning.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .aoai_bodies import (
    Script,
    ScriptedCall,
    _bad_request,
    _content_text,
    _count_tokens,
    _invalid_request,
    _json_example,
    _new_id,
    _pieces,
    _quote_tool_result,
    scripted_turn,
)
from .aoai_store import ResponseStore, Sealer, StoredResponse
from .deployments import Deployment

# ---------------------------------------------------------------------------------------------
# Responses API

ENCRYPTED_CONTENT = "reasoning.encrypted_content"
# Reasoning summaries come only when the request asks for one (reasoning.summary auto, concise or
# detailed; learn.microsoft.com/azure/ai-foundry/openai/how-to/reasoning, "Reasoning summary").
_SUMMARY_SETTINGS = frozenset({"auto", "concise", "detailed"})
_REASONING_TOKENS = 64

MSG_NOT_PERSISTED = (
    " Items are not persisted when `store` is set to false. Try again with `store` set to true, "
    "or remove this item from your input."
)


@dataclass(frozen=True)
class ResponsesContext:
    """What an answer needs of the account serving it: its stored responses, its sealing key,
    its name (sealed into tokens), and the script of tool calls, if a test set one."""

    store: ResponseStore
    sealer: Sealer
    account: str
    script: Script | None = None


def _input_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("input")
    if value is None:
        raise _bad_request("Missing required parameter: 'input'.", "input")
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if not isinstance(value, list):
        raise _bad_request("Invalid type for 'input'.", "input")
    return [item for item in value if isinstance(item, dict)]


def _looked_up(item: dict[str, Any]) -> bool:
    """Whether Azure resolves this input item's `id` against the stored items: the items the
    service itself produces (reasoning, function_call, assistant messages) and references.
    Stricter than the evidence, which names reasoning items (rs_, openai/codex#3292, #35739)
    and "response items" in general (openai/codex PR #3528): every server-made id is looked up.
    User messages and tool outputs carry no server id and are not looked up."""
    kind = item.get("type")
    if kind in ("reasoning", "function_call", "item_reference"):
        return True
    return kind in (None, "message") and item.get("role") == "assistant"


def _check_previous(previous: Any, ctx: ResponsesContext) -> None:
    # A previous response must be stored, on this account (store true, the default): Azure's
    # 400 previous_response_not_found (microsoft/agent-framework#6419 quotes it from Azure).
    if previous is None:
        return
    if not isinstance(previous, str) or ctx.store.response(previous) is None:
        raise _invalid_request(
            f"Previous response with id '{previous}' not found.",
            "previous_response_id",
            "previous_response_not_found",
        )


def _check_items(items: list[dict[str, Any]], store: bool, ctx: ResponsesContext) -> None:
    for item in items:
        item_id = item.get("id")
        if isinstance(item_id, str) and _looked_up(item):
            # store false: nothing is persisted, so an item id can never resolve (openai/codex
            # #3292 quotes Azure's 400 word for word; #35739 the same with store false and a
            # reasoning item carrying both id and encrypted_content: the id wins). store true:
            # only an item this account stored resolves ("Item with id 'rs_...' not found",
            # twentyhq/twenty#23182, earendil-works/pi#5524 on Azure's stateful mode).
            if not store:
                raise _invalid_request(
                    f"Item with id '{item_id}' not found.{MSG_NOT_PERSISTED}", "input"
                )
            if ctx.store.item(item_id) is None:
                raise _invalid_request(f"Item with id '{item_id}' not found.", "input")
        token = item.get("encrypted_content")
        if item.get("type") == "reasoning" and token is not None and not ctx.sealer.verify(token):
            # Content sealed by another resource, or edited: Azure's 400 (quoted from Azure
            # through LiteLLM in BerriAI/litellm#18094 and openai/codex#9045; the token shown
            # as its first and last four characters).
            shown = f"{str(token)[:4]}...{str(token)[-4:]}"
            raise _invalid_request(
                f"The encrypted content {shown} could not be verified.",
                None,
                "invalid_encrypted_content",
            )


def _resolved(item: dict[str, Any], ctx: ResponsesContext) -> dict[str, Any]:
    if item.get("type") == "item_reference" and isinstance(item.get("id"), str):
        return ctx.store.item(item["id"]) or item
    return item


def _tool_output(item: dict[str, Any]) -> str | None:
    if item.get("type") != "function_call_output":
        return None
    out = item.get("output")
    if isinstance(out, str):
        return out
    if isinstance(out, list):  # input_text parts (LiteLLM's chat bridge sends a tool's content so)
        return _content_text(out)
    return json.dumps(out)


def _conversation(
    items: list[dict[str, Any]], chain: list[StoredResponse], ctx: ResponsesContext
) -> tuple[str, list[str], list[str]]:
    """(last user text, tool results of the whole conversation, tool results of this request's
    input): the conversation is the stored responses reachable through previous_response_id
    (their inputs and outputs), then this input."""
    earlier = [_resolved(i, ctx) for s in chain for i in (*s.input_items, *s.output_items)]
    current = [_resolved(i, ctx) for i in items]
    user_text = ""
    for item in (*earlier, *current):
        if item.get("role") == "user":
            user_text = _content_text(item.get("content"))
    every = [o for o in map(_tool_output, (*earlier, *current)) if o is not None]
    here = [o for o in map(_tool_output, current) if o is not None]
    return user_text, every, here


def _flat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    if "function" in tool and isinstance(tool["function"], dict):
        return {"type": "function", **tool["function"]}
    return tool


def _reasoning_item(
    body: dict[str, Any], ctx: ResponsesContext, call: str | None
) -> dict[str, Any]:
    """A reasoning model's first output item (openai.types.responses.ResponseReasoningItem):
    `summary` only when asked for; `encrypted_content` only with "reasoning.encrypted_content"
    in `include` (Azure's ReasoningItemResource.EncryptedContent: "populated when a response is
    generated with reasoning.encrypted_content in the include parameter", learn.microsoft.com/
    dotnet/api/azure.ai.agentserver.contracts.generated.openai.reasoningitemresource). The
    openai package (3.x) now documents it as populated by default on OpenAI's own API; stricter
    here, since a client that does not ask for it on Azure does not get it."""
    item: dict[str, Any] = {"id": _new_id("rs"), "type": "reasoning", "summary": []}
    if (body.get("reasoning") or {}).get("summary") in _SUMMARY_SETTINGS:
        if call is not None:
            text = f"**Choosing a tool**\n\nThe request offers tools; {call} comes next."
        else:
            text = "**Answering the request**\n\nA short, direct answer fits the request."
        item["summary"] = [{"type": "summary_text", "text": text}]
    include = body.get("include")
    if isinstance(include, list) and ENCRYPTED_CONTENT in include:
        item["encrypted_content"] = ctx.sealer.seal(item["id"], ctx.account)
    return item


def _response(
    deployment: Deployment, body: dict[str, Any], ctx: ResponsesContext
) -> dict[str, Any]:
    items = _input_items(body)
    # `store` defaults to true on Azure (OpenAI.CreateResponse.store, "Defaults to true";
    # openai/codex PR #3528 works around exactly that default), `null` included.
    store = body.get("store") is not False
    previous = body.get("previous_response_id")
    _check_previous(previous, ctx)
    _check_items(items, store, ctx)
    chain = ctx.store.chain(previous)
    user_text, results, here = _conversation(items, chain, ctx)
    tools = [_flat_tool(t) for t in body.get("tools") or [] if isinstance(t, dict)]
    functions = [t for t in tools if t.get("type") == "function" and t.get("name")]
    input_tokens = _count_tokens(json.dumps(body.get("input")))

    call: tuple[str, str] | None = None
    text: str | None = None
    if ctx.script is not None:
        turn = scripted_turn(ctx.script, results, [str(f["name"]) for f in functions])
        if isinstance(turn, ScriptedCall):
            call = (turn.name, json.dumps(turn.arguments))
        else:
            text = turn
    elif functions and not here:  # today's answer: the first tool until a result is in the input
        call = (
            functions[0]["name"],
            json.dumps(_json_example(functions[0].get("parameters") or {})),
        )
    if call is None and text is None:
        if here:
            text = _quote_tool_result(here[-1])
        else:
            text = f"Hello from {deployment.name}. You said: {user_text}"

    output: list[dict[str, Any]] = []
    reasoning_tokens = 0
    if deployment.kind == "responses":  # a reasoning (codex) model: reasoning comes first
        output.append(_reasoning_item(body, ctx, call[0] if call else None))
        reasoning_tokens = _REASONING_TOKENS
    if call is not None:
        name, arguments = call
        output.append(
            {
                "id": _new_id("fc"),
                "type": "function_call",
                "status": "completed",
                "call_id": _new_id("call"),
                "name": name,
                "arguments": arguments,
            }
        )
        output_tokens = _count_tokens(arguments)
    else:
        assert text is not None
        output.append(
            {
                "id": _new_id("msg"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
                ],
            }
        )
        output_tokens = _count_tokens(text)
    output_tokens += reasoning_tokens
    asked = body.get("reasoning") or {}
    if deployment.kind == "responses":
        reasoning = {"effort": asked.get("effort") or "medium", "summary": asked.get("summary")}
    else:
        reasoning = {"effort": asked.get("effort"), "summary": None}
    response = {
        "id": _new_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": deployment.name,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": previous,
        "reasoning": reasoning,
        "store": store,
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": tools,
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }
    if store:
        ctx.store.put(response["id"], previous, items, output)
    return response


def _response_events(response: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The Responses streaming events for a finished response, in OpenAI's order and shape
    (openai.types.responses.ResponseStreamEvent): response.created, response.in_progress, then
    per output item output_item.added, its deltas, output_item.done (a reasoning item first,
    with its summary parts), then response.completed with the whole response."""
    seq = 0

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        nonlocal seq
        out = {"type": kind, "sequence_number": seq, **fields}
        seq += 1
        return out

    pending = {**response, "status": "in_progress", "output": [], "usage": None}
    yield event("response.created", response=pending)
    yield event("response.in_progress", response=pending)
    for index, item in enumerate(response["output"]):
        if item["type"] == "reasoning":
            # encrypted_content only in response.completed: stricter than the openai package's
            # docs (which point at output_item.done), as earendil-works/pi#4256 saw Azure do
            # ("only emitted on the final response.completed.response.output[]").
            shown = {k: v for k, v in item.items() if k != "encrypted_content"}
            yield event(
                "response.output_item.added", output_index=index, item={**shown, "summary": []}
            )
            for summary_index, part in enumerate(item["summary"]):
                where = {
                    "item_id": item["id"],
                    "output_index": index,
                    "summary_index": summary_index,
                }
                yield event(
                    "response.reasoning_summary_part.added",
                    **where,
                    part={"type": "summary_text", "text": ""},
                )
                for piece in _pieces(part["text"]):
                    yield event("response.reasoning_summary_text.delta", **where, delta=piece)
                yield event("response.reasoning_summary_text.done", **where, text=part["text"])
                yield event("response.reasoning_summary_part.done", **where, part=part)
            yield event("response.output_item.done", output_index=index, item=shown)
            continue
        if item["type"] == "function_call":
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            for piece in _pieces(item["arguments"]):
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=piece,
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                arguments=item["arguments"],
            )
            yield event("response.output_item.done", output_index=index, item=item)
            continue
        yield event(
            "response.output_item.added",
            output_index=index,
            item={**item, "status": "in_progress", "content": []},
        )
        for content_index, part in enumerate(item["content"]):
            yield event(
                "response.content_part.added",
                item_id=item["id"],
                output_index=index,
                content_index=content_index,
                part={"type": "output_text", "text": "", "annotations": []},
            )
            for piece in _pieces(part["text"]):
                yield event(
                    "response.output_text.delta",
                    item_id=item["id"],
                    output_index=index,
                    content_index=content_index,
                    delta=piece,
                    logprobs=[],
                )
            yield event(
                "response.output_text.done",
                item_id=item["id"],
                output_index=index,
                content_index=content_index,
                text=part["text"],
                logprobs=[],
            )
            yield event(
                "response.content_part.done",
                item_id=item["id"],
                output_index=index,
                content_index=content_index,
                part=part,
            )
        yield event("response.output_item.done", output_index=index, item=item)
    yield event("response.completed", response=response)
