"""A container app as the runner sees it: its first container with every reference resolved
(Key Vault secret references read with the app's user-assigned identity, as Azure does; secret
volumes as files)."""

from __future__ import annotations

import json
from typing import Any

from ..core.app_runner import AppStartError, ContainerSpec
from ..core.engine import Engine
from ..core.errors import CloudError
from ..core.msi_endpoint import platform_env
from ..core.state import State
from ..core.util import key
from ..vault.kv_secrets import read_secret_as


# ------------------------------------------------------------------------- container apps
def kv_error(name: str, identity: str) -> CloudError:
    # Azure reads every Key Vault reference when the app is PUT and answers 400 while the
    # identity may not read it yet, e.g. its Key Vault Secrets User role still propagating:
    # code and message as reported in microsoft/azure-container-apps#930, #1174 and #1159
    # ("performing CreateOrUpdate: unexpected status 400 ... InvalidParameterValueInContainer
    # Template"). The delay per principal is rbac.delay_for.
    return CloudError(
        400,
        "InvalidParameterValueInContainerTemplate",
        "The following field(s) are either invalid or missing. Field 'configuration.secrets' is "
        f'invalid with details: \'Invalid value: "{name}": Unable to get value using Managed '
        f"identity {identity} for secret {name}. Error: unable to fetch secret '{name}' using "
        f"Managed identity '{identity}'';.",
    )


def identity_principal(st: State, app: dict[str, Any], identity: str) -> str | None:
    assigned = {key(k) for k in ((app.get("identity") or {}).get("userAssignedIdentities") or {})}
    if key(identity) not in assigned:
        return None
    ident = st["resources"].get(key(identity))
    return ident["properties"]["principalId"] if ident else None


def resolve_secrets(eng: Engine, st: State, app: dict[str, Any]) -> dict[str, str]:
    """Secret name -> value; Key Vault references read with the app's identity or CloudError."""
    out: dict[str, str] = {}
    for s in (app["properties"].get("configuration") or {}).get("secrets") or []:
        name = s.get("name", "")
        if s.get("keyVaultUrl"):
            identity = s.get("identity") or "system"
            principal = identity_principal(st, app, identity) if identity != "system" else None
            if principal is None:
                raise kv_error(name, identity)
            value, _reason = read_secret_as(eng, st, principal, s["keyVaultUrl"])
            if value is None:
                raise kv_error(name, identity)
            out[name] = value
        else:
            out[name] = str(s.get("value", ""))
    return out


def normalized(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _probe_path(container: dict[str, Any], *types: str) -> str | None:
    for t in types:
        for p in container.get("probes") or []:
            if str(p.get("type", "")).lower() == t.lower() and (p.get("httpGet") or {}).get("path"):
                return str(p["httpGet"]["path"])
    return None


def build_spec(app: dict[str, Any], secrets: dict[str, str]) -> ContainerSpec:
    props = app["properties"]
    template = props.get("template") or {}
    containers = template.get("containers") or []
    if not containers:
        raise AppStartError("the template has no containers")
    c = containers[0]
    env: dict[str, str] = {}
    for e in c.get("env") or []:
        if "secretRef" in e and e["secretRef"] is not None:
            if e["secretRef"] not in secrets:
                raise AppStartError(f"env {e['name']} refers to unknown secret {e['secretRef']}")
            env[e["name"]] = secrets[e["secretRef"]]
        else:
            env[e["name"]] = str(e.get("value", ""))
    env.update(platform_env(app))  # what Container Apps adds for the app's identity
    volumes = {v.get("name"): v for v in template.get("volumes") or []}
    files: dict[str, bytes] = {}
    for m in c.get("volumeMounts") or []:
        vol = volumes.get(m.get("volumeName"))
        if not vol or str(vol.get("storageType", "")).lower() != "secret":
            continue
        items = vol.get("secrets") or [{"secretRef": n, "path": n} for n in secrets]
        for item in items:
            ref = item.get("secretRef")
            if ref not in secrets:
                raise AppStartError(f"volume {vol.get('name')} refers to unknown secret {ref}")
            path = item.get("path") or ref
            files[f"{m['mountPath'].rstrip('/')}/{path}"] = secrets[ref].encode()
    ingress = (props.get("configuration") or {}).get("ingress") or {}
    return ContainerSpec(
        app_key=key(app["id"]),
        revision=props.get("latestRevisionName", ""),
        image=str(c.get("image", "")),
        args=tuple(c.get("args") or ()),
        command=tuple(c.get("command") or ()),
        env=env,
        files=files,
        target_port=int(ingress.get("targetPort") or 80),
        startup_path=_probe_path(c, "Startup", "Liveness"),
        readiness_path=_probe_path(c, "Readiness"),
        port=_fqdn_port(app.get("_fqdn")),
    )


def _fqdn_port(fqdn: str | None) -> int | None:
    host, _, port = (fqdn or "").rpartition(":")
    return int(port) if host == "127.0.0.1" and port.isdigit() else None


def scaled_to_zero(app: dict[str, Any]) -> bool:
    scale = (app["properties"].get("template") or {}).get("scale") or {}
    return scale.get("maxReplicas") == 0
