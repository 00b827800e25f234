"""Microsoft.ManagedIdentity: user-assigned identities (synchronous, as in Azure)."""

from __future__ import annotations

import time

from ..core.engine import Engine, Router
from ..core.http import Request, Response
from ..core.util import guid, key, now
from .common import NAME, RG, build_tracked, list_of, must_find, ok, put_resource, resource_id
from .locations import GENERAL, provides

router = Router()
NS = "Microsoft.ManagedIdentity"
TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
PATH = RG + r"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + NAME
provides(NS, "userAssignedIdentities", GENERAL)


def _rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "userAssignedIdentities", p["name"])


@router.route("PUT", PATH)
def put_identity(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        rid = _rid(req)
        existing = st["resources"].get(key(rid))
        body = build_tracked(req, rid, TYPE, req.params["name"], payload, existing)
        if existing:
            body["properties"] = existing["properties"]
        else:
            principal = guid()
            body["properties"] = {
                "tenantId": st["tenant_id"],
                "principalId": principal,
                "clientId": guid(),
                "isolationScope": (payload.get("properties") or {}).get("isolationScope", "None"),
            }
            # The directory learns about the new service principal (replication delay applies).
            st["principals"][principal] = {"created": now(), "kind": "ServicePrincipal", "id": rid}
        put_resource(st, body)
    time.sleep(eng.timing.seconds("identity.create"))
    return ok(body, 200 if existing else 201)


@router.route("PATCH", PATH)
def patch_identity(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        r = must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"])
        if "tags" in payload:
            r["tags"] = payload["tags"] or {}
        return ok(r)


@router.route("GET", PATH)
def get_identity(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return ok(must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"]))


@router.route("DELETE", PATH)
def delete_identity(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        r = st["resources"].pop(key(_rid(req)), None)
        if r is None:
            return Response(204)
        st["principals"].pop(r["properties"]["principalId"], None)
    return Response(200)


@router.route("GET", RG + r"/providers/Microsoft.ManagedIdentity/userAssignedIdentities")
def list_identities(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return list_of(st, req.params["sub"], TYPE, req.params["rg"])
