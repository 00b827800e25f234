"""The smoke test: prove a live gateway works, and that it refuses callers without the key.

The scaffold's failure mode was a proxy serving with no authentication (config or gateway key
missing). So the first thing proven after liveliness is that a call without a key is refused.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from aigw.config.model import EnvConfig
from aigw.config.upstreams import ModelConfig, ModelKind
from aigw.gateway import surface
from aigw.gateway.checks import Check, Timer
from aigw.gateway.smoke_upstreams import upstream_checks
from aigw.gateway.upstream_wait import wait_for_identity
from aigw.gateway.url import LIVENESS_PATH

__all__ = ["Check", "run_smoke", "surface", "verify_for", "wait_alive"]

WRONG_KEY = "sk-aigw-smoke-wrong-key-0000000000"  # deliberately invalid


def verify_for(target: Any) -> Any:
    """TLS verification for the gateway: the local cloud's CA, else the system's."""
    ca = getattr(target, "ca_file", None)
    return ssl.create_default_context(cafile=str(ca)) if ca else True


def wait_alive(
    client: httpx.Client, *, timeout: float, on_wait: Callable[[str], None] | None
) -> Check:
    """GET /health/liveliness until 200; min replicas 0 means a cold start of tens of seconds."""
    deadline = time.monotonic() + timeout
    start = time.perf_counter()
    last = ""
    told = False
    while True:
        try:
            r = client.get(LIVENESS_PATH, timeout=10)
            if r.status_code == 200:
                return Check("liveliness", True, (time.perf_counter() - start) * 1000)
            last = f"HTTP {r.status_code}"
        except httpx.HTTPError as e:
            last = type(e).__name__
        if time.monotonic() > deadline:
            return Check(
                "liveliness",
                False,
                (time.perf_counter() - start) * 1000,
                f"no answer after {timeout:.0f}s ({last})",
            )
        if on_wait and not told:
            on_wait(f"waiting for the gateway to answer (cold start can take ~30 s): {last}")
            told = True
        time.sleep(1.0)


def gateway_health(url: str, verify: Any, timeout: float = 5.0) -> dict[str, Any]:
    """One status row: does the gateway answer /health/liveliness (no key, no upstream call)?"""
    try:
        with httpx.Client(base_url=url, verify=verify, timeout=timeout, trust_env=False) as c:
            r = c.get(LIVENESS_PATH)
        ok, state = r.status_code == 200, f"answers {LIVENESS_PATH}: HTTP {r.status_code}"
    except httpx.HTTPError as e:
        ok, state = False, f"no answer ({type(e).__name__}; scaled to zero or starting?)"
    return {"kind": "gateway", "name": url, "ok": ok, "state": state}


def _auth_checks(client: httpx.Client, key: str | None) -> list[Check]:
    checks = []
    with Timer() as t:
        r = client.get("/v1/models")
    if r.status_code == 200:
        checks.append(
            Check(
                "no key is refused",
                False,
                t.ms,
                "GATEWAY ANSWERS WITHOUT A KEY: authentication is off (LiteLLM config or guard "
                "missing: check the config volume's config.yaml and aigw_guard.py)",
            )
        )
    else:
        checks.append(
            Check("no key is refused", r.status_code == 401, t.ms, f"HTTP {r.status_code}")
        )
    wrong = WRONG_KEY if key != WRONG_KEY else WRONG_KEY + "x"
    with Timer() as t:
        r = client.get("/v1/models", headers={"Authorization": f"Bearer {wrong}"})
    detail = f"HTTP {r.status_code}"
    if r.status_code == 400:
        # LiteLLM alone answers 400 'No connected db.'; aigw's guard answers 401.
        detail += " (not 401: is aigw's guard loaded? check general_settings.custom_auth)"
    checks.append(Check("wrong key is refused", r.status_code == 401, t.ms, detail))
    return checks


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> tuple[httpx.Response, float]:
    with Timer() as t:
        r = client.post(path, json=body, timeout=120)
    return r, t.ms


def _error_text(r: httpx.Response) -> str:
    try:
        err = r.json().get("error")
        msg = err.get("message") if isinstance(err, dict) else err
    except (ValueError, AttributeError):
        msg = r.text
    return f"HTTP {r.status_code}: {' '.join(str(msg).split())[:200]}"


def _output_text(body: dict[str, Any]) -> str:
    parts = []
    for item in body.get("output") or []:
        if item.get("type") == "message":
            parts += [
                c.get("text", "")
                for c in item.get("content") or []
                if c.get("type") == "output_text"
            ]
    return "".join(parts)


def _sse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                try:
                    yield json.loads(data)
                except ValueError:
                    continue


TOOL = {
    "type": "function",
    "name": "get_repo_file",
    "description": "Read a file of the user's repository.",
    "parameters": {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    },
}


def _responses_checks(client: httpx.Client, alias: str) -> list[Check]:
    checks = []
    r, ms = _post(client, "/v1/responses", {"model": alias, "input": "Reply with the word ready."})
    if r.status_code == 200 and r.json().get("status") == "completed" and _output_text(r.json()):
        checks.append(Check(f"responses {alias}", True, ms, _output_text(r.json())[:40]))
    else:
        checks.append(Check(f"responses {alias}", False, ms, _error_text(r)))
    with Timer() as t:
        completed, deltas, status = False, 0, 0
        ids: set[str] = set()
        with client.stream(
            "POST",
            "/v1/responses",
            json={"model": alias, "input": "Count to three.", "stream": True},
            timeout=120,
        ) as s:
            status = s.status_code
            if status == 200:
                for ev in _sse_events(s.iter_lines()):
                    deltas += ev.get("type") == "response.output_text.delta"
                    completed = completed or ev.get("type") == "response.completed"
                    if isinstance(ev.get("response"), dict):
                        ids.add(str(ev["response"].get("id")))
    # The OpenAI SDK's `responses.stream()` helper raises "Lifecycle response identity changed"
    # unless response.created, .in_progress and .completed carry one id (issue 12, item 3).
    detail = f"{deltas} deltas, completed={completed}, {len(ids)} response id(s)"
    checks.append(
        Check(
            f"responses {alias} streamed",
            completed and deltas > 0 and len(ids) == 1,
            t.ms,
            detail if status == 200 else f"HTTP {status}",
        )
    )
    # Two turns with a tool call, sent the way Codex sends them (issue 24): store false,
    # encrypted reasoning asked for, and the second turn replaying every item of the first with
    # its id (reasoning, function_call) plus ids of its own (openai/codex: it always assigns
    # item ids, #34645; behind a gateway it believes it talks to OpenAI and sends store false,
    # #35739). Azure refuses those ids with store false unless the gateway takes them off
    # (gateway/files/aigw_responses.py): a gateway that would break Codex fails here.
    stateless = {"store": False, "include": ["reasoning.encrypted_content"]}
    asked = "Open README.md with the tool."
    first = {"model": alias, "input": asked, "tools": [TOOL], **stateless}
    r, ms1 = _post(client, "/v1/responses", first)
    call = None
    output: list[dict[str, Any]] = []
    if r.status_code == 200:
        output = [o for o in r.json().get("output") or [] if isinstance(o, dict)]
        call = next((o for o in output if o.get("type") == "function_call"), None)
    if call is None:
        checks.append(
            Check(
                f"responses {alias} tool call",
                False,
                ms1,
                _error_text(r) if r.status_code != 200 else "no function_call in the output",
            )
        )
        return checks
    second = {
        "model": alias,
        "tools": [TOOL],
        **stateless,
        "input": [
            {"type": "message", "role": "user", "id": "msg_aigw_smoke_1", "content": asked},
            *output,
            {
                "type": "function_call_output",
                "id": "fco_aigw_smoke_1",
                "call_id": call["call_id"],
                "output": "# README\nhello",
            },
        ],
    }
    r, ms2 = _post(client, "/v1/responses", second)
    ok = (
        r.status_code == 200
        and r.json().get("status") == "completed"
        and bool(_output_text(r.json()))
    )
    checks.append(
        Check(
            f"responses {alias} tool call",
            ok,
            ms1 + ms2,
            f"called {call['name']}" if ok else _error_text(r),
        )
    )
    return checks


# Each model call is billable (a responses model takes 4 calls): the smoke test calls at most
# this many models, one of each kind first. `aigw smoke-test --all-models` calls every one.
DEFAULT_MAX_MODELS = 5


def models_to_call(models: Sequence[ModelConfig], limit: int | None) -> list[ModelConfig]:
    """Up to `limit` models (None: all): the first of each kind, then the rest in YAML order."""
    if limit is None or len(models) <= limit:
        return list(models)
    first: dict[ModelKind, ModelConfig] = {}
    for m in models:
        first.setdefault(m.kind, m)
    chosen = list(first.values())[:limit]
    chosen += [m for m in models if m not in chosen][: limit - len(chosen)]
    return [m for m in models if m in chosen]


def run_smoke(
    url: str,
    key: str | None,
    config: EnvConfig,
    *,
    verify: Any = True,
    timeout: float = 180.0,
    on_wait: Callable[[str], None] | None = None,
    max_models: int | None = DEFAULT_MAX_MODELS,
    role_timeout: float = 600.0,
) -> list[Check]:
    """Every check against the gateway at `url`; never raises for a failed check, nor when the
    gateway stops answering half-way (a replica restarting): that is a failed check too. Every
    model must be listed; at most `max_models` are called (None: all)."""
    checks: list[Check] = []
    try:
        _run_checks(
            url,
            key,
            config,
            checks,
            verify=verify,
            timeout=timeout,
            on_wait=on_wait,
            max_models=max_models,
            role_timeout=role_timeout,
        )
    except httpx.TransportError as e:
        checks.append(
            Check("gateway kept answering", False, 0, f"it stopped answering: {type(e).__name__}")
        )
    return checks


def _run_checks(
    url: str,
    key: str | None,
    config: EnvConfig,
    checks: list[Check],
    *,
    verify: Any,
    timeout: float,
    on_wait: Callable[[str], None] | None,
    max_models: int | None,
    role_timeout: float,
) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=url, verify=verify, timeout=30, trust_env=False) as anon:
        alive = wait_alive(anon, timeout=timeout, on_wait=on_wait)
        checks.append(alive)
        if not alive.ok:
            return
        checks += _auth_checks(anon, key)
    if not key:
        checks.append(
            Check("gateway key", False, 0, "no gateway key: set its environment variable")
        )
        return
    with httpx.Client(
        base_url=url, verify=verify, timeout=60, headers=headers, trust_env=False
    ) as client:
        with Timer() as t:
            r = client.get("/v1/models")
        listed = {m.get("id") for m in r.json().get("data", [])} if r.status_code == 200 else set()
        missing = sorted({m.alias for m in config.models} - listed)
        checks.append(
            Check(
                "models listed",
                r.status_code == 200 and not missing,
                t.ms,
                f"missing: {', '.join(missing)}"
                if missing
                else f"{len(listed)} models"
                if r.status_code == 200
                else _error_text(r),
            )
        )
        with httpx.Client(base_url=url, verify=verify, timeout=30, trust_env=False) as anon:
            checks.append(surface.surface_check(anon, client))
        waited = wait_for_identity(client, config, timeout=role_timeout, on_wait=on_wait)
        if waited is not None:
            checks.append(waited)
        called = models_to_call(config.models, max_models)
        if len(called) < len(config.models):
            checks.append(
                Check(
                    "models called",
                    True,
                    0,
                    f"{len(called)} of {len(config.models)} called (one of each kind first); "
                    "aigw smoke-test --all-models calls every one",
                )
            )
        for m in called:
            if m.kind is ModelKind.embeddings:
                r, ms = _post(
                    client, "/v1/embeddings", {"model": m.alias, "input": "aigw smoke test"}
                )
                dims = len(r.json()["data"][0]["embedding"]) if r.status_code == 200 else 0
                checks.append(
                    Check(
                        f"embeddings {m.alias}",
                        dims == m.dimensions,
                        ms,
                        f"{dims} dimensions" if r.status_code == 200 else _error_text(r),
                    )
                )
            elif m.kind is ModelKind.responses:
                checks += _responses_checks(client, m.alias)
            else:
                body = {"model": m.alias, "messages": [{"role": "user", "content": "Say ready."}]}
                r, ms = _post(client, "/v1/chat/completions", body)
                ok = r.status_code == 200 and bool(r.json()["choices"][0]["message"].get("content"))
                checks.append(Check(f"chat {m.alias}", ok, ms, "" if ok else _error_text(r)))
        checks += upstream_checks(client, config)  # each upstream of each model, separately
