"""Microsoft.App: managed environments and container apps (revisions, secrets, running apps).

A container app's PUT is an Azure-AsyncOperation LRO; its finisher resolves the app's secrets
(Key Vault references through the app's user-assigned identity, as Azure does), hands the
first container to the AppRunner and records the URL it serves on as the ingress FQDN.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any
from urllib.parse import urlsplit

from . import engine as engine_mod
from . import lro
from .appspec import AppStartError, ContainerSpec
from .arm import (
    NAME,
    RG,
    SUB,
    async_poll,
    build_tracked,
    list_of,
    location_poll,
    must_find,
    put_resource,
    resource_id,
)
from .engine import Engine, public
from .errors import CloudError
from .http import Request, Response, Router
from .routes_secrets import read_secret_as
from .state import State
from .util import guid, iso, key, now, short_suffix

router = Router()
NS = "Microsoft.App"
ENV_TYPE = "Microsoft.App/managedEnvironments"
APP_TYPE = "Microsoft.App/containerApps"
ENV_PATH = RG + r"/providers/Microsoft.App/managedEnvironments/" + NAME
APP_PATH = RG + r"/providers/Microsoft.App/containerApps/" + NAME
LOC_OPS = SUB + r"/providers/Microsoft.App/locations/(?P<loc>[^/]+)"


def _env_rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "managedEnvironments", p["name"])


def _app_rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "containerApps", p["name"])


def _ops_path(sub: str, location: str, kind: str, op_id: str) -> str:
    return f"/subscriptions/{sub}/providers/{NS}/locations/{location}/{kind}/{op_id}"


# ------------------------------------------------------------------ managed environments
def fill_identity(
    st: State, identity: dict[str, Any] | None, old: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Server-side identity fields: a system-assigned principal, ids of user-assigned ones."""
    if not identity:
        return None
    identity = copy.deepcopy(identity)
    kind = str(identity.get("type", "None")).replace(" ", "").lower()
    if "systemassigned" in kind:
        identity["principalId"] = (old or {}).get("principalId") or guid()
        identity["tenantId"] = st["tenant_id"]
        st["principals"].setdefault(
            identity["principalId"], {"created": now(), "kind": "ServicePrincipal"}
        )
    uais = identity.get("userAssignedIdentities") or {}
    for ident_id in list(uais):
        ident = st["resources"].get(key(ident_id))
        if ident is None:
            raise CloudError(
                400,
                "InvalidUserAssignedIdentity",
                f"Managed Identity with resource Id '{ident_id}' was not found.",
            )
        uais[ident_id] = {
            "principalId": ident["properties"]["principalId"],
            "clientId": ident["properties"]["clientId"],
        }
    return identity


