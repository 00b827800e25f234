"""aigw's guard (src/aigw/gateway/files/aigw_guard.py) on plain data: the allow-list, each
limit, what it lets through, and the gate as an ASGI app in front of a stand-in for LiteLLM
(which records what reached it). The same module runs inside the real LiteLLM in
tests/gateway/test_security_probes.py and test_gateway_exfiltration.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aigw.gateway.files import aigw_guard as guard
from aigw.gateway.files.aigw_guard import check_request, clean_error, path_allowed

REPO = Path(__file__).resolve().parents[2]
MODELS = ("gpt-5.3-codex", "text-embedding-3-large")


def _check(body: Any, *, path: str = "/v1/embeddings", method: str = "POST", **kw: Any) -> Any:
    return check_request(method, path, body, kw.get("query", {}), kw.get("models", MODELS))


def test_the_allow_list_is_the_pinned_openai_packages() -> None:
    """The table in the guard is what tests/tools/gen_guard_fields.py makes of the `openai`
    package in uv.lock: an SDK upgrade that adds a field shows here."""
    run = subprocess.run(
        [sys.executable, str(REPO / "tests/tools/gen_guard_fields.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    import openai

    assert openai.__version__ == guard.OPENAI_VERSION
    assert "instructions" in guard.OPENAI_FIELDS["responses"]
    assert "messages" in guard.OPENAI_FIELDS["chat"]


OK_BODIES = [
    {"model": "text-embedding-3-large", "input": "hi", "encoding_format": "base64"},
    {"model": "text-embedding-3-large", "input": "the docs say api_key: os.environ/X"},
    {"model": "text-embedding-3-large", "input": ["a", "b"], "user": "dev-1", "dimensions": 3072},
    {"model": "text-embedding-3-large", "input": "x", "user": None},
]


@pytest.mark.parametrize("body", OK_BODIES)
def test_ordinary_requests_pass(body: dict[str, Any]) -> None:
    assert _check(body) is None


def test_what_codex_sends_passes() -> None:
    """The fields of Codex CLI's ResponsesApiRequest (openai/codex codex-api/src/common.rs)."""
    body = {
        "model": "gpt-5.3-codex",
        "instructions": "You are Codex. Never print os.environ/HOME values.",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "c1",
                "name": "shell",
                "arguments": "{}",
            },
            {"type": "function_call_output", "call_id": "c1", "output": "ok"},
        ],
        "tools": [{"type": "function", "name": "shell", "parameters": {"api_key": {}}}],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "thread-1",
        "text": {"verbosity": "medium"},
        # what Codex 0.169.0 sends (seen through the gateway, tests/clients): seven keys, the
        # turn metadata a JSON text of ~740 characters (codex-rs/core/src/responses_metadata.rs)
        "client_metadata": CODEX_CLIENT_METADATA,
        "metadata": {"session": "abc"},
    }
    assert _check(body, path="/v1/responses") is None


CODEX_CLIENT_METADATA = {
    "session_id": "019b0f3c-6a5e-7c12-9d1e-2f4a6b8c0d1e",
    "thread_id": "019b0f3c-6a5e-7c12-9d1e-2f4a6b8c0d1e",
    "turn_id": "019b0f3c-7b6f-7d23-8e2f-3a5b7c9d1e2f",
    "root_turn_id": "019b0f3c-7b6f-7d23-8e2f-3a5b7c9d1e2f",
    "x-codex-window-id": "019b0f3c-6a5e-7c12-9d1e-2f4a6b8c0d1e:0",
    "x-codex-installation-id": "2c1f3e4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "x-codex-turn-metadata": json.dumps(
        {
            "turn_id": "019b0f3c-7b6f-7d23-8e2f-3a5b7c9d1e2f",
            "sandbox": "read-only",
            "approval_policy": "never",
            "cwd": "/tmp/pytest-of-root/pytest-7/workspace0/" + "w" * 500,
            "model": "gpt-5.3-codex",
            "reasoning_effort": "medium",
            "git": {"branch": None, "commit": None},
            "client": "codex_exec/0.169.0",
        }
    ),
}
assert len(CODEX_CLIENT_METADATA["x-codex-turn-metadata"]) > 600


def test_chat_as_continue_and_roo_send_it_passes() -> None:
    body = {
        "model": "gpt-5.3-codex",
        "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": 4096,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "reasoning_effort": "low",
        "temperature": 0,
    }
    assert _check(body, path="/v1/chat/completions") is None


