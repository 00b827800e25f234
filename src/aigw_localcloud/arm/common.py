"""Helpers for ARM-style tracked resources shared by the per-provider route modules."""

from __future__ import annotations

from typing import Any

from ..core.engine import Engine, public
from ..core.errors import CloudError, not_found
from ..core.http import Request, Response
from ..core.lro import status_body
from ..core.state import State
from ..core.util import key, norm_location, now, system_data
from .locations import require_location

SUB = r"/subscriptions/(?P<sub>[^/]+)"
RG = SUB + r"/resourcegroups/(?P<rg>[^/]+)"
NAME = r"(?P<name>[^/]+)"


def resource_id(sub: str, rg: str, namespace: str, type_path: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{type_path}/{name}"


def find(st: State, rid: str) -> dict[str, Any] | None:
    r = st["resources"].get(key(rid))
    return dict(r) if r is not None else None


def must_find(st: State, rid: str, type_name: str, name: str, rg: str) -> dict[str, Any]:
    r = st["resources"].get(key(rid))
    if r is None:
        raise not_found(type_name, name, rg)
    return r


def build_tracked(
    req: Request,
    rid: str,
    type_name: str,
    name: str,
    payload: dict[str, Any],
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    """The stored body of a tracked resource after a PUT: request fields + server fields."""
    location = payload.get("location") or (existing or {}).get("location")
    if not location:
        raise CloudError(
            400,
            "LocationRequired",
            "The location property is required for this definition.",
        )
    require_location(type_name, location)
    t = now()
    created = (existing or {}).get("_created", t)
    body: dict[str, Any] = {
        "id": (existing or {}).get("id", rid),
        "name": (existing or {}).get("name", name),
        "type": type_name,
        "location": norm_location(location),
        "tags": payload.get("tags") or {},
        "properties": dict(payload.get("properties") or {}),
        "systemData": system_data(req.principal or "unknown", created, t),
        "_created": created,
    }
    return body


def put_resource(st: State, body: dict[str, Any]) -> None:
    st["resources"][key(body["id"])] = body


def ok(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, public(body), headers or {})


def list_of(st: State, sub: str, type_name: str, rg: str | None = None) -> Response:
    prefix = f"/subscriptions/{sub}/".lower()
    if rg is not None:
        prefix = f"/subscriptions/{sub}/resourcegroups/{rg}/".lower()
    items = [
        public(r)
        for k, r in st["resources"].items()
        if k.startswith(prefix) and r["type"].lower() == type_name.lower()
    ]
    return Response(200, {"value": items})


def location_poll(eng: Engine, req: Request, op_id: str) -> Response:
    """A Location-style status monitor: 202 while running, 200 (or the error) when done."""
    op = eng.operation(op_id)
    if op is None:
        raise CloudError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    if op["status"] == "InProgress":
        return Response(
            202,
            None,
            {
                "Location": eng.op_url(req.path, req.api_version),
                **eng.lro_headers(),
            },
        )
    if op["status"] == "Failed":
        err = op["error"] or {"code": "Failed", "message": "The operation failed."}
        return Response(409, {"error": err})
    return Response(200, None)


def async_poll(eng: Engine, req: Request, op_id: str) -> Response:
    """An Azure-AsyncOperation status monitor: always 200 with {status, error?}."""
    op = eng.operation(op_id)
    if op is None:
        raise CloudError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
    headers = {}
    if op["status"] == "InProgress":
        headers.update(eng.lro_headers())
    return Response(200, status_body(op, req.path), headers)