def _env_public(r: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(public(r))
    la = (
        (body["properties"].get("appLogsConfiguration") or {}).get("logAnalyticsConfiguration")
    ) or {}
    la.pop("sharedKey", None)  # write-only in Azure
    return body


@router.route("PUT", ENV_PATH)
def put_env(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        rid = _env_rid(req)
        existing = st["resources"].get(key(rid))
        body = build_tracked(req, rid, ENV_TYPE, req.params["name"], payload, existing)
        props = body["properties"]
        identity = fill_identity(st, payload.get("identity"), (existing or {}).get("identity"))
        if identity:
            body["identity"] = identity
        old = (existing or {}).get("properties", {})
        domain = (
            old.get("defaultDomain")
            or f"{short_suffix(8)}.{body['location']}.azurecontainerapps.io"
        )
        props.update(
            {
                "defaultDomain": domain,
                "staticIp": "127.0.0.1",
                "zoneRedundant": bool(props.get("zoneRedundant", False)),
                "infrastructureResourceGroup": f"ME_{req.params['name']}_{req.params['rg']}_{body['location']}",  # noqa: E501
                "eventStreamEndpoint": f"https://{body['location']}.azurecontainerapps.dev/subscriptions/{req.params['sub']}/resourceGroups/{req.params['rg']}/managedEnvironments/{req.params['name']}/eventstream",
                "customDomainConfiguration": {
                    "customDomainVerificationId": old.get("customDomainConfiguration", {}).get(
                        "customDomainVerificationId"
                    )
                    or guid().replace("-", "").upper()
                },
                "peerAuthentication": props.get("peerAuthentication")
                or {"mtls": {"enabled": False}},
                "provisioningState": "Waiting" if not existing else "Updating",
            }
        )
        props.setdefault(
            "workloadProfiles", [{"name": "Consumption", "workloadProfileType": "Consumption"}]
        )
        op = lro.new_operation(st, eng.timing, "environment.create", rid, location=body["location"])
        body["_op"] = op["id"]
        put_resource(st, body)
    async_path = _ops_path(
        req.params["sub"], body["location"], "managedEnvironmentOperationStatuses", op["id"]
    )
    headers = {
        "Azure-AsyncOperation": eng.op_url(async_path, req.api_version),
        **eng.lro_headers(),
    }
    return Response(200 if existing else 201, _env_public(body), headers)


lro.finisher("environment.create")(engine_mod.finish_provisioning)


@router.route("GET", ENV_PATH)
def get_env(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return Response(
            200,
            _env_public(
                must_find(st, _env_rid(req), ENV_TYPE, req.params["name"], req.params["rg"])
            ),
        )


@router.route("DELETE", ENV_PATH)
def delete_env(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        rid = _env_rid(req)
        r = st["resources"].get(key(rid))
        if r is None:
            return Response(204)
        apps = [
            a
            for a in st["resources"].values()
            if a["type"] == APP_TYPE
            and key(a["properties"].get("managedEnvironmentId", "")) == key(rid)
        ]
        if apps:
            raise CloudError(
                409,
                "ManagedEnvironmentHasContainerApps",
                f"The specified environment {r['name']} cannot be deleted because it still contains "  # noqa: E501
                f"{len(apps)} ContainerApps.",
            )
        r["properties"]["provisioningState"] = "ScheduledForDelete"
        op = lro.new_operation(st, eng.timing, "environment.delete", rid, location=r["location"])
    path = _ops_path(
        req.params["sub"], r["location"], "managedEnvironmentOperationResults", op["id"]
    )
    return Response(
        202,
        None,
        {
            "Location": eng.op_url(path, req.api_version),
            **eng.lro_headers(),
        },
    )


@lro.finisher("environment.delete")
def _finish_env_delete(eng: Engine, op: dict[str, Any]) -> None:
    with eng.store.write() as st:
        st["resources"].pop(key(op["resource_id"]), None)
        lro.finish(st["operations"][op["id"]])


@router.route("GET", RG + r"/providers/Microsoft.App/managedEnvironments")
def list_envs(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        resp = list_of(st, req.params["sub"], ENV_TYPE, req.params["rg"])
    resp.body["value"] = [_env_public(r) for r in resp.body["value"]]
    return resp


@router.route(
    "GET",
    LOC_OPS
    + r"/(?:managedEnvironmentOperationStatuses|containerappOperationStatuses)/(?P<op>[^/]+)",
)
def op_status(eng: Engine, req: Request) -> Response:
    return async_poll(eng, req, req.params["op"])


@router.route(
    "GET",
    LOC_OPS + r"/(?:managedEnvironmentOperationResults|containerappOperationResults)/(?P<op>[^/]+)",
)
def op_result(eng: Engine, req: Request) -> Response:
    return location_poll(eng, req, req.params["op"])


# ------------------------------------------------------------------------- container apps
def _kv_error(name: str, identity: str) -> CloudError:
    return CloudError(
        400,
        "InvalidParameterValueInContainerTemplate",
        "The following field(s) are either invalid or missing. Field 'configuration.secrets' is "
        f'invalid with details: \'Invalid value: "{name}": Unable to get value using Managed '
        f"identity {identity} for secret {name}. Error: unable to fetch secret '{name}' using "
        f"Managed identity '{identity}'';.",
    )


def _identity_principal(st: State, app: dict[str, Any], identity: str) -> str | None:
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
            principal = _identity_principal(st, app, identity) if identity != "system" else None
            if principal is None:
                raise _kv_error(name, identity)
            value, _reason = read_secret_as(eng, st, principal, s["keyVaultUrl"])
            if value is None:
                raise _kv_error(name, identity)
            out[name] = value
        else:
            out[name] = str(s.get("value", ""))
    return out


def _normalized(obj: Any) -> str:
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
    )


def _scaled_to_zero(app: dict[str, Any]) -> bool:
    scale = (app["properties"].get("template") or {}).get("scale") or {}
    return scale.get("maxReplicas") == 0


def _app_public(r: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(public(r))
    for s in (body["properties"].get("configuration") or {}).get("secrets") or []:
        s.pop("value", None)  # never returned by GET; listSecrets does that
    return body


def _deep_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _deep_merge(base.get(k), v) if k in base else v
        return out
    return patch


def _apply_app(
    eng: Engine, req: Request, payload: dict[str, Any], existing: dict[str, Any] | None, st: State
) -> tuple[dict[str, Any], dict[str, Any]]:
    rid = _app_rid(req)
    name = req.params["name"]
    body = build_tracked(req, rid, APP_TYPE, name, payload, existing)
    props = body["properties"]
    env_id = props.get("managedEnvironmentId") or props.get("environmentId")
    env = st["resources"].get(key(env_id or ""))
    if env is None:
        raise CloudError(
            404,
            "ManagedEnvironmentNotFound",
            f"The environment '{env_id}' could not be found.",
        )
    if env["properties"]["provisioningState"] != "Succeeded":
        raise CloudError(
            400,
            "ManagedEnvironmentNotProvisioned",
            f"The environment '{env['id']}' has not been provisioned successfully.",
        )
    props["managedEnvironmentId"] = env["id"]
    props["environmentId"] = env["id"]
    # Identity: fill principalId/clientId of each user-assigned identity.
    identity = fill_identity(
        st,
        payload.get("identity") or (existing or {}).get("identity"),
        (existing or {}).get("identity"),
    )
    if identity:
        body["identity"] = identity
    # Secrets sent without a value on update keep their stored value (Azure does the same).
    old_secrets = {
        s["name"]: s
        for s in ((existing or {}).get("properties", {}).get("configuration") or {}).get("secrets")
        or []
    }
    config = props.setdefault("configuration", {})
    for s in config.get("secrets") or []:
        if "value" not in s and not s.get("keyVaultUrl") and s.get("name") in old_secrets:
            s["value"] = old_secrets[s["name"]].get("value")
    config.setdefault("activeRevisionsMode", "Single")
    config.setdefault("maxInactiveRevisions", 100)
    resolve_secrets(eng, st, body)  # validation: fails the PUT like Azure does
    template = props.setdefault("template", {})
    revisions: list[dict[str, Any]] = list((existing or {}).get("_revisions") or [])
    seq = int((existing or {}).get("_revision_seq") or 0)
    new_revision = not revisions or _normalized(revisions[-1]["template"]) != _normalized(template)
    if new_revision:
        seq += 1
        suffix = template.get("revisionSuffix") or f"{seq:07d}"
        rev_name = f"{name}--{suffix}"
        for r in revisions:
            r["active"] = False
        revisions.append(
            {
                "name": rev_name,
                "template": copy.deepcopy(template),
                "created": now(),
                "active": True,
                "state": "Provisioning",
            }
        )
    body["_revisions"] = revisions
    body["_revision_seq"] = seq
    body["_fqdn"] = (existing or {}).get("_fqdn")
    latest = revisions[-1]["name"]
    props["latestRevisionName"] = latest
    props["latestReadyRevisionName"] = (existing or {}).get("properties", {}).get(
        "latestReadyRevisionName"
    ) or None
    props["outboundIpAddresses"] = ["127.0.0.1"]
    props["customDomainVerificationId"] = env["properties"]["customDomainConfiguration"][
        "customDomainVerificationId"
    ]
    props["workloadProfileName"] = props.get("workloadProfileName") or "Consumption"
    props["eventStreamEndpoint"] = (
        f"https://{body['location']}.azurecontainerapps.dev/subscriptions/{req.params['sub']}/resourceGroups/{req.params['rg']}/containerApps/{name}/eventstream"
    )
    props["provisioningState"] = "InProgress"
    props["runningStatus"] = "Running"
    ingress = config.get("ingress")
    if ingress is not None:
        ingress.setdefault("external", False)
        ingress.setdefault("transport", "Auto")
        ingress.setdefault("allowInsecure", False)
        ingress.setdefault("traffic", [{"weight": 100, "latestRevision": True}])
        placeholder = f"{name}.{env['properties']['defaultDomain']}"
        ingress["fqdn"] = body["_fqdn"] or placeholder
        props["latestRevisionFqdn"] = f"{latest}.{env['properties']['defaultDomain']}"
    kind = "containerapp.create" if existing is None else "containerapp.update"
    op = lro.new_operation(
        st, eng.timing, kind, rid, location=body["location"], args={"new_revision": new_revision}
    )
    body["_op"] = op["id"]
    put_resource(st, body)
    return body, op


@router.route("PUT", APP_PATH)
def put_app(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        existing = st["resources"].get(key(_app_rid(req)))
        body, op = _apply_app(eng, req, payload, existing, st)
    path = _ops_path(req.params["sub"], body["location"], "containerappOperationStatuses", op["id"])
    headers = {
        "Azure-AsyncOperation": eng.op_url(path, req.api_version),
        **eng.lro_headers(),
    }
    return Response(200 if existing else 201, _app_public(body), headers)


@router.route("PATCH", APP_PATH)
def patch_app(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        existing = must_find(st, _app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        merged = _deep_merge(_app_public(existing), payload)
        if "tags" in payload:  # ARM PATCH replaces the tag set as a whole
            merged["tags"] = payload["tags"]
        body, op = _apply_app(eng, req, merged, existing, st)
    sub, loc = req.params["sub"], body["location"]
    headers = {
        "Azure-AsyncOperation": eng.op_url(
            _ops_path(sub, loc, "containerappOperationStatuses", op["id"]), req.api_version
        ),
        "Location": eng.op_url(
            _ops_path(sub, loc, "containerappOperationResults", op["id"]), req.api_version
        ),
        **eng.lro_headers(),
    }
    return Response(202, None, headers)


def _provision(eng: Engine, op: dict[str, Any]) -> None:
    """Finisher of create/update: (re)start the app when its revision changed, record its URL."""
    with eng.store.read() as st:
        app = st["resources"].get(key(op["resource_id"]))
        if app is None or app.get("_op") != op["id"]:
            eng.complete(op["id"])
            return
        app = copy.deepcopy(app)
        try:
            secrets = resolve_secrets(eng, st, app)
        except CloudError as e:
            _fail(eng, op, app["name"], e.message)
            return
    fqdn = app.get("_fqdn")
    error: str | None = None
    with eng.runner_lock:
        if eng.runner is not None:
            if _scaled_to_zero(app):
                eng.runner.stop(key(app["id"]))
                fqdn = None
            elif op["args"].get("new_revision") or not fqdn:
                try:
                    url = eng.runner.start(build_spec(app, secrets))
                    fqdn = urlsplit(url).netloc
                except AppStartError as e:
                    error = str(e)
                except Exception as e:  # a runner bug must surface as a failed provisioning
                    error = f"{type(e).__name__}: {e}"
    if error is not None:
        _fail(eng, op, app["name"], error)
        return
    with eng.store.write() as st:
        r = st["resources"].get(key(op["resource_id"]))
        if r is not None and r.get("_op") == op["id"]:
            props = r["properties"]
            props["provisioningState"] = "Succeeded"
            props["latestReadyRevisionName"] = props["latestRevisionName"]
            props["runningStatus"] = "Stopped" if _scaled_to_zero(r) else "Running"
            r["_revisions"][-1]["state"] = "Provisioned"
            if fqdn and eng.runner is not None:
                r["_fqdn"] = fqdn
                ingress = (props.get("configuration") or {}).get("ingress")
                if ingress is not None:
                    ingress["fqdn"] = fqdn
        lro.finish(st["operations"][op["id"]])


def _fail(eng: Engine, op: dict[str, Any], name: str, message: str) -> None:
    with eng.store.write() as st:
        r = st["resources"].get(key(op["resource_id"]))
        if r is not None and r.get("_op") == op["id"]:
            r["properties"]["provisioningState"] = "Failed"
            r["_revisions"][-1]["state"] = "Failed"
        lro.finish(
            st["operations"][op["id"]],
            {
                "code": "ContainerAppOperationError",
                "message": f"Failed to provision revision for container app '{name}'. Error details: {message}",  # noqa: E501
            },
        )


lro.finisher("containerapp.create", slow=True)(_provision)
lro.finisher("containerapp.update", slow=True)(_provision)


@router.route("GET", APP_PATH)
def get_app(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return Response(
            200,
            _app_public(
                must_find(st, _app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
            ),
        )


@router.route("DELETE", APP_PATH)
def delete_app(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        rid = _app_rid(req)
        r = st["resources"].get(key(rid))
        if r is None:
            return Response(204)
        r["properties"]["provisioningState"] = "Deleting"
        op = lro.new_operation(st, eng.timing, "containerapp.delete", rid, location=r["location"])
    sub, loc = req.params["sub"], r["location"]
    headers = {
        "Azure-AsyncOperation": eng.op_url(
            _ops_path(sub, loc, "containerappOperationStatuses", op["id"]), req.api_version
        ),
        "Location": eng.op_url(
            _ops_path(sub, loc, "containerappOperationResults", op["id"]), req.api_version
        ),
        **eng.lro_headers(),
    }
    return Response(202, None, headers)


@lro.finisher("containerapp.delete", slow=True)
def _finish_delete(eng: Engine, op: dict[str, Any]) -> None:
    if eng.runner is not None:
        with eng.runner_lock:
            eng.runner.stop(key(op["resource_id"]))
    with eng.store.write() as st:
        st["resources"].pop(key(op["resource_id"]), None)
        lro.finish(st["operations"][op["id"]])


@router.route("GET", RG + r"/providers/Microsoft.App/containerApps")
def list_apps(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        resp = list_of(st, req.params["sub"], APP_TYPE, req.params["rg"])
    resp.body["value"] = [_app_public(r) for r in resp.body["value"]]
    return resp


@router.route("POST", APP_PATH + r"/listSecrets")
def list_app_secrets(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(st, _app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        items = []
        for s in (app["properties"].get("configuration") or {}).get("secrets") or []:
            item: dict[str, Any] = {"name": s["name"]}
            if s.get("keyVaultUrl"):
                item["keyVaultUrl"] = s["keyVaultUrl"]
                item["identity"] = s.get("identity")
                principal = _identity_principal(st, app, s.get("identity") or "")
                value = (
                    read_secret_as(eng, st, principal, s["keyVaultUrl"])[0] if principal else None
                )
                if value is not None:
                    item["value"] = value
            else:
                item["value"] = s.get("value")
            items.append(item)
    return Response(200, {"value": items})


# ------------------------------------------------------------------------------ revisions
def _revision_body(app: dict[str, Any], rev: dict[str, Any]) -> dict[str, Any]:
    env_domain = (app["properties"].get("latestRevisionFqdn") or "x.").split(".", 1)[-1]
    return {
        "id": f"{app['id']}/revisions/{rev['name']}",
        "name": rev["name"],
        "type": "Microsoft.App/containerApps/revisions",
        "properties": {
            "active": rev["active"],
            "createdTime": iso(rev["created"]),
            "lastActiveTime": iso(rev.get("restarted", rev["created"])),
            "fqdn": f"{rev['name']}.{env_domain}",
            "replicas": 1 if rev["active"] and not _scaled_to_zero(app) else 0,
            "template": rev["template"],
            "trafficWeight": 100 if rev["active"] else 0,
            "healthState": "Healthy" if rev["state"] == "Provisioned" else "None",
            "provisioningState": rev["state"],
            "runningState": (
                "Running"
                if rev["state"] == "Provisioned"
                else "Failed"
                if rev["state"] == "Failed"
                else "Processing"
            )
            if rev["active"]
            else "Stopped",
        },
    }


@router.route("GET", APP_PATH + r"/revisions")
def list_revisions(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(st, _app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        return Response(
            200, {"value": [_revision_body(app, r) for r in app["_revisions"]], "nextLink": None}
        )


def _find_revision(app: dict[str, Any], name: str) -> dict[str, Any]:
    for r in app["_revisions"]:
        if r["name"].lower() == name.lower():
            return r
    raise CloudError(404, "ContainerAppRevisionNotFound", f"Revision '{name}' not found.")


@router.route("GET", APP_PATH + r"/revisions/(?P<rev>[^/]+)")
def get_revision(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        app = must_find(st, _app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        return Response(200, _revision_body(app, _find_revision(app, req.params["rev"])))


def _record_fqdn(eng: Engine, app_id: str, fqdn: str) -> None:
    with eng.store.write() as st:
        r = st["resources"].get(key(app_id))
        if r is None:
            return
        r["_fqdn"] = fqdn
        ingress = (r["properties"].get("configuration") or {}).get("ingress")
        if ingress is not None:
            ingress["fqdn"] = fqdn


@router.route("POST", APP_PATH + r"/revisions/(?P<rev>[^/]+)/restart")
def restart_revision(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        app = must_find(st, _app_rid(req), APP_TYPE, req.params["name"], req.params["rg"])
        rev = _find_revision(app, req.params["rev"])
        rev["restarted"] = now()
        snapshot = copy.deepcopy(app)
        active = rev["active"]
        try:
            secrets = resolve_secrets(eng, st, snapshot) if active and eng.runner else {}
        except CloudError:
            secrets = {}
    if active and eng.runner is not None and not _scaled_to_zero(snapshot):
        runner = eng.runner

        def _restart() -> None:
            with eng.runner_lock:
                try:
                    url = runner.start(build_spec(snapshot, secrets))
                except Exception:  # the revision shows unhealthy; nothing to report to the caller
                    return
            _record_fqdn(eng, snapshot["id"], urlsplit(url).netloc)

        threading.Thread(target=_restart, daemon=True, name="revision-restart").start()
    return Response(200, None)
