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

Responses, as Azure answers them (aoai_responses.py, aoai_store.py; sources cited there):
- a reasoning model's deployment (kind "responses", the codex models) answers a `reasoning`
  item first (`rs_…`; `summary` only with reasoning.summary; `encrypted_content` only with
  "reasoning.encrypted_content" in `include`, and streamed only in response.completed), and
  usage.output_tokens_details.reasoning_tokens > 0;
- `store` defaults to true: a stored response's items resolve by id and the response by
  `previous_response_id`, on this account only; `store: false` with an input item carrying a
  server-made id is 400 "Item with id '…' not found. Items are not persisted when `store` is
  set to false. …"; an unknown id with store true is 400 "Item with id '…' not found."; an
  unknown or unstored previous response is 400 previous_response_not_found;
- `encrypted_content` verifies only on the account (emulator) that sealed it: another's, or an
  edited one, is 400 invalid_encrypted_content.

Scripted tool calls (a test's stand-in for a model's decisions, both chat completions and the
Responses API): `PUT /_aigw/script` `{"tool_calls": [{"name": "<tool>", "arguments": {…}},
…]}`, `GET` reads it, `DELETE` clears it (each answers the script, `{"tool_calls": null}` when
none). Stateless and deterministic: with k tool results already in the conversation (Responses:
`function_call_output` items in the input and in the stored responses reachable through
`previous_response_id`; chat: `role: "tool"` messages), k < N answers a call of script[k] (a
`function_call` item / a `tool_calls` message, a fresh call id, the script's arguments as JSON),
k >= N a text quoting the last tool result; script[k] naming a tool the request does not offer
answers the text "script: tool <name> not offered". No script: the default answers above. The
script is this emulator's (one account): in a cloud, find the account's URL with
`GET /_aigw/accounts/{name}` first.

Admin endpoints under `/_aigw/` (no key, 127.0.0.1 only) let another process configure it:
`GET/DELETE /_aigw/journal`, `GET/PUT /_aigw/deployments` (a test fixing them by hand), `GET
/_aigw/account`, `GET/PUT/DELETE /_aigw/faults` (throttle or fail for a while: faults.py),
`GET/PUT/DELETE /_aigw/script` (above);
in a cloud, `GET/PUT /_aigw/world` (its accounts: openai/world.py, arm/openai_pool.py) and
`GET /_aigw/accounts/{name}` (the URL of the emulator serving that account).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .account import AccountSettings, is_token, local_auth_disabled
from .aoai_bodies import (
    Script,
    _bad_request,
    _chat_chunks,
    _chat_completion,
    _deployment_not_found,
    _embeddings,
    _not_found,
    _not_supported,
    _Reply,
    embedding_for,
    parse_script,
)
from .aoai_responses import ResponsesContext, _response, _response_events
from .aoai_store import ResponseStore, Sealer
from .deployments import DEFAULT_DEPLOYMENTS, Deployment
from .faults import Faults
from .faults import context as fault_context
from .faults import parse as parse_fault
from .faults import reply as fault_reply

__all__ = ["AzureOpenAIEmulator", "Deployment", "JournalEntry", "embedding_for"]


DATED_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
V1_API_VERSIONS = frozenset({"preview", "latest", "v1"})
# The Responses API exists on dated api-versions from 2025-03-01-preview on.
FIRST_RESPONSES_API_VERSION = "2025-03-01-preview"

MSG_401 = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
    "a valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)


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
        # The Microsoft.CognitiveServices account it stands for (aoai_account, routes_cognitive)
        self.account = AccountSettings()
        # Set by the cloud it belongs to: checks an Entra ID token (raises _Reply), aoai_account.
        self.token_check: Callable[[str, str], None] | None = None
        # Throttle or fail for a while (admin API; faults.py).
        self.faults = Faults()
        # Set by the cloud it belongs to: the world of accounts it seeds and finds (arm/
        # openai_pool.OpenAIWorld); None for an emulator standing alone.
        self.world: Any = None
        # This account's stored Responses (store: true) and the key its reasoning items'
        # encrypted_content is sealed with: its own, as on Azure (aoai_store.py).
        self.responses_store = ResponseStore()
        self.sealer = Sealer()
        # The scripted tool calls (admin API /_aigw/script); None: the default answers.
        self._script: Script | None = None

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

    def set_script(self, script: Script | None) -> None:
        with self._lock:
            self._script = script

    @property
    def script(self) -> Script | None:
        with self._lock:
            return self._script

    def responses_context(self) -> ResponsesContext:
        return ResponsesContext(self.responses_store, self.sealer, self.account.name, self.script)

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

    def _check_key(self, headers: Any, path: str = "") -> str | None:
        """Return how the key came ("api-key"/"bearer"/"token"); raise 401 if missing or wrong,
        403 for a key when the account has disableLocalAuth (aoai_account.local_auth_disabled)."""
        given: str | None = headers.get("api-key")
        how: str | None = "api-key" if given is not None else None
        if given is None:
            auth = headers.get("Authorization") or ""
            if auth[:7].lower() == "bearer ":
                given, how = auth[7:].strip(), "bearer"
        if how == "bearer" and self.token_check is not None and is_token(str(given)):
            self.token_check(str(given), path)  # an Entra ID token: RBAC on the account
            return "token"
        if self.account.disable_local_auth:
            raise local_auth_disabled()
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
            self._entry["auth"] = self.emulator._check_key(self.headers, path)
            fault = self.emulator.faults.take()
            if fault is not None:
                operation = next((o for o in ("embeddings", "responses") if o in path), "chat")
                self._entry["operation"] = operation
                em = self.emulator
                where = fault_context(path, body, em.deployments, em.account.location)
                raise fault_reply(fault, operation, query.get("api-version"), **where)
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
            response = _response(deployment, body, self.emulator.responses_context())
            if body.get("stream"):
                self._stream_events(_response_events(response))
                return
            self._send_json(200, response)
            return
        completion = _chat_completion(deployment, body, self.emulator.script)
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
                # a test fixing this account's deployments by hand (aigw never does: the
                # cloud's world is seeded from a world file, openai/world.py)
                body = self._json(raw)
                em.set_deployments([Deployment.from_dict(d) for d in body.get("deployments", [])])
                self._send_json(
                    200, {"deployments": [d.to_dict() for d in em.deployments.values()]}
                )
            elif path == "/_aigw/account" and method == "GET":
                self._send_json(200, em.account.to_dict())
            elif path == "/_aigw/faults" and method in ("GET", "PUT", "DELETE"):
                if method != "GET":
                    em.faults.set(parse_fault(self._json(raw)) if method == "PUT" else None)
                current = em.faults.current()
                self._send_json(200, {"fault": current.to_dict() if current else None})
            elif path == "/_aigw/script" and method in ("GET", "PUT", "DELETE"):
                if method != "GET":
                    em.set_script(parse_script(self._json(raw)) if method == "PUT" else None)
                script = em.script
                self._send_json(200, script.to_dict() if script else {"tool_calls": None})
            elif path == "/_aigw/world" and method in ("GET", "PUT") and em.world is not None:
                if method == "PUT":
                    from .world import Account

                    accounts = self._json(raw).get("openai_accounts", [])
                    em.world.seed([Account.from_dict(a) for a in accounts])
                self._send_json(200, {"openai_accounts": em.world.describe()})
            elif path.startswith("/_aigw/accounts/") and method == "GET":
                name = unquote(path.rsplit("/", 1)[-1]).lower()
                if em.world is not None:
                    url = em.world.url_of(name)
                else:  # standing alone: itself, under its own account's name
                    url = em.url if em.account.name.lower() == name else None
                if url is None:
                    self._send_json(404, {"error": {"code": "AccountNotFound", "message": name}})
                else:
                    self._send_json(200, {"name": name, "url": url})
            else:
                self._send_json(404, {"error": {"code": "404", "message": "Resource not found"}})
        except (KeyError, TypeError, ValueError) as exc:
            self._send_json(400, {"error": {"code": "BadRequest", "message": str(exc)}})
        except _Reply as reply:
            self._send_json(reply.status, reply.body)