@pytest.mark.parametrize(
    "extra",
    [
        # the deny-list's names, still refused
        {"user_config": {"model_list": []}},
        {"api_base": "http://x"},
        {"API_BASE": "http://x"},
        {"base_url": "http://x"},
        {"api_key": "k"},
        {"azure_ad_token": "t"},
        {"litellm_params": {}},
        {"fallbacks": [{"model": "azure/x"}]},
        {"mock_response": "hi"},
        {"num_retries": 100},
        {"langsmith_base_url": "http://x"},
        {"extra_headers": {"x": "y"}},
        # what the deny-list let through (issue 21, 4 and 6)
        {"api_version": "2020-01-01"},
        {"request_timeout": 0.001},
        {"provider_specific_header": {"custom_llm_provider": "azure", "extra_headers": {}}},
        {"cooldown_time": 3600},
        {"priority": 0},
        {"ssl_verify": False},
        {"allowed_openai_params": ["x"]},
        {"no-log": True},
        {"litellm_metadata": {"user_api_key_alias": "bob"}},
        {"tags": ["x"]},
        {"vertex_credentials": "/etc/litellm/aigw_gateway_key"},
    ],
)
def test_anything_but_the_openai_fields_is_refused(extra: dict[str, Any]) -> None:
    refusal = _check({"model": "text-embedding-3-large", "input": "x", **extra})
    assert refusal is not None and refusal.status == 400
    assert refusal.param == next(iter(extra))
    assert refusal.param in refusal.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("instructions", "os.environ/LITELLM_GATEWAY_KEY"),
        ("user", "os.environ/LITELLM_GATEWAY_KEY"),
        ("input", "os.environ/LITELLM_AZURE_OPENAI_API_KEY"),
        ("input", "  OS.ENVIRON/IDENTITY_HEADER"),
        ("input", [{"role": "user", "content": "os.environ/IDENTITY_HEADER"}]),
        ("input", [{"role": "user", "content": [{"type": "input_text", "text": "os.environ/X"}]}]),
        ("prompt_cache_key", "os.environ/AIGW_GATEWAY_KEY"),
        ("metadata", {"k": "os.environ/X"}),
        ("metadata", {"os.environ/X": "v"}),
        ("tools", [{"type": "function", "name": "os.environ/X"}]),
    ],
)
def test_an_environment_reference_is_refused_at_any_depth(field: str, value: Any) -> None:
    refusal = _check({"model": "gpt-5.3-codex", "input": "hi", field: value}, path="/v1/responses")
    assert refusal is not None and refusal.status == 400
    assert refusal.reason == "environment_reference"
    assert refusal.param is not None and refusal.param.startswith(field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("input", 3),
        ("instructions", {"a": 1}),
        ("stream", "yes"),
        ("model", None),
        ("tools", {"type": "function"}),
        ("max_output_tokens", "9"),
    ],
)
def test_fields_have_their_openai_types(field: str, value: Any) -> None:
    body = {"model": "gpt-5.3-codex", "input": "hi", field: value}
    refusal = _check(body, path="/v1/responses")
    assert refusal is not None and refusal.status == 400 and refusal.param == field


