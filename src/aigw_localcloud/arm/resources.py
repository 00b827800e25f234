"""Microsoft.Resources: resource groups (incl. cascading delete), providers, resource lists."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..core import lro
from ..core.engine import Engine, Router, finisher, public
from ..core.errors import CloudError, group_not_found
from ..core.http import Request, Response
from ..core.state import State
from ..core.util import id_in_scope, norm_location
from .common import RG, SUB, location_poll
from .key_vault import soft_delete_vault
from .locations import namespaces, require_group_location, types_of

router = Router()


def provider_body(st: State, namespace: str) -> dict[str, Any]:
    p = st["providers"].get(namespace.lower())
    ns = p["namespace"] if p else namespace
    state = p["state"] if p else "NotRegistered"
    return {
        "id": f"/subscriptions/{st['subscription_id']}/providers/{ns}",
        "namespace": ns,
        "registrationState": state,
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [
            {
                "resourceType": t.resource_type,
                "locations": list(t.locations or ()),
                "apiVersions": ["2026-07-01", "2026-05-15", "2025-07-01", "2024-11-30"],
                "capabilities": "SupportsTags, SupportsLocation",
            }
            for t in types_of(ns)  # as the route modules declare them
        ],
    }


def _group_body(st: State, g: dict[str, Any]) -> dict[str, Any]:
    return public(g)


@router.route("PUT", RG)
def put_group(eng: Engine, req: Request) -> Response:
    payload = req.json()
    rg = req.params["rg"]
    if not payload.get("location"):
        raise CloudError(
            400, "LocationRequired", "The location property is required for this definition."
        )
    with eng.store.write() as st:
        eng.require_subscription(st, req.params["sub"])
        existing = st["resource_groups"].get(rg.lower())
        if not existing:
            require_group_location(payload["location"])
        if existing and existing["properties"]["provisioningState"] == "Deleting":
            raise CloudError(
                409,
                "ResourceGroupBeingDeleted",
                f"The resource group '{existing['name']}' is in deprovisioning state and cannot "
                "perform this operation.",
            )
        if existing and norm_location(payload["location"]) != existing["location"]:
            raise CloudError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{norm_location(payload['location'])}'. The "
                f"Resource group already exists in location '{existing['location']}'.",
            )
        body: dict[str, Any] = {
            "id": f"/subscriptions/{st['subscription_id']}/resourceGroups/{existing['name'] if existing else rg}",  # noqa: E501
            "name": existing["name"] if existing else rg,
            "type": "Microsoft.Resources/resourceGroups",
            "location": norm_location(payload["location"]),
            "tags": payload.get("tags") or {},
            "properties": {"provisioningState": "Succeeded"},
        }
        if payload.get("managedBy"):
            body["managedBy"] = payload["managedBy"]
        st["resource_groups"][rg.lower()] = body
    time.sleep(eng.timing.seconds("resourcegroup.create"))
    return Response(200 if existing else 201, public(body))


@router.route("PATCH", RG)
def patch_group(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        eng.require_subscription(st, req.params["sub"])
        g = st["resource_groups"].get(req.params["rg"].lower())
        if g is None:
            raise group_not_found(req.params["rg"])
        if "tags" in payload:
            g["tags"] = payload["tags"] or {}
        return Response(200, public(g))


@router.route("GET", RG)
def get_group(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_subscription(st, req.params["sub"])
        g = st["resource_groups"].get(req.params["rg"].lower())
        if g is None:
            raise group_not_found(req.params["rg"])
        return Response(200, _group_body(st, g))


@router.route("HEAD", RG)
def head_group(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        exists = req.params["rg"].lower() in st["resource_groups"]
    return Response(204 if exists else 404)


@router.route("GET", SUB + r"/resourcegroups")
def list_groups(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_subscription(st, req.params["sub"])
        return Response(200, {"value": [public(g) for g in st["resource_groups"].values()]})


@router.route("GET", RG + r"/resources")
def list_group_resources(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        g = eng.require_group(st, req.params["sub"], req.params["rg"])
        items = [
            {k: r[k] for k in ("id", "name", "type", "location", "tags") if k in r}
            for k2, r in st["resources"].items()
            if id_in_scope(k2, g["id"])
        ]
    return Response(200, {"value": items})


@router.route("DELETE", RG)
def delete_group(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_subscription(st, req.params["sub"])
        g = st["resource_groups"].get(req.params["rg"].lower())
        if g is None:
            raise group_not_found(req.params["rg"])
        g["properties"]["provisioningState"] = "Deleting"
        op = lro.new_operation(
            st, eng.timing, "resourcegroup.delete", g["id"], location=g["location"]
        )
    path = f"/subscriptions/{req.params['sub']}/operationresults/{op['id']}"
    return Response(
        202,
        None,
        {
            "Location": eng.op_url(path, req.api_version),
            **eng.lro_headers(),
        },
    )


@router.route("GET", SUB + r"/operationresults/(?P<op>[^/]+)")
def group_operation(eng: Engine, req: Request) -> Response:
    return location_poll(eng, req, req.params["op"])


def delete_scope_contents(eng: Engine, st: State, scope: str) -> list[str]:
    """Remove everything under `scope`; returns the container-app keys whose runners to stop.

    Vaults are soft-deleted (as Azure does when their group goes), role assignments in scope go.
    """
    apps: list[str] = []
    for k in [k for k in st["resources"] if id_in_scope(k, scope)]:
        r = st["resources"][k]
        if r["type"].lower() == "microsoft.keyvault/vaults":
            soft_delete_vault(eng, st, r)
            continue
        if r["type"].lower() == "microsoft.app/containerapps":
            apps.append(k)
        del st["resources"][k]
    for k in [
        k
        for k, ra in st["role_assignments"].items()
        if id_in_scope(ra["properties"]["scope"], scope)
    ]:
        del st["role_assignments"][k]
    return apps


# What other route modules do once a group's contents are gone (e.g. end the processes of the
# resources it held): registered with `after_group_delete` where they are defined.
_AFTER_GROUP_DELETE: list[Callable[[Engine], None]] = []


def after_group_delete(fn: Callable[[Engine], None]) -> Callable[[Engine], None]:
    _AFTER_GROUP_DELETE.append(fn)
    return fn


@finisher("resourcegroup.delete")
def _finish_group_delete(eng: Engine, op: dict[str, Any]) -> None:
    with eng.store.write() as st:
        apps = delete_scope_contents(eng, st, op["resource_id"])
        st["resource_groups"].pop(op["resource_id"].rsplit("/", 1)[-1].lower(), None)
        lro.finish(st["operations"][op["id"]])
    if eng.runner is not None:
        for app_key in apps:
            eng.runner.stop(app_key)
    for hook in _AFTER_GROUP_DELETE:
        hook(eng)


@router.route("GET", SUB)
def get_subscription(eng: Engine, req: Request) -> Response:
    """Subscriptions_Get (Microsoft.Resources/stable/2022-12-01/subscriptions.json)."""
    with eng.store.read() as st:
        eng.require_subscription(st, req.params["sub"])
        sub = st["subscription_id"]
        return Response(
            200,
            {
                "id": f"/subscriptions/{sub}",
                "subscriptionId": sub,
                "tenantId": st["tenant_id"],
                "displayName": "aigw local cloud",
                "state": "Enabled",
                "subscriptionPolicies": {
                    "locationPlacementId": "Public_2014-09-01",
                    "quotaId": "PayAsYouGo_2014-09-01",
                    "spendingLimit": "Off",
                },
                "authorizationSource": "RoleBased",
            },
        )


# ----------------------------------------------------------------------------- providers
@router.route("GET", SUB + r"/providers")
def list_providers(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        return Response(200, {"value": [provider_body(st, ns) for ns in namespaces()]})


@router.route("GET", SUB + r"/providers/(?P<ns>[^/]+)")
def get_provider(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_subscription(st, req.params["sub"])
        return Response(200, provider_body(st, req.params["ns"]))


@router.route("POST", SUB + r"/providers/(?P<ns>[^/]+)/register")
def register_provider(eng: Engine, req: Request) -> Response:
    ns = req.params["ns"]
    with eng.store.write() as st:
        eng.require_subscription(st, req.params["sub"])
        p = st["providers"].setdefault(ns.lower(), {"namespace": ns, "state": "NotRegistered"})
        if p["state"] == "NotRegistered":
            p["state"] = "Registering"
            lro.new_operation(st, eng.timing, "provider.register", ns.lower())
        return Response(200, provider_body(st, ns))


@finisher("provider.register")
def _finish_register(eng: Engine, op: dict[str, Any]) -> None:
    with eng.store.write() as st:
        p = st["providers"].get(op["resource_id"])
        if p is not None and p["state"] == "Registering":
            p["state"] = "Registered"
        lro.finish(st["operations"][op["id"]])
