"""The container app running LiteLLM: its body built from the desired fields, and read back
into the same shape so only what aigw manages is compared."""

from __future__ import annotations

from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, lower_id, norm_location, to_rest
from aigw.desired import CONFIG_VOLUME, CONTAINER_NAME, Resource
from aigw.naming import LITELLM_CONFIG_SECRET
from aigw.plan import ABSENT, Observed, resolve
from aigw.render import CONFIG_HASH_VAR


def _outputs(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    ingress = (props.get("configuration") or {}).get("ingress") or {}
    return {
        "id": body.get("id"),
        "fqdn": ingress.get("fqdn"),
        "latest_revision": props.get("latestRevisionName"),
        "latest_ready_revision": props.get("latestReadyRevisionName"),
        "provisioning_state": props.get("provisioningState"),
        "running_status": props.get("runningStatus"),
    }


def build_body(m: dict[str, Any], config_yaml: str) -> dict[str, Any]:
    """The ARM body for `m`, the resolved managed fields of the desired container app."""
    mount_dir, file_name = m["configMount"].rsplit("/", 1)
    secrets: list[dict[str, Any]] = []
    for name, spec in m["secrets"].items():
        if name == LITELLM_CONFIG_SECRET:
            secrets.append({"name": name, "value": config_yaml})
        else:
            url = f"{str(spec['vaultUri']).rstrip('/')}/secrets/{spec['keyVaultSecret']}"
            secrets.append({"name": name, "keyVaultUrl": url, "identity": m["identity"]})
    env = [
        {"name": k, "secretRef": v["secretRef"]} if isinstance(v, dict) else {"name": k, "value": v}
        for k, v in m["env"].items()
    ]
    port = m["ingress"]["targetPort"]
    probes = [
        {
            "type": p["type"],
            "httpGet": {"path": p["path"], "port": port},
            "periodSeconds": p["period"],
            "failureThreshold": p["failureThreshold"],
        }
        for p in m["probes"]
    ]
    return {
        "location": m["location"],
        "tags": m["tags"],
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {m["identity"]: {}}},
        "properties": {
            "environmentId": m["environmentId"],
            "configuration": {
                "activeRevisionsMode": "Single",
                "ingress": {
                    "external": m["ingress"]["external"],
                    "targetPort": port,
                    "transport": "auto",
                    "allowInsecure": False,
                },
                "secrets": secrets,
            },
            "template": {
                "containers": [
                    {
                        "name": CONTAINER_NAME,
                        "image": m["image"],
                        "args": m["args"],
                        "env": env,
                        "resources": {"cpu": m["cpu"], "memory": m["memory"]},
                        "probes": probes,
                        "volumeMounts": [{"volumeName": CONFIG_VOLUME, "mountPath": mount_dir}],
                    }
                ],
                "scale": {"minReplicas": m["minReplicas"], "maxReplicas": m["maxReplicas"]},
                "volumes": [
                    {
                        "name": CONFIG_VOLUME,
                        "storageType": "Secret",
                        "secrets": [{"secretRef": LITELLM_CONFIG_SECRET, "path": file_name}],
                    }
                ],
            },
        },
    }


def read_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The managed fields of a container app as Azure reports them (inverse of build_body)."""
    props = body.get("properties") or {}
    conf = props.get("configuration") or {}
    template = props.get("template") or {}
    containers = template.get("containers") or [{}]
    c = containers[0]
    env_list = c.get("env") or []
    env = {
        e["name"]: ({"secretRef": e["secretRef"]} if e.get("secretRef") else e.get("value"))
        for e in env_list
    }
    secrets: dict[str, Any] = {}
    for s in conf.get("secrets") or []:
        if s.get("keyVaultUrl"):
            base, _, secret = str(s["keyVaultUrl"]).partition("/secrets/")
            secrets[s["name"]] = {"keyVaultSecret": secret.split("/")[0], "vaultUri": base + "/"}
        else:
            secrets[s["name"]] = {"sha256": env.get(CONFIG_HASH_VAR)}
    identities = list(((body.get("identity") or {}).get("userAssignedIdentities") or {}).keys())
    mounts = c.get("volumeMounts") or [{}]
    volumes = template.get("volumes") or [{}]
    vol_path = ((volumes[0].get("secrets") or [{}])[0]).get("path", "")
    ingress = conf.get("ingress") or {}
    scale = template.get("scale") or {}
    resources = c.get("resources") or {}
    return {
        "location": norm_location(body.get("location")),
        "identity": lower_id(identities[0]) if identities else None,
        "environmentId": lower_id(props.get("environmentId") or props.get("managedEnvironmentId")),
        "ingress": {"external": ingress.get("external"), "targetPort": ingress.get("targetPort")},
        "secrets": secrets,
        "image": c.get("image"),
        "args": list(c.get("args") or []),
        "env": env,
        "cpu": resources.get("cpu"),
        "memory": resources.get("memory"),
        "minReplicas": scale.get("minReplicas"),
        "maxReplicas": scale.get("maxReplicas"),
        "probes": [
            {
                "type": p.get("type"),
                "path": (p.get("httpGet") or {}).get("path"),
                "period": p.get("periodSeconds"),
                "failureThreshold": p.get("failureThreshold"),
            }
            for p in c.get("probes") or []
        ],
        "configMount": f"{mounts[0].get('mountPath', '')}/{vol_path}",
    }


def observe(ctx: Ctx, res: Resource) -> Observed:
    ops = ctx.clients.apps().container_apps
    found = get_or_none(lambda: ops.get(ctx.rg, res.name))
    if found is None:
        return ABSENT
    body = to_rest(found)
    return Observed(
        exists=True, fields=read_fields(body), tags=body.get("tags") or {}, outputs=_outputs(body)
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, Any]:
    m = resolve(ctx.managed(res), ctx.outputs)  # with tags others set kept
    body = build_body(m, ctx.desired.config_yaml)
    poller = ctx.clients.apps().container_apps.begin_create_or_update(ctx.rg, res.name, body)
    return _outputs(to_rest(poller.result()))


def restart(ctx: Ctx, res: Resource) -> dict[str, Any]:
    """Restart the active revision so it reads Key Vault secrets again."""
    apps = ctx.clients.apps()
    body = to_rest(apps.container_apps.get(ctx.rg, res.name))
    revision = (body.get("properties") or {}).get("latestRevisionName")
    apps.container_apps_revisions.restart_revision(ctx.rg, res.name, revision)
    return {**_outputs(body), "restarted": revision}


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.apps().container_apps.begin_delete(ctx.rg, res.name).result()
