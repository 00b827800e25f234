"""What the Azure OpenAI emulator answers: deterministic embeddings, Responses API objects
(plain and streamed), chat completions, and Azure's error bodies. Pure functions."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
import secrets
import struct
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

DeploymentKind = Literal["responses", "embeddings", "chat"]

if TYPE_CHECKING:
    from .aoai import Deployment

MSG_DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again."
)

# ---------------------------------------------------------------------------------------------
# Deterministic content


@functools.lru_cache(maxsize=4096)
def _unit_vector(seed: str, dimensions: int) -> tuple[float, ...]:
    """A unit vector of float32 values derived from sha256(seed)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    raw = hashlib.shake_256(digest).digest(4 * dimensions)
    ints = struct.unpack(f"<{dimensions}I", raw)
    values = [(i / 2147483647.5) - 1.0 for i in ints]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    # Round through float32 so the float and base64 encodings carry the same numbers.
    packed = struct.pack(f"<{dimensions}f", *(v / norm for v in values))
    return struct.unpack(f"<{dimensions}f", packed)


def embedding_for(item: Any, dimensions: int) -> tuple[float, ...]:
    """The emulator's embedding of one input item (a string or a list of token ids)."""
    seed = item if isinstance(item, str) else json.dumps(item, separators=(",", ":"))
    return _unit_vector(seed, dimensions)


def _count_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _json_example(schema: Any) -> Any:
    """A value that fits a JSON schema well enough for a fake tool call."""
    if not isinstance(schema, dict):
        return "example"
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)
        return {name: _json_example(props.get(name, {})) for name in required}
    if kind == "array":
        return [_json_example(schema.get("items", {}))] if schema.get("items") else []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "example"


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return " ".join(parts)
    return ""


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


# ---------------------------------------------------------------------------------------------
# HTTP


class _Reply(Exception):
    """Raised inside a handler to answer with a JSON error."""

    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _not_found() -> _Reply:
    return _Reply(404, {"error": {"code": "404", "message": "Resource not found"}})


def _deployment_not_found() -> _Reply:
    return _Reply(
        404, {"error": {"code": "DeploymentNotFound", "message": MSG_DEPLOYMENT_NOT_FOUND}}
    )


def _not_supported(operation: str, deployment: str) -> _Reply:
    return _Reply(
        400,
        {
            "error": {
                "code": "OperationNotSupported",
                "message": (
                    f"The {operation} operation does not work with the specified model, "
                    f"{deployment}. Please choose different model and try again. You can learn "
                    "more about which models can be used with each operation here: "
                    "https://go.microsoft.com/fwlink/?linkid=2197993."
                ),
            }
        },
    )


def _bad_request(message: str, param: str | None = None) -> _Reply:
    return _Reply(
        400,
        {"error": {"code": "BadRequest", "message": message, "param": param, "type": None}},
    )


# ---------------------------------------------------------------------------------------------
# Embeddings


def _embeddings(deployment: Deployment, body: dict[str, Any]) -> dict[str, Any]:
    items = body.get("input")
    if items is None:
        raise _bad_request("'input' is a required property", "input")
    if isinstance(items, str) or (
        isinstance(items, list) and items and all(isinstance(x, int) for x in items)
    ):
        items = [items]
    if not isinstance(items, list) or not items:
        raise _bad_request("'input' must be a non-empty string or array", "input")
    for item in items:
        if isinstance(item, str):
            continue
        if isinstance(item, list) and item and all(isinstance(x, int) for x in item):
            continue
        raise _bad_request("'input' items must be strings or arrays of token ids", "input")
    full = deployment.dimensions or 3072
    dims = body.get("dimensions")
    if dims is None:
        dims = full
    if not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= full:
        raise _bad_request(f"'dimensions' must be between 1 and {full}", "dimensions")
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise _bad_request("'encoding_format' must be 'float' or 'base64'", "encoding_format")
    data = []
    tokens = 0
    for index, item in enumerate(items):
        vector = embedding_for(item, full)
        if dims != full:  # shortened like text-embedding-3: truncate then renormalize
            head = vector[:dims]
            norm = math.sqrt(sum(v * v for v in head)) or 1.0
            vector = struct.unpack(f"<{dims}f", struct.pack(f"<{dims}f", *(v / norm for v in head)))
        tokens += _count_tokens(item) if isinstance(item, str) else len(item)
        encoded: Any
        if fmt == "base64":
            encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        else:
            encoded = list(vector)
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return {
        "object": "list",
        "data": data,
        "model": deployment.name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


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


def _pieces(text: str, size: int = 8) -> list[str]:
    words = re.findall(r"\S+\s*|\s+", text)
    out, current = [], ""
    for word in words:
        current += word
        if len(current) >= size:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out or [""]


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


# ---------------------------------------------------------------------------------------------
# Chat completions


def _chat_completion(deployment: Deployment, body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad_request("'messages' is a required property", "messages")
    user_text, tool_output = "", None
    for message in messages:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "user":
            user_text = _content_text(message.get("content"))
        elif message.get("role") == "tool":
            tool_output = _content_text(message.get("content"))
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    functions = [
        t["function"]
        for t in tools
        if isinstance(t.get("function"), dict) and t["function"].get("name")
    ]
    prompt_tokens = _count_tokens(json.dumps(messages))
    message_out: dict[str, Any]
    if functions and tool_output is None:
        arguments = json.dumps(_json_example(functions[0].get("parameters") or {}))
        message_out = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": _new_id("call"),
                    "type": "function",
                    "function": {"name": functions[0]["name"], "arguments": arguments},
                }
            ],
        }
        finish, completion_tokens = "tool_calls", _count_tokens(arguments)
    else:
        if tool_output is not None:
            text = f"The tool returned: {tool_output}"
        else:
            text = f"Hello from {deployment.name}. You said: {user_text}"
        message_out = {"role": "assistant", "content": text, "refusal": None}
        finish, completion_tokens = "stop", _count_tokens(text)
    return {
        "id": _new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": deployment.name,
        "system_fingerprint": "fp_aoai_emulator",
        "choices": [
            {"index": 0, "message": message_out, "finish_reason": finish, "logprobs": None}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _chat_chunks(completion: dict[str, Any], include_usage: bool) -> Iterator[dict[str, Any]]:
    base = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "system_fingerprint": completion["system_fingerprint"],
    }
    choice = completion["choices"][0]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **base,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    if message.get("tool_calls"):
        call = message["tool_calls"][0]
        yield chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ],
            }
        )
        for piece in _pieces(call["function"]["arguments"]):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
    else:
        yield chunk({"role": "assistant", "content": ""})
        for piece in _pieces(message["content"]):
            yield chunk({"content": piece})
    yield chunk({}, choice["finish_reason"])
    if include_usage:
        yield {**base, "choices": [], "usage": completion["usage"]}
