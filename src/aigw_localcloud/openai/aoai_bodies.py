"""What the Azure OpenAI emulator answers: deterministic content, embeddings, chat completions
and Azure's error bodies (the Responses API is in aoai_responses). Pure functions."""

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .deployments import Deployment

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


def _invalid_request(message: str, param: str | None, code: str | None = None) -> _Reply:
    """The OpenAI-shaped 400 the Responses API answers on Azure ({"error": {message, type:
    "invalid_request_error", param, code}}, as quoted from Azure in openai/codex#3292 and
    microsoft/agent-framework#6419)."""
    return _Reply(
        400,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": param,
                "code": code,
            }
        },
    )


# ---------------------------------------------------------------------------------------------
# Scripted tool calls (the /_aigw/script admin endpoint; not an Azure behaviour: a test's
# stand-in for what a model decides)


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class Script:
    """The tool calls a conversation makes, in order: with k tool results in it, call k."""

    tool_calls: tuple[ScriptedCall, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"tool_calls": [c.to_dict() for c in self.tool_calls]}


def parse_script(data: Any) -> Script:
    """`{"tool_calls": [{"name": str, "arguments": {...}}, ...]}`; ValueError naming the field."""
    if not isinstance(data, dict) or not isinstance(data.get("tool_calls"), list):
        raise ValueError("script: 'tool_calls' must be a list of {name, arguments}")
    calls = []
    for index, call in enumerate(data["tool_calls"]):
        if not isinstance(call, dict):
            raise ValueError(f"script: tool_calls[{index}] must be an object")
        name, arguments = call.get("name"), call.get("arguments", {})
        if not isinstance(name, str) or not name:
            raise ValueError(f"script: tool_calls[{index}].name must be a non-empty string")
        if not isinstance(arguments, dict):
            raise ValueError(f"script: tool_calls[{index}].arguments must be an object")
        calls.append(ScriptedCall(name, arguments))
    return Script(tuple(calls))


def scripted_turn(
    script: Script, results: Sequence[str], offered: Sequence[str]
) -> ScriptedCall | str | None:
    """What the script answers a conversation holding `results` (its tool results, in order)
    when the request offers the tools named `offered`: the call of script[k] (k tool results
    so far), "script: tool <name> not offered" when the request does not offer that tool, or,
    past the script's end, the text quoting the last tool result (None: no result to quote)."""
    k = len(results)
    if k < len(script.tool_calls):
        call = script.tool_calls[k]
        return call if call.name in offered else f"script: tool {call.name} not offered"
    return _quote_tool_result(results[-1]) if results else None


def _quote_tool_result(output: str) -> str:
    return f"The tool returned: {output}"


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
# Chat completions


def _chat_completion(
    deployment: Deployment, body: dict[str, Any], script: Script | None = None
) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad_request("'messages' is a required property", "messages")
    user_text, results = "", []
    for message in messages:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "user":
            user_text = _content_text(message.get("content"))
        elif message.get("role") == "tool":
            results.append(_content_text(message.get("content")))
    tool_output = results[-1] if results else None
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    functions = [
        t["function"]
        for t in tools
        if isinstance(t.get("function"), dict) and t["function"].get("name")
    ]
    prompt_tokens = _count_tokens(json.dumps(messages))
    # Without a script: the first tool is called until a tool result is in the conversation.
    call: tuple[str, str] | None = None
    text: str | None = None
    if script is not None:
        turn = scripted_turn(script, results, [f["name"] for f in functions])
        if isinstance(turn, ScriptedCall):
            call = (turn.name, json.dumps(turn.arguments))
        else:
            text = turn
    elif functions and tool_output is None:
        example = _json_example(functions[0].get("parameters") or {})
        call = (functions[0]["name"], json.dumps(example))
    message_out: dict[str, Any]
    if call is not None:
        name, arguments = call
        message_out = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": _new_id("call"),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ],
        }
        finish, completion_tokens = "tool_calls", _count_tokens(arguments)
    else:
        if text is None and tool_output is not None:
            text = _quote_tool_result(tool_output)
        elif text is None:
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
