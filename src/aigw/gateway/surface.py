"""The smoke test's scan of LiteLLM's admin surface (issue 17 S2): only the OpenAI routes and
the two probes answer; every other path is 404, with the key and without it."""

from __future__ import annotations

from typing import Any

import httpx

from aigw.gateway.checks import Check, Timer
from aigw.gateway.url import READINESS_PATH

# Paths LiteLLM 1.81.15 serves beside the OpenAI routes (docs, admin UI, SSO, debug, management,
# pass-through, other API shapes). aigw's guard closes them; each must answer 404 (issue 17 S2).
SURFACE_WITHOUT_KEY = (
    ("GET", "/"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/ui/"),
    ("GET", "/routes"),
    ("GET", "/debug/asyncio-tasks"),
    ("GET", "/sso/key/generate"),
    ("GET", "/fallback/login"),
    ("GET", "/.well-known/litellm-ui-config"),
    ("GET", "/litellm/.well-known/litellm-ui-config"),
    ("GET", "/metrics"),
    ("GET", "/config/yaml"),
    ("GET", "/public/model_hub"),
    ("GET", "/get/ui_settings"),
)
SURFACE_WITH_KEY = (
    ("GET", "/health"),  # calls every model (billable) and shows every api_base
    ("POST", "/login"),  # a key oracle
    ("GET", "/model/info"),
    ("GET", "/v1/model/info"),
    ("POST", "/model/new"),
    ("POST", "/key/generate"),
    ("GET", "/key/list"),
    ("POST", "/config/update"),
    ("GET", "/global/spend/logs"),
    ("GET", "/v1/responses/resp_0000"),
    ("POST", "/v1/completions"),
    ("POST", "/v1/messages"),
    ("POST", "/openai/deployments/x/chat/completions"),
    ("POST", "/azure/openai/deployments/x/chat/completions"),
    ("GET", "/v1/embeddings"),  # an allowed path with another method
)


def surface_check(anon: httpx.Client, client: httpx.Client | None, *, probes: bool = True) -> Check:
    """Only the OpenAI routes and the two probes answer: every other path is 404, with the key
    and without it. `client` carries the key (None: only the paths without a key)."""
    answered = []
    with Timer() as t:
        scans = [(anon, SURFACE_WITHOUT_KEY)] + ([(client, SURFACE_WITH_KEY)] if client else [])
        for c, paths in scans:
            for method, path in paths:
                body: dict[str, Any] | None = {} if method == "POST" else None
                try:
                    status = str(c.request(method, path, json=body).status_code)
                except httpx.HTTPError as e:
                    status = type(e).__name__
                if status != "404":
                    answered.append(f"{method} {path}: HTTP {status}")
        if probes:
            r = anon.get(READINESS_PATH)
            if r.status_code != 200:
                answered.append(f"GET {READINESS_PATH} (a probe): HTTP {r.status_code}")
    n = len(SURFACE_WITHOUT_KEY) + (len(SURFACE_WITH_KEY) if client else 0)
    detail = "; ".join(answered) if answered else f"{n} paths closed"
    return Check("admin surface closed", not answered, t.ms, detail)
