"""Before the smoke test calls models: wait until Azure OpenAI accepts the gateway's identity.

With `auth: identity` deploy creates the role assignment (Cognitive Services OpenAI User) on the
account just before the revision starts, and Azure RBAC takes effect with a delay: "Role
assignment changes can take up to 10 minutes to take effect" for data actions
(learn.microsoft.com/azure/role-based-access-control/troubleshooting, "Symptom - Role
assignment changes are not being detected"). Until then Azure OpenAI answers 401
PermissionDenied ("The principal `<id>` lacks the required data action ..."), which LiteLLM
passes on. A fresh deploy's smoke test would fail on a gateway that works minutes later, and a
rollout would throw away a good revision; so one small call is repeated while the answer is
that refusal, saying what it waits for, up to `timeout`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from aigw.config.model import EnvConfig
from aigw.config.upstreams import ModelConfig, ModelKind
from aigw.gateway.checks import Check

# What Azure OpenAI (and the local cloud's emulator) answers a principal whose role has not
# taken effect; anything else ends the wait (the model checks then report it).
PROPAGATING = ("PermissionDenied", "lacks the required data action")
CHECK = "upstream accepts the gateway's identity"


def uses_identity(config: EnvConfig) -> bool:
    return any(u.auth == "identity" for u in config.all_upstreams().values())


def _probe(model: ModelConfig) -> tuple[str, dict[str, object]]:
    if model.kind is ModelKind.embeddings:
        return "/v1/embeddings", {"model": model.alias, "input": "aigw"}
    if model.kind is ModelKind.responses:
        return "/v1/responses", {"model": model.alias, "input": "Say ready.", "stream": False}
    return "/v1/chat/completions", {
        "model": model.alias,
        "messages": [{"role": "user", "content": "Say ready."}],
    }


def _propagating(r: httpx.Response) -> bool:
    return r.status_code in (401, 403) and any(s in r.text for s in PROPAGATING)


def wait_for_identity(
    client: httpx.Client,
    config: EnvConfig,
    *,
    timeout: float,
    on_wait: Callable[[str], None] | None = None,
    interval: float = 5.0,
) -> Check | None:
    """None when no upstream uses the identity; else a Check: ok once the probe call is not
    refused for a missing role (whatever else it answers), failed after `timeout`."""
    if not uses_identity(config) or not config.models:
        return None
    # embeddings first: the cheapest call
    model = min(config.models, key=lambda m: m.kind is not ModelKind.embeddings)
    path, body = _probe(model)
    start = time.monotonic()
    told = 0.0
    while True:
        r = client.post(path, json=body)
        waited = time.monotonic() - start
        if not _propagating(r):
            return Check(CHECK, True, waited * 1000, f"after {waited:.0f}s")
        if waited >= timeout:
            return Check(
                CHECK,
                False,
                waited * 1000,
                f"still refused after {timeout:.0f}s (the role Cognitive Services OpenAI User on "
                "the account has not taken effect): rerun aigw smoke-test in a few minutes",
            )
        if on_wait and (told == 0.0 or waited - told >= 30):
            told = max(waited, 0.001)
            on_wait(
                "waiting for Azure OpenAI to accept the gateway's identity (its role "
                f"takes up to 10 minutes to take effect): {waited:.0f}s of {timeout:.0f}s"
            )
        time.sleep(interval)
