"""Microsoft.App managed environments, and the Microsoft.App location operations (LRO status)."""

from __future__ import annotations

import copy
from typing import Any

from ..core import lro
from ..core.engine import Engine, Router, finish_provisioning, finisher, public
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.state import State
from ..core.util import guid, key, now, short_suffix
from .common import (
    RG,
    async_poll,
    build_tracked,
    list_of,
    location_poll,
    must_find,
    put_resource,
)
from .locations import CONTAINER_APPS, provides
from .microsoft_app import (
    APP_TYPE,
    ENV_PATH,
    ENV_TYPE,
    LOC_OPS,
    LOCAL_APPS_DOMAIN,
    LOCAL_EVENTS_DOMAIN,
    NS,
    env_rid,
    ops_path,
)
from .usages import require_environment_slot

router = Router()
# Container Apps environments, in Container Apps' regions (arm/locations.py).
provides(NS, "managedEnvironments", CONTAINER_APPS)


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
        rid = env_rid(req)
        existing = st["resources"].get(key(rid))
        if existing is None:
            require_environment_slot(st, req.params["sub"], str(payload.get("location", "")))
        body = build_tracked(req, rid, ENV_TYPE, req.params["name"], payload, existing)
        props = body["properties"]
        identity = fill_identity(st, payload.get("identity"), (existing or {}).get("identity"))
        if identity:
            body["identity"] = identity
        old = (existing or {}).get("properties", {})
        # Azure: <random>.<region>.azurecontainerapps.io. Here under .localhost (RFC 6761
        # section 6.3: reserved, never delegated in public DNS), so no name this cloud hands
        # out can be resolved outside the machine; aigw never looks these up (gateway_url.py).
        domain = old.get("defaultDomain") or (
            f"{short_suffix(8)}.{body['location']}.{LOCAL_APPS_DOMAIN}"
        )
        props.update(
            {
                "defaultDomain": domain,
                "staticIp": "127.0.0.1",
                "zoneRedundant": bool(props.get("zoneRedundant", False)),
                "infrastructureResourceGroup": f"ME_{req.params['name']}_{req.params['rg']}_{body['location']}",  # noqa: E501
                "eventStreamEndpoint": f"https://{body['location']}.{LOCAL_EVENTS_DOMAIN}/subscriptions/{req.params['sub']}/resourceGroups/{req.params['rg']}/managedEnvironments/{req.params['name']}/eventstream",
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
    async_path = ops_path(
        req.params["sub"], body["location"], "managedEnvironmentOperationStatuses", op["id"]
    )
    headers = {
        "Azure-AsyncOperation": eng.op_url(async_path, req.api_version),
        **eng.lro_headers(),
    }
    return Response(200 if existing else 201, _env_public(body), headers)


finisher("environment.create")(finish_provisioning)


@router.route("GET", ENV_PATH)
def get_env(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return Response(
            200,
            _env_public(
                must_find(st, env_rid(req), ENV_TYPE, req.params["name"], req.params["rg"])
            ),
        )


@router.route("DELETE", ENV_PATH)
def delete_env(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        rid = env_rid(req)
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
    path = ops_path(
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


@finisher("environment.delete")
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
