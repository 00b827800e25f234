"""A container app's Key Vault references as Container Apps holds them.

Secrets are app-scoped, and an updated secret does not reach running replicas until a new
revision or a restart (learn.microsoft.com/azure/container-apps/manage-secrets, "Manage
secrets in Azure Container Apps"). A Key Vault reference is fetched when the app is PUT with
it (new or changed URL or identity) and replicas get that copy. A reference without a version
follows the vault's latest version only on the platform's own schedule: "If you don't specify
a version in the URI, the app uses the latest version ... the app automatically retrieves the
latest version within 30 minutes" (same page, "Secret rotation"). So the copy of a versionless
reference is refreshed only once it is older than REFRESH_SECONDS (scaled like the other
durations; `kv_refresh_seconds` in the state overrides it): a restart alone does not pick up a
new version before that, as on Azure. A versioned reference always resolves to that version.
Stricter than Azure where unsure: an unchanged reference is not re-read by a PUT.

Where the read fails. Azure reads the references twice on a PUT: when it validates the request
(the synchronous 400 InvalidParameterValueInContainerTemplate, "Unable to get value using
Managed identity <id> for secret <name>": microsoft/azure-container-apps#930, #1174, #1159) and
again when the revision provisions, where the same text ends the PUT's long-running operation
Failed as "ContainerAppOperationError: Failed to provision revision for container app '<app>'.
Error details: The following field(s) are either invalid or missing. Field ... is invalid with
details: '...';.." (the wrapper as microsoft/azure-container-apps#1061 and
learn.microsoft.com/answers/questions/5814504 show it; RBAC propagation failing the revision
after the PUT was accepted: microsoft/GitHub-Copilot-for-Azure#1701). Role propagation is
eventually consistent, so either read may be the first to miss a fresh grant. The cloud picks
one: by default the PUT's (`kv_put_check` true, the 400); with `kv_put_check` false (LocalCloud
.set_kv_put_check) the PUT is accepted without reading new or changed references and the
revision's provisioning reads them (replica_secrets), failing the operation while the identity's
grant has not propagated (rbac.delay_for).
"""

from __future__ import annotations

import re
from typing import Any

from ..core.engine import Engine
from ..core.state import State
from ..vault.kv_secrets import read_secret_as
from .app_container import identity_principal, kv_error, resolve_secrets

REFRESH_SECONDS = 30 * 60.0
_VERSIONED = re.compile(r"/secrets/[^/]+/[^/]+/?$")


def refresh_seconds(eng: Engine, st: State) -> float:
    override = st.get("kv_refresh_seconds")
    if override is not None:
        return float(override)
    scale = eng.timing.scale if eng.timing.latency == "realistic" else 1.0
    return REFRESH_SECONDS * scale


def _refs(app: dict[str, Any]) -> list[dict[str, Any]]:
    secrets = (app["properties"].get("configuration") or {}).get("secrets") or []
    return [s for s in secrets if s.get("keyVaultUrl")]


def put_checks_references(st: State) -> bool:
    """Does the PUT itself read the references (the synchronous 400), or only the revision's
    provisioning (the operation fails late)? See the module docstring."""
    return bool(st.get("kv_put_check", True))


def cache_at_put(
    eng: Engine, st: State, app: dict[str, Any], existing: dict[str, Any] | None, t: float
) -> dict[str, Any]:
    """Check every reference (a PUT fails while one cannot be read, see app_container.kv_error) and
    return the app's copy: kept for unchanged references, fetched for new or changed ones. With
    the PUT's check off, new or changed references get no copy: the revision's provisioning
    reads them (replica_secrets) and fails the operation if it cannot."""
    checked = put_checks_references(st)
    values = resolve_secrets(eng, st, app) if checked else {}
    old = (existing or {}).get("_kv_cache") or {}
    cache: dict[str, Any] = {}
    for s in _refs(app):
        prev = old.get(s["name"])
        if prev and prev["url"] == s["keyVaultUrl"] and prev["identity"] == s.get("identity"):
            cache[s["name"]] = prev
        elif checked:
            cache[s["name"]] = {
                "url": s["keyVaultUrl"],
                "identity": s.get("identity"),
                "value": values[s["name"]],
                "fetched": t,
            }
    return cache


def replica_secrets(
    eng: Engine, st: State, app: dict[str, Any], t: float
) -> tuple[dict[str, str], dict[str, Any]]:
    """(secret name -> value, the app's updated copy) for a replica starting now."""
    cache = dict(app.get("_kv_cache") or {})
    period = refresh_seconds(eng, st)
    values: dict[str, str] = {}
    for s in (app["properties"].get("configuration") or {}).get("secrets") or []:
        name = s.get("name", "")
        if not s.get("keyVaultUrl"):
            values[name] = str(s.get("value", ""))
            continue
        entry = cache.get(name)
        stale = entry is None or entry["url"] != s["keyVaultUrl"]
        if entry is not None and not stale and not _VERSIONED.search(s["keyVaultUrl"]):
            stale = t - float(entry["fetched"]) >= period
        if stale:
            identity = s.get("identity") or "system"
            principal = identity_principal(st, app, identity)
            value = read_secret_as(eng, st, principal, s["keyVaultUrl"])[0] if principal else None
            if value is None:
                raise kv_error(name, identity)
            entry = {"url": s["keyVaultUrl"], "identity": s.get("identity"), "value": value}
            entry["fetched"] = t
            cache[name] = entry
        assert entry is not None
        values[name] = str(entry["value"])
    return values, cache
