"""The smoke test's per-upstream checks (several upstreams per model, issue 16): every
(model, upstream) pair is called through the gateway on its hidden group `<alias>@<upstream>`
(gateway/routes.py), which has no fallback, so a dead secondary fails here, before it is
needed, in one line naming the upstream. Only the gateway key may call those groups (the
guard); the smoke test runs with it."""

from __future__ import annotations

from typing import Any

import httpx

from aigw.config.model import EnvConfig
from aigw.config.upstreams import ModelConfig, ModelKind
from aigw.gateway.checks import Check, Timer
from aigw.gateway.routes import pinned


def _call(client: httpx.Client, model: ModelConfig, group: str) -> httpx.Response:
    if model.kind is ModelKind.embeddings:
        return client.post("/v1/embeddings", json={"model": group, "input": "aigw smoke test"})
    if model.kind is ModelKind.responses:
        return client.post("/v1/responses", json={"model": group, "input": "Say ready."})
    body = {"model": group, "messages": [{"role": "user", "content": "Say ready."}]}
    return client.post("/v1/chat/completions", json=body)


def _why(r: httpx.Response) -> str:
    try:
        error: Any = r.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except ValueError:
        message = r.text
    text = " ".join(str(message or "").split())
    return f"HTTP {r.status_code}: {text[:200]}"


def upstream_checks(client: httpx.Client, config: EnvConfig) -> list[Check]:
    """One check per (model, upstream) of every model served by named upstreams."""
    checks = []
    for m in config.models:
        if not m.upstreams:
            continue
        for route in m.routes:
            group = pinned(m.alias, route.upstream)
            with Timer() as t:
                r = _call(client, m, group)
            ok = r.status_code == 200
            checks.append(
                Check(
                    f"upstream {route.upstream}: {m.alias}",
                    ok,
                    t.ms,
                    f"deployment {m.route_deployment(route)}"
                    if ok
                    else f"upstream {route.upstream} ({config.upstream(route.upstream).host}, "
                    f"deployment {m.route_deployment(route)}) failed: {_why(r)}",
                )
            )
    return checks
