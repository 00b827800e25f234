"""The Responses API answers of the Azure OpenAI emulator: response objects (text or a tool
call) and the streamed events, in OpenAI's Responses streaming format."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from .aoai_bodies import _bad_request, _content_text, _count_tokens, _json_example, _new_id, _pieces
from .deployments import Deployment

# ---------------------------------------------------------------------------------------------
# Responses API


def _responses_input(body: dict[str, Any]) -> tuple[str, str | None]:
    """(last user text, last function_call_output or None) of a Responses request."""
    value = body.get("input")
    if value is None:
        raise _bad_request("Missing required parameter: 'input'.", "input")
    if isinstance(value, str):
        return value, None
    if not isinstance(value, list):
        raise _bad_request("Invalid type for 'input'.", "input")
    user_text, tool_output = "", None
    for item in value:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call_output":
            out = item.get("output")
            tool_output = out if isinstance(out, str) else json.dumps(out)
        elif item.get("role") == "user":
            user_text = _content_text(item.get("content"))
    return user_text, tool_output


def _flat_tool(tool: dict[str, Any]) -> dict[str, Any]:
    if "function" in tool and isinstance(tool["function"], dict):
        return {"type": "function", **tool["function"]}
    return tool


def _response(deployment: Deployment, body: dict[str, Any]) -> dict[str, Any]:
    user_text, tool_output = _responses_input(body)
    tools = [_flat_tool(t) for t in body.get("tools") or [] if isinstance(t, dict)]
    functions = [t for t in tools if t.get("type") == "function" and t.get("name")]
    input_tokens = _count_tokens(json.dumps(body.get("input")))
    output: list[dict[str, Any]]
    if functions and tool_output is None:
        tool = functions[0]
        arguments = json.dumps(_json_example(tool.get("parameters") or {}))
        output = [
            {
                "id": _new_id("fc"),
                "type": "function_call",
                "status": "completed",
                "call_id": _new_id("call"),
                "name": tool["name"],
                "arguments": arguments,
            }
        ]
        output_tokens = _count_tokens(arguments)
    else:
        if tool_output is not None:
            text = f"The tool returned: {tool_output}"
        else:
            text = f"Hello from {deployment.name}. You said: {user_text}"
        output = [
            {
                "id": _new_id("msg"),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
                ],
            }
        ]
        output_tokens = _count_tokens(text)
    return {
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
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": (body.get("reasoning") or {}).get("effort"), "summary": None},
        "store": body.get("store", True),
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
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def _response_events(response: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The Responses streaming events for a finished response, in OpenAI's order and shape."""
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
