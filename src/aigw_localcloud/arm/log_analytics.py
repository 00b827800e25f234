"""Microsoft.OperationalInsights: workspaces (body-polled create) and their shared keys."""

from __future__ import annotations

import base64
import os
from typing import Any

from ..core import lro
from ..core.engine import Engine, Router, finish_provisioning, finisher
from ..core.http import Request, Response
from ..core.util import guid, iso, key, now
from .common import (
    NAME,
    RG,
    SUB,
    async_poll,
    build_tracked,
    list_of,
    location_poll,
    must_find,
    ok,
    put_resource,
    resource_id,
)

router = Router()
NS = "Microsoft.OperationalInsights"
TYPE = "Microsoft.OperationalInsights/workspaces"
PATH = RG + r"/providers/Microsoft.OperationalInsights/workspaces/" + NAME


def _rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "workspaces", p["name"])


def _key() -> str:
    return base64.b64encode(os.urandom(64)).decode()


@router.route("PUT", PATH)
def put_workspace(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        rid = _rid(req)
        existing = st["resources"].get(key(rid))
        body = build_tracked(req, rid, TYPE, req.params["name"], payload, existing)
        props: dict[str, Any] = body["properties"]
        old: dict[str, Any] = (existing or {}).get("properties", {})
        props.setdefault("sku", {"name": "PerGB2018"})
        props.setdefault("retentionInDays", 30)
        props.setdefault("publicNetworkAccessForIngestion", "Enabled")
        props.setdefault("publicNetworkAccessForQuery", "Enabled")
        props["customerId"] = old.get("customerId") or guid()
        props["createdDate"] = old.get("createdDate") or iso()
        props["modifiedDate"] = iso()
        props["features"] = {
            "legacy": 0,
            "searchVersion": 1,
            "enableLogAccessUsingOnlyResourcePermissions": True,
        }
        props["workspaceCapping"] = {
            "dailyQuotaGb": -1.0,
            "quotaNextResetTime": iso(now() + 86400),
            "dataIngestionStatus": "RespectQuota",
        }
        body["_keys"] = (existing or {}).get("_keys") or [_key(), _key()]
        op = lro.new_operation(st, eng.timing, "workspace.create", rid, location=body["location"])
        props["provisioningState"] = "Creating" if op["due"] > now() else "Succeeded"
        if op["due"] <= now():
            lro.finish(op)
        body["_op"] = op["id"]
        put_resource(st, body)
    # Azure answers 200/201 with provisioningState; the SDK polls the resource (body polling).
    headers = eng.lro_headers()
    return ok(body, 200 if existing else 201, headers)


finisher("workspace.create")(finish_provisioning)


@router.route("GET", PATH)
def get_workspace(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        r = must_find(
            st,
            _rid(req),
            "Microsoft.OperationalInsights/workspaces",
            req.params["name"],
            req.params["rg"],
        )
        op = st["operations"].get(r.get("_op", ""))
        if op is not None:
            lro.mark_observed(op)
        return ok(r)


@router.route("PATCH", PATH)
def patch_workspace(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        if "tags" in payload:
            r["tags"] = payload["tags"] or {}
        r["properties"].update({k: v for k, v in (payload.get("properties") or {}).items()})
        return ok(r)


@router.route("DELETE", PATH)
def delete_workspace(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        rid = _rid(req)
        r = st["resources"].get(key(rid))
        if r is None:
            return Response(204)
        r["properties"]["provisioningState"] = "Deleting"
        op = lro.new_operation(st, eng.timing, "workspace.delete", rid, location=r["location"])
    sub = req.params["sub"]
    async_path = f"/subscriptions/{sub}/providers/{NS}/locations/{r['location']}/operationstatuses/{op['id']}"  # noqa: E501
    location = f"{rid}/operationresults/{op['id']}"
    headers = {
        "Azure-AsyncOperation": eng.op_url(async_path, req.api_version),
        "Location": eng.op_url(location, req.api_version),
        **eng.lro_headers(),
    }
    return Response(202, None, headers)


@finisher("workspace.delete")
def _finish_delete(eng: Engine, op: dict[str, Any]) -> None:
    with eng.store.write() as st:
        st["resources"].pop(key(op["resource_id"]), None)
        lro.finish(st["operations"][op["id"]])


@router.route(
    "GET",
    SUB
    + r"/providers/Microsoft.OperationalInsights/locations/[^/]+/operationstatuses/(?P<op>[^/]+)",
)
def workspace_op_status(eng: Engine, req: Request) -> Response:
    return async_poll(eng, req, req.params["op"])


@router.route("GET", PATH + r"/operationresults/(?P<op>[^/]+)")
def workspace_op_result(eng: Engine, req: Request) -> Response:
    return location_poll(eng, req, req.params["op"])


@router.route("POST", PATH + r"/sharedKeys")
def shared_keys(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        return Response(
            200, {"primarySharedKey": r["_keys"][0], "secondarySharedKey": r["_keys"][1]}
        )


@router.route("GET", RG + r"/providers/Microsoft.OperationalInsights/workspaces")
def list_workspaces(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return list_of(st, req.params["sub"], TYPE, req.params["rg"])