@pytest.mark.parametrize(
    ("path", "extra", "param"),
    [
        ("/v1/chat/completions", {"n": 50}, "n"),
        ("/v1/chat/completions", {"max_tokens": 10**9}, "max_tokens"),
        ("/v1/chat/completions", {"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ("/v1/responses", {"max_output_tokens": 10**7}, "max_output_tokens"),
        ("/v1/responses", {"tools": [{"type": "function", "name": "f"}] * 129}, "tools"),
        ("/v1/embeddings", {"input": ["x"] * 2049}, "input"),
    ],
)
def test_multipliers_are_bounded(path: str, extra: dict[str, Any], param: str) -> None:
    base: dict[str, Any] = {"model": "gpt-5.3-codex"}
    base.update(
        {"messages": [{"role": "user", "content": "x"}]} if "chat" in path else {"input": "x"}
    )
    if "embeddings" in path:
        base["model"] = "text-embedding-3-large"
    refusal = _check({**base, **extra}, path=path)
    assert refusal is not None and refusal.param == param and refusal.reason == "limit"


@pytest.mark.parametrize(
    "metadata",
    [{f"k{i}": "v" for i in range(17)}, {"k" * 65: "v"}, {"k": "v" * 513}, {"k": 1}, "x"],
)
def test_metadata_is_openais_shape(metadata: Any) -> None:
    refusal = _check({"model": "text-embedding-3-large", "input": "x", "metadata": metadata})
    assert refusal is None or refusal.param == "metadata"
    body = {"model": "gpt-5.3-codex", "input": "x", "metadata": metadata}
    refusal = _check(body, path="/v1/responses")
    assert refusal is not None and refusal.param == "metadata"


def test_client_data_never_reaches_litellm() -> None:
    body = {"model": "m", "input": "x", "metadata": {"user_api_key_alias": "bob"}}
    assert guard.for_litellm(body) == {"model": "m", "input": "x"}
    plain = {"model": "m", "input": "x"}
    assert guard.for_litellm(plain) is plain


def test_no_query_parameter_is_accepted() -> None:
    body = {"model": "text-embedding-3-large", "input": "x"}
    for query in ({"model": "gpt-5.3-codex"}, {"api-version": "2020-01-01"}, {"api_base": "x"}):
        refusal = _check(body, query=query)
        assert refusal is not None and refusal.param == next(iter(query))
    refusal = _check(None, method="GET", path="/v1/models", query={"model": "x"})
    assert refusal is not None and refusal.status == 400


@pytest.mark.parametrize(
    "model",
    [
        "azure/x",
        "openai/gpt-4o",
        "gpt-5.3-codex,text-embedding-3-large",
        "gpt-5.3-codex@primary",
        None,
        3,
        "x" * 500,
        "[red]x\x1b[2J",
    ],
)
def test_only_the_keys_aliases(model: Any) -> None:
    refusal = _check({"model": model, "input": "x"})
    assert refusal is not None and refusal.param == "model"
    assert len(refusal.message) < 300
    assert "\x1b" not in refusal.message


def test_hidden_groups_only_for_the_gateway_key() -> None:
    names = ["gpt-5.3-codex", "gpt-5.3-codex@primary", "text-embedding-3-large"]
    admin = guard.Caller(guard.GATEWAY_KEY_NAME, "d", None)
    dev = guard.Caller("alice", "d", guard.DeveloperKey("alice", None, None))
    only = guard.Caller("bob", "d", guard.DeveloperKey("bob", None, frozenset({"gpt-5.3-codex"})))
    assert guard.models_for(admin, names) == names
    assert guard.models_for(dev, names) == ["gpt-5.3-codex", "text-embedding-3-large"]
    assert guard.models_for(only, names) == ["gpt-5.3-codex"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/model/new"),
        ("GET", "/health"),
        ("POST", "/v1/messages"),
        ("POST", "/openai/deployments/x/embeddings"),
        ("GET", "/v1/responses/resp_1"),
        ("GET", "/v1/embeddings"),
        ("POST", "/v1/models"),
    ],
)
def test_other_routes_are_404(method: str, path: str) -> None:
    refusal = _check({}, method=method, path=path)
    assert refusal is not None and refusal.status == 404
    assert not path_allowed(method, path)


def test_probes_and_routes_allowed_by_the_gate() -> None:
    for method, path in (
        ("GET", "/health/liveliness"),
        ("HEAD", "/health/readiness"),
        ("GET", "/v1/models"),
        ("POST", "/responses"),
    ):
        assert path_allowed(method, path), (method, path)
    assert not path_allowed("POST", "/health/readiness")


def test_error_bodies_leave_as_one_line_without_traceback_or_url() -> None:
    raw = json.dumps(
        {
            "error": {
                "message": "litellm.BadRequestError: AzureException - call to "
                "https://aoai-x.openai.azure.com/openai/responses failed\nTraceback (most recent "
                'call last):\n  File "/usr/lib/x.py", line 1\nValueError',
                "type": None,
                "param": None,
                "code": "400",
            }
        }
    ).encode()
    cleaned = json.loads(clean_error(400, raw))["error"]
    assert "Traceback" not in cleaned["message"] and "openai.azure.com" not in cleaned["message"]
    assert "\n" not in cleaned["message"] and cleaned["code"] == "400"
    assert json.loads(clean_error(500, b"<html>oops"))["error"]["message"] == "the request failed"


# -- the gate as an ASGI app ---------------------------------------------------------------------


class StandIn:
    """Stands for LiteLLM's app: records the scope and body it got, answers as told."""

    def __init__(self, status: int = 200, headers: Any = (), body: bytes = b"{}") -> None:
        self.seen: list[tuple[dict[str, Any], bytes]] = []
        self.status, self.headers, self.body = status, list(headers), body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        self.seen.append((scope, message.get("body", b"")))
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


GATEWAY_KEY = "sk-gateway-key-for-the-gate-test-0123456789"
ALICE = "sk-aigw-alice-key-for-the-gate-test-0123456789"


def _gate(tmp_path: Path, inner: Any) -> guard.Gate:
    from datetime import UTC, datetime

    from aigw.gateway import developer_keys as fmt

    (tmp_path / "gw").write_text(GATEWAY_KEY)
    now = datetime.now(UTC)
    (tmp_path / "keys.json").write_text(
        fmt.dump({"alice": fmt.new_record("alice", ALICE, now, None, ("gpt-5.3-codex",))})
    )
    return guard.Gate(
        inner,
        keys=guard.DeveloperKeysFile(str(tmp_path / "keys.json")),
        gateway_key=guard.GatewayKeyFile(str(tmp_path / "gw")),
        models=lambda: ["gpt-5.3-codex", "gpt-5.3-codex@primary", "text-embedding-3-large"],
    )


def _call(
    gate: Any,
    method: str,
    path: str,
    *,
    key: str | None = None,
    body: bytes = b"",
    headers: Any = (),
    query: bytes = b"",
    chunks: list[Any] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    given = {n for n, _ in headers}
    default = [] if b"content-type" in given else [(b"content-type", b"application/json")]
    hdrs = [*headers, *default]
    if key:
        hdrs.append((b"authorization", f"Bearer {key}".encode()))
    if chunks is None:
        hdrs.append((b"content-length", str(len(body)).encode()))
    parts = [body] if chunks is None else chunks  # a trailing None: the client stalls
    scope = {"type": "http", "method": method, "path": path, "headers": hdrs, "query_string": query}
    out: dict[str, Any] = {"headers": {}, "body": b""}

    async def receive() -> Any:
        if parts and parts[0] is not None:
            chunk = parts.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}
        await asyncio.sleep(3600)

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {n.decode(): v.decode() for n, v in message.get("headers", [])}
        else:
            out["body"] += message.get("body", b"")

    asyncio.run(gate(scope, receive, send))
    return out["status"], out["headers"], out["body"]


def test_the_gate_authenticates_before_reading_the_body(tmp_path: Path) -> None:
    inner = StandIn()
    gate = _gate(tmp_path, inner)
    huge = [b"x" * 1024] * 3  # never read: no key
    status, _, body = _call(gate, "POST", "/v1/responses", chunks=huge)
    assert status == 401 and b"invalid gateway key" in body
    assert len(huge) == 3 and inner.seen == []
    status, _, _ = _call(gate, "POST", "/v1/responses", key="sk-wrong", body=b"{}")
    assert status == 401 and inner.seen == []


def test_the_gate_bounds_the_body(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inner = StandIn()
    gate = _gate(tmp_path, inner)
    monkeypatch.setattr(guard, "MAX_BODY_BYTES", 1000)
    declared = [(b"content-length", b"100000000")]
    status, _, _ = _call(gate, "POST", "/v1/responses", key=ALICE, headers=declared, chunks=[b""])
    assert status == 413
    chunked = [b"x" * 600, b"x" * 600, b"x" * 600]
    status, _, _ = _call(gate, "POST", "/v1/responses", key=ALICE, chunks=chunked)
    assert status == 413 and len(chunked) == 1  # stopped reading at the limit
    monkeypatch.setattr(guard, "BODY_IDLE_SECONDS", 0.2)
    stalled: list[Any] = [b'{"model": "gpt-5.3-codex", ', None]
    status, _, _ = _call(gate, "POST", "/v1/responses", key=ALICE, chunks=stalled)
    assert status == 408 and inner.seen == []


def test_the_gate_refuses_forms_and_compressed_bodies(tmp_path: Path) -> None:
    gate = _gate(tmp_path, StandIn())
    for header in (
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-encoding", b"gzip"),
    ):
        status, _, _ = _call(
            gate, "POST", "/v1/embeddings", key=ALICE, body=b"{}", headers=[header]
        )
        assert status == 415


def test_the_gate_passes_a_clean_request_and_cleans_what_comes_back(tmp_path: Path) -> None:
    inner = StandIn(
        headers=[
            (b"content-type", b"application/json"),
            (b"x-litellm-model-api-base", b"https://aoai.openai.azure.com"),
            (b"x-litellm-model-id", b"abc"),
            (b"llm_provider-x-ms-region", b"swedencentral"),
            (b"x-litellm-call-id", b"call-1"),
            (b"x-ratelimit-remaining-tokens", b"100"),
        ]
    )
    gate = _gate(tmp_path, inner)
    body = {
        "model": "gpt-5.3-codex",
        "input": "hi",
        "metadata": {"user_api_key_alias": "bob", "tags": "x"},
    }
    status, headers, _ = _call(
        gate,
        "POST",
        "/v1/responses",
        key=ALICE,
        body=json.dumps(body).encode(),
        headers=[(b"x-litellm-num-retries", b"99"), (b"x-litellm-tags", b"t")],
    )
    assert status == 200
    assert set(headers) == {"content-type", "x-litellm-call-id", "x-ratelimit-remaining-tokens"}
    scope, sent = inner.seen[0]
    assert json.loads(sent) == {"model": "gpt-5.3-codex", "input": "hi"}
    keys, parsed = scope["parsed_body"]
    assert parsed == {"model": "gpt-5.3-codex", "input": "hi"} and keys == ("model", "input")
    assert scope["aigw"].name == "alice"
    names = {n.decode() for n, _ in scope["headers"]}
    assert names == {"content-type", "content-length"}  # no authorization, no x-litellm-*


def test_the_gate_answers_models_per_key_and_the_keys_models(tmp_path: Path) -> None:
    inner = StandIn()
    gate = _gate(tmp_path, inner)
    status, _, body = _call(gate, "GET", "/v1/models", key=ALICE)
    assert status == 200 and [m["id"] for m in json.loads(body)["data"]] == ["gpt-5.3-codex"]
    status, _, body = _call(gate, "GET", "/v1/models", key=GATEWAY_KEY)
    listed = [m["id"] for m in json.loads(body)["data"]]
    assert listed == ["gpt-5.3-codex", "text-embedding-3-large"]  # no hidden group listed
    embed = json.dumps({"model": "text-embedding-3-large", "input": "x"}).encode()
    status, _, body = _call(gate, "POST", "/v1/embeddings", key=ALICE, body=embed)
    assert status == 403 and b"not allowed for this key" in body and inner.seen == []


def test_the_gate_cleans_error_bodies(tmp_path: Path) -> None:
    error = {
        "error": {
            "message": "boom at https://x.openai.azure.com\nTraceback (most recent call last):\n"
        }
    }
    inner = StandIn(
        status=400,
        headers=[(b"content-type", b"application/json")],
        body=json.dumps(error).encode(),
    )
    gate = _gate(tmp_path, inner)
    body = json.dumps({"model": "gpt-5.3-codex", "input": "x"}).encode()
    status, headers, out = _call(gate, "POST", "/v1/responses", key=GATEWAY_KEY, body=body)
    assert status == 400
    assert json.loads(out)["error"]["message"] == "boom at <url>"
    assert headers["content-length"] == str(len(out))


def test_a_refusal_is_one_short_line_naming_no_client_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gate = _gate(tmp_path, StandIn())
    body = json.dumps({"model": "[red]evil\x1b[2J", "input": "x", "no-log": True}).encode()
    _call(gate, "POST", "/v1/responses", key=ALICE, body=body)
    _call(gate, "POST", "/v1/responses", key="sk-wrong-[red]", body=body)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["key"] == "alice" and first["status"] == 400 and first["reason"] == "field"
    assert second["key"] is None and second["status"] == 401
    assert "red" not in "".join(lines) and "no-log" not in "".join(lines)


def test_deep_bodies_are_refused_not_crashed(tmp_path: Path) -> None:
    """Nested past the guard's depth (400), and past what Python's json parser can (400, not an
    exception escaping the gate as a 500 with a traceback)."""
    deep: Any = "x"
    for _ in range(100):
        deep = [deep]
    refusal = _check({"model": "text-embedding-3-large", "input": deep})
    assert refusal is not None and refusal.status == 400 and "nested" in refusal.message
    gate = _gate(tmp_path, StandIn())
    bomb = b'{"model": "gpt-5.3-codex", "input": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    status, _, body = _call(gate, "POST", "/v1/responses", key=ALICE, body=bomb)
    assert status == 400 and b"not valid JSON" in body


def test_client_metadata_has_its_own_finite_bounds() -> None:
    """Codex's own data (not OpenAI's Metadata): its turn metadata passes, a value past the
    body-sized bound and a non-string value are still refused."""
    base = {"model": "gpt-5.3-codex", "input": "hi"}
    ok = {**base, "client_metadata": CODEX_CLIENT_METADATA}
    assert _check(ok, path="/v1/responses") is None
    huge = {**base, "client_metadata": {"x": "y" * 16385}}
    refused = _check(huge, path="/v1/responses")
    assert refused is not None and refused.param == "client_metadata"
    typed = {**base, "client_metadata": {"x": 1}}
    assert _check(typed, path="/v1/responses") is not None
    # `metadata` keeps OpenAI's 512
    long_meta = {**base, "metadata": {"x": "y" * 513}}
    assert _check(long_meta, path="/v1/responses") is not None
