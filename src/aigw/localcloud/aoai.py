"""A local emulator of the Azure OpenAI data plane, enough to put the real LiteLLM proxy in front.

It serves only the paths real Azure OpenAI serves, for the deployments it is told about:

    POST /openai/deployments/{d}/embeddings?api-version=<dated>
    POST /openai/deployments/{d}/chat/completions?api-version=<dated>
    POST /openai/responses?api-version=<dated>            (model = deployment name in the body)
    POST /openai/v1/responses                              (api-version none/preview/latest/v1)
    POST /openai/v1/embeddings, /openai/v1/chat/completions (same, the v1 "next generation" API)

Everything else is Azure's 404 `Resource not found`; a missing or wrong `api-key` header
(`Authorization: Bearer <key>` is accepted too) is Azure's 401; an operation the deployment's
model does not support is Azure's 400 `OperationNotSupported`.

Answers are deterministic: embeddings are unit vectors derived from sha256 of the input, text
answers echo the last user message. Tool calling: with `tools` and no tool result in the input,
the answer is a call of the first tool; with a tool result, a text that quotes it.

Admin endpoints under `/_aigw/` (no key, 127.0.0.1 only) let another process configure it:
`GET/DELETE /_aigw/journal`, `PUT /_aigw/deployments`, `PUT /_aigw/api-key`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
import secrets
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

DeploymentKind = Literal["responses", "embeddings", "chat"]

DATED_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
V1_API_VERSIONS = frozenset({"preview", "latest", "v1"})
# The Responses API exists on dated api-versions from 2025-03-01-preview on.
FIRST_RESPONSES_API_VERSION = "2025-03-01-preview"

MSG_401 = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)
MSG_DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again."
)


@dataclass(frozen=True)
class Deployment:
    """One model deployment of the emulated Azure OpenAI resource.

    `kind` says what the model can do: "embeddings" only embeddings; "responses" (a codex model)
    only the Responses API; "chat" chat completions and the Responses API. `dimensions` is the
    embedding size (3072 for text-embedding-3-large). `api_versions`, when set, is the set of
    dated api-versions accepted for this deployment (others get 404, as Azure does).
    """

    name: str
    kind: DeploymentKind
    dimensions: int | None = None
    api_versions: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("responses", "embeddings", "chat"):
            raise ValueError(f"unknown deployment kind {self.kind!r}")
        if self.kind == "embeddings" and not self.dimensions:
            object.__setattr__(self, "dimensions", 3072)
        if self.api_versions is not None and not isinstance(self.api_versions, frozenset):
            object.__setattr__(self, "api_versions", frozenset(self.api_versions))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "dimensions": self.dimensions,
            "api_versions": sorted(self.api_versions) if self.api_versions is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deployment:
        versions = data.get("api_versions")
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            dimensions=data.get("dimensions"),
            api_versions=frozenset(versions) if versions is not None else None,
        )


DEFAULT_DEPLOYMENTS: dict[str, Deployment] = {
    "gpt-5-codex": Deployment("gpt-5-codex", "responses"),
    "text-embedding-3-large": Deployment("text-embedding-3-large", "embeddings", 3072),
}


@dataclass(frozen=True)
class JournalEntry:
    """One request as the emulator saw it. Never holds the key value, only how it came."""

    method: str
    path: str
    query: dict[str, str]
    deployment: str | None
    status: int
    streamed: bool = False
    auth: str | None = None  # "api-key", "bearer" or None
    operation: str | None = None  # "embeddings", "responses", "chat" or None
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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


_SUPPORTS: dict[str, frozenset[str]] = {
    "embeddings": frozenset({"embeddings"}),
    "responses": frozenset({"responses"}),
    "chat": frozenset({"chat", "responses"}),
}


class AzureOpenAIEmulator:
    """An Azure OpenAI resource on 127.0.0.1, in a background thread."""

    def __init__(
        self,
        deployments: Mapping[str, Deployment] | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`deployments` None → DEFAULT_DEPLOYMENTS; `api_key` None → any non-empty key passes."""
        self._lock = threading.Lock()
        self._deployments: dict[str, Deployment] = dict(
            DEFAULT_DEPLOYMENTS if deployments is None else deployments
        )
        self._api_key = api_key
        self._journal: list[JournalEntry] = []
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration ------------------------------------------------------------------------

    def set_deployments(self, deployments: Mapping[str, Deployment] | Iterable[Deployment]) -> None:
        if isinstance(deployments, Mapping):
            new = dict(deployments)
        else:
            new = {d.name: d for d in deployments}
        with self._lock:
            self._deployments = new

    def set_api_key(self, api_key: str | None) -> None:
        with self._lock:
            self._api_key = api_key

    @property
    def deployments(self) -> dict[str, Deployment]:
        with self._lock:
            return dict(self._deployments)

    @property
    def journal(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._journal)

    def clear_journal(self) -> None:
        with self._lock:
            self._journal.clear()

    def _record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._journal.append(entry)

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Azure OpenAI emulator is not started")
        port = self._server.server_address[1]
        return f"http://{self._host}:{port}"

    def start(self) -> AzureOpenAIEmulator:
        if self._server is not None:
            return self
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        server = ThreadingHTTPServer((self._host, self._port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="aoai-emulator", kwargs={"poll_interval": 0.1}
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> AzureOpenAIEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (called from handler threads) ---------------------------------------

    def _check_key(self, headers: Any) -> str | None:
        """Return how the key came ("api-key"/"bearer"); raise 401 if missing or wrong."""
        given: str | None = headers.get("api-key")
        how: str | None = "api-key" if given is not None else None
        if given is None:
            auth = headers.get("Authorization") or ""
            if auth[:7].lower() == "bearer ":
                given, how = auth[7:].strip(), "bearer"
        with self._lock:
            expected = self._api_key
        ok = bool(given) and (
            expected is None or secrets.compare_digest(str(given).encode(), expected.encode())
        )
        if not ok:
            raise _Reply(401, {"error": {"code": "401", "message": MSG_401}})
        return how

    def _deployment(self, name: str | None, operation: str) -> Deployment:
        with self._lock:
            deployment = self._deployments.get(name or "")
        if deployment is None:
            raise _deployment_not_found()
        if operation not in _SUPPORTS[deployment.kind]:
            raise _not_supported(
                {"embeddings": "embeddings", "chat": "chatCompletion", "responses": "responses"}[
                    operation
                ],
                deployment.name,
            )
        return deployment


class _Handler(BaseHTTPRequestHandler):
    emulator: AzureOpenAIEmulator
    _entry: dict[str, Any] | None = None
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the client's
    # delayed ACK hold small answers ~40 ms on a kept-alive connection.
    disable_nagle_algorithm = True
    server_version = "aoai-emulator"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing -----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("apim-request-id", secrets.token_hex(16))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self._journal(status, streamed=False)
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("apim-request-id", secrets.token_hex(16))
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self._journal(200, streamed=True)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- dispatch -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self._read_body()
        self._entry = None
        if path.startswith("/_aigw/"):
            self._admin(method, path, body)
            return
        # Journaled just before the last byte goes out, so a client that has its answer
        # always finds the entry.
        self._entry = {
            "method": method,
            "path": path,
            "query": query,
            "deployment": None,
            "operation": None,
            "auth": None,
        }
        try:
            self._entry["auth"] = self.emulator._check_key(self.headers)
            self._route(method, path, query, body, self._entry)
        except _Reply as reply:
            self._send_json(reply.status, reply.body, reply.headers)
        except (BrokenPipeError, ConnectionResetError):
            self._journal(499, streamed=False)
        except Exception as exc:  # a bug in the emulator: answer 500, keep serving
            self._send_json(
                500, {"error": {"code": "InternalServerError", "message": f"emulator: {exc!r}"}}
            )

    def _journal(self, status: int, *, streamed: bool) -> None:
        entry, self._entry = self._entry, None
        if entry is not None:
            self.emulator._record(JournalEntry(status=status, streamed=streamed, **entry))

    def _route(
        self, method: str, path: str, query: dict[str, str], raw: bytes, state: dict[str, Any]
    ) -> None:
        """Serve one data-plane request."""
        em = self.emulator
        api_version = query.get("api-version")
        m = re.fullmatch(r"/openai/deployments/([^/]+)/(embeddings|chat/completions)", path)
        if m:
            if method != "POST" or not api_version or not DATED_API_VERSION.match(api_version):
                raise _not_found()
            operation = "embeddings" if m.group(2) == "embeddings" else "chat"
            state["deployment"], state["operation"] = m.group(1), operation
            deployment = em._deployment(m.group(1), operation)
            if deployment.api_versions is not None and api_version not in deployment.api_versions:
                raise _not_found()
            body = self._json(raw)
            self._serve(operation, deployment, body)
            return
        if path == "/openai/responses":
            if method != "POST" or not api_version or not DATED_API_VERSION.match(api_version):
                raise _not_found()
            if api_version < FIRST_RESPONSES_API_VERSION:
                raise _not_found()
            self._serve_by_model("responses", raw, state, api_version)
            return
        m = re.fullmatch(r"/openai/v1/(responses|embeddings|chat/completions)", path)
        if m:
            if method != "POST" or (api_version is not None and api_version not in V1_API_VERSIONS):
                raise _not_found()
            operation = {"responses": "responses", "embeddings": "embeddings"}.get(
                m.group(1), "chat"
            )
            self._serve_by_model(operation, raw, state, None)
            return
        raise _not_found()

    def _serve_by_model(
        self, operation: str, raw: bytes, state: dict[str, Any], api_version: str | None
    ) -> None:
        body = self._json(raw)
        model = body.get("model")
        state["operation"] = operation
        if not isinstance(model, str) or not model:
            raise _bad_request("Missing required parameter: 'model'.", "model")
        state["deployment"] = model
        deployment = self.emulator._deployment(model, operation)
        if (
            api_version is not None
            and deployment.api_versions is not None
            and api_version not in deployment.api_versions
        ):
            raise _not_found()
        self._serve(operation, deployment, body)

    @staticmethod
    def _json(raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise _bad_request("We could not parse the JSON body of your request.") from None
        if not isinstance(body, dict):
            raise _bad_request("We could not parse the JSON body of your request.")
        return body

    def _serve(self, operation: str, deployment: Deployment, body: dict[str, Any]) -> None:
        if operation == "embeddings":
            self._send_json(200, _embeddings(deployment, body))
            return
        if operation == "responses":
            response = _response(deployment, body)
            if body.get("stream"):
                self._stream_events(_response_events(response))
                return
            self._send_json(200, response)
            return
        completion = _chat_completion(deployment, body)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream_events(_chat_chunks(completion, include_usage), done=True)
            return
        self._send_json(200, completion)
        return

    def _stream_events(self, events: Iterator[dict[str, Any]], done: bool = False) -> None:
        self._start_stream()
        for event in events:
            data = json.dumps(event)
            if "type" in event and not done:
                self._chunk(f"event: {event['type']}\ndata: {data}\n\n".encode())
            else:
                self._chunk(f"data: {data}\n\n".encode())
        if done:
            self._chunk(b"data: [DONE]\n\n")
        self._end_stream()

    # -- admin --------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, raw: bytes) -> None:
        em = self.emulator
        try:
            if path == "/_aigw/journal" and method == "GET":
                self._send_json(200, {"entries": [e.to_dict() for e in em.journal]})
            elif path == "/_aigw/journal" and method == "DELETE":
                em.clear_journal()
                self._send_json(200, {"entries": []})
            elif path == "/_aigw/deployments" and method == "GET":
                self._send_json(
                    200, {"deployments": [d.to_dict() for d in em.deployments.values()]}
                )
            elif path == "/_aigw/deployments" and method == "PUT":
                body = self._json(raw)
                em.set_deployments([Deployment.from_dict(d) for d in body.get("deployments", [])])
                self._send_json(
                    200, {"deployments": [d.to_dict() for d in em.deployments.values()]}
                )
            elif path == "/_aigw/api-key" and method == "PUT":
                key = self._json(raw).get("api_key")
                em.set_api_key(key if isinstance(key, str) else None)
                self._send_json(200, {"ok": True})
            else:
                self._send_json(404, {"error": {"code": "404", "message": "Resource not found"}})
        except (KeyError, TypeError, ValueError) as exc:
            self._send_json(400, {"error": {"code": "BadRequest", "message": str(exc)}})
        except _Reply as reply:
            self._send_json(reply.status, reply.body)


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
