"""What each named upstream (several upstreams per model, issue 16) adds to the desired state,
beside the primary's (`azure_openai:`): auth: key, its own Key Vault secret
(`azure-openai-api-key-<name>`), its secretRef and environment variable in the container app;
auth: identity, a Cognitive Services OpenAI User role on its account (one per account).
Pure: the adapters of those kinds call these from their `desired`."""

from __future__ import annotations

from typing import Any

from aigw.config.naming import AZURE_OPENAI_KEY_SECRET
from aigw.config.upstreams import UpstreamConfig
from aigw.gateway.routes import key_var
from aigw.resources.base import Inputs
from aigw.secrets import UPSTREAM_KEY_PREFIX


def secret_name(upstream: str) -> str:
    """Its Key Vault secret (names: 1-127 alphanumerics and dashes)."""
    return f"{AZURE_OPENAI_KEY_SECRET}-{upstream}"


def others(inp: Inputs) -> dict[str, UpstreamConfig]:
    """The named upstreams some model routes to (the primary is not among them)."""
    return {
        name: u
        for name, u in inp.config.used_upstreams().items()
        if u is not inp.config.azure_openai
    }


def keyed(inp: Inputs) -> list[tuple[str, str, str]]:
    """(secret name, source, container variable) of each named upstream with auth: key."""
    return [
        (secret_name(name), f"{UPSTREAM_KEY_PREFIX}{name}", key_var(name))
        for name, u in others(inp).items()
        if u.auth == "key"
    ]


def any_identity(inp: Inputs) -> bool:
    """Whether any upstream the gateway calls uses the app's identity."""
    return any(u.auth == "identity" for u in inp.config.used_upstreams().values())


def identity_accounts(inp: Inputs) -> list[tuple[str, UpstreamConfig]]:
    """(name, upstream) of each named identity upstream whose account is not already the
    primary's or another's (one role per account)."""

    def where(u: UpstreamConfig) -> str:
        return u.resource_id.lower() if u.resource_id else f"openai:{u.host}"

    seen = {where(inp.config.azure_openai)} if inp.config.azure_openai.auth == "identity" else set()
    out = []
    for name, u in others(inp).items():
        if u.auth == "identity" and where(u) not in seen:
            seen.add(where(u))
            out.append((name, u))
    return out


def container_env(inp: Inputs) -> dict[str, Any]:
    """The named upstreams' key variables, each a secretRef to its Key Vault secret."""
    return {var: {"secretRef": name} for name, _, var in keyed(inp)}
