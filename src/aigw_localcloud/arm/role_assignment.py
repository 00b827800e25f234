"""Microsoft.Authorization: role assignments at any scope and built-in role definitions."""

from __future__ import annotations

import re
import time
from typing import Any

from ..core.engine import Engine, Router
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.rbac import (
    BUILT_IN,
    CONTRIBUTOR,
    OWNER,
    directory_principal_type,
    role_definition,
    role_id_from_definition_id,
)
from ..core.state import State
from ..core.util import id_in_scope, iso, key, now

router = Router()
SCOPE = r"(?P<scope>(?:/[^/]+)*?)"
RA = SCOPE + r"/providers/Microsoft\.Authorization/roleAssignments"
RD = SCOPE + r"/providers/Microsoft\.Authorization/roleDefinitions"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _scope(req: Request) -> str:
    return req.params.get("scope") or "/"


def _public(ra: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ra.items() if not k.startswith("_")}


def _principal_known(eng: Engine, st: State, principal: str) -> bool:
    if principal.lower() == st["deployer_principal_id"].lower():
        return True
    p = st["principals"].get(principal.lower()) or st["principals"].get(principal)
    # A fresh service principal replicates through the directory like the role cache does.
    return p is not None and p["created"] + eng.propagation_delay <= now()


def _authorization_failed(principal: str, action: str, scope: str) -> CloudError:
    return CloudError(
        403,
        "AuthorizationFailed",
        f"The client '{principal}' with object id '{principal}' does not have authorization to "
        f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access was "
        "recently granted, please refresh your credentials.",
    )


@router.route("PUT", RA + r"/(?P<name>[^/]+)")
def put_assignment(eng: Engine, req: Request) -> Response:
    scope, name = _scope(req), req.params["name"]
    props = (req.json() or {}).get("properties") or {}
    definition = props.get("roleDefinitionId") or ""
    principal = props.get("principalId") or ""
    principal_type = props.get("principalType")
    if not _GUID.match(name):
        raise CloudError(
            400,
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
        )
    with eng.store.write() as st:
        rid = f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}"
        if (
            st["deny_deployer"]
            and (req.principal or "").lower() == st["deployer_principal_id"].lower()
        ):
            raise _authorization_failed(
                req.principal or "", "Microsoft.Authorization/roleAssignments/write", rid
            )
        role = role_id_from_definition_id(definition)
        if role not in BUILT_IN:
            raise CloudError(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{role}' does not exist.",
            )
        if not _principal_known(eng, st, principal) and principal_type != "ServicePrincipal":
            raise CloudError(
                400,
                "PrincipalNotFound",
                f"Principal {principal.replace('-', '')} does not exist in the directory "
                f"{st['tenant_id']}. Check that you have the correct principal ID. If you are "
                "creating this principal and then immediately assigning a role, this error might "
                "be related to a replication delay. In this case, set the role assignment "
                "principalType property to a value, such as ServicePrincipal, User, or Group.  "
                "See https://aka.ms/docs-principaltype",
            )
        known = _principal_known(eng, st, principal)
        actual = directory_principal_type(st, principal) if known else None
        if principal_type and actual and principal_type != actual:
            # ARM checks a given principalType against the directory: 400 UnmatchedPrincipalType,
            # message verbatim (Azure's typo "PrinciaplType" included) as reported in public
            # issues Azure/modern-web-app-pattern-dotnet#129 and
            # Azure-Samples/azure-search-openai-demo-java#94.
            raise CloudError(
                400,
                "UnmatchedPrincipalType",
                f"The PrincipalId '{principal.replace('-', '')}' has type '{actual}' , which is "
                f"different from specified PrinciaplType '{principal_type}'.",
            )
        existing = st["role_assignments"].get(key(rid))
        if existing is not None:
            ep = existing["properties"]
            if (
                ep["principalId"].lower() != principal.lower()
                or role_id_from_definition_id(ep["roleDefinitionId"]) != role
            ):
                raise CloudError(
                    409,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",  # noqa: E501
                )
            return Response(200, _public(existing))
        for other in st["role_assignments"].values():
            op = other["properties"]
            if (
                op["principalId"].lower() == principal.lower()
                and role_id_from_definition_id(op["roleDefinitionId"]) == role
                and key(op["scope"]) == key(scope)
            ):
                raise CloudError(409, "RoleAssignmentExists", "The role assignment already exists.")
        t = now()
        body = {
            "properties": {
                "roleDefinitionId": f"/subscriptions/{st['subscription_id']}/providers/Microsoft.Authorization/roleDefinitions/{role}",  # noqa: E501
                "principalId": principal,
                "principalType": principal_type or actual or "User",
                "scope": scope,
                "condition": props.get("condition"),
                "conditionVersion": props.get("conditionVersion"),
                "createdOn": iso(t),
                "updatedOn": iso(t),
                "createdBy": req.principal,
                "updatedBy": req.principal,
                "delegatedManagedIdentityResourceId": None,
                "description": props.get("description"),
            },
            "id": rid,
            "type": "Microsoft.Authorization/roleAssignments",
            "name": name,
            "_created": t,
        }
        st["role_assignments"][key(rid)] = body
    time.sleep(eng.timing.seconds("roleassignment.create"))
    return Response(201, _public(body))


@router.route("GET", RA + r"/(?P<name>[^/]+)")
def get_assignment(eng: Engine, req: Request) -> Response:
    rid = f"{_scope(req).rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{req.params['name']}"  # noqa: E501
    with eng.store.read() as st:
        ra = st["role_assignments"].get(key(rid))
    if ra is None:
        raise CloudError(
            404,
            "RoleAssignmentNotFound",
            f"The role assignment '{req.params['name']}' is not found.",
        )
    return Response(200, _public(ra))


@router.route("DELETE", RA + r"/(?P<name>[^/]+)")
def delete_assignment(eng: Engine, req: Request) -> Response:
    rid = f"{_scope(req).rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{req.params['name']}"  # noqa: E501
    with eng.store.write() as st:
        if (
            st["deny_deployer"]
            and (req.principal or "").lower() == st["deployer_principal_id"].lower()
        ):
            raise _authorization_failed(
                req.principal or "", "Microsoft.Authorization/roleAssignments/delete", rid
            )
        ra = st["role_assignments"].pop(key(rid), None)
    if ra is None:
        return Response(204)
    return Response(200, _public(ra))


def deployer_standing_assignment(st: State) -> dict[str, Any]:
    """The deployer's role on the whole subscription, which the local cloud keeps implicit:
    Owner, or Contributor (no Microsoft.Authorization/*/Write) while `deny_deployer` is set.
    Listed like any assignment (roleAssignments 2022-04-01 RoleAssignments_ListForScope)."""
    sub = f"/subscriptions/{st['subscription_id']}"
    role = CONTRIBUTOR if st["deny_deployer"] else OWNER
    name = "0000aaaa-0000-4000-8000-" + st["deployer_principal_id"].replace("-", "")[:12]
    return {
        "properties": {
            "roleDefinitionId": f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principalId": st["deployer_principal_id"],
            "principalType": directory_principal_type(st, st["deployer_principal_id"]),
            "scope": sub,
            "condition": None,
            "conditionVersion": None,
            "createdOn": "2024-01-01T00:00:00.0000000Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": None,
        },
        "id": f"{sub}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "type": "Microsoft.Authorization/roleAssignments",
        "name": name,
    }


_FILTER_PRINCIPAL = re.compile(r"(?:principalId\s+eq\s+|assignedTo\()\s*'([^']+)'", re.I)


@router.route("GET", RA)
def list_assignments(eng: Engine, req: Request) -> Response:
    scope = _scope(req)
    flt = req.query.get("$filter", "")
    at_scope = "atscope()" in flt.lower().replace(" ", "")
    m = _FILTER_PRINCIPAL.search(flt)
    with eng.store.read() as st:
        items = []
        for ra in st["role_assignments"].values():
            ra_scope = ra["properties"]["scope"]
            above = id_in_scope(scope, ra_scope) if ra_scope != "/" else True
            below = id_in_scope(ra_scope, scope) if scope != "/" else True
            if not (above or (below and not at_scope)):
                continue
            if m and ra["properties"]["principalId"].lower() != m.group(1).lower():
                continue
            items.append(_public(ra))
        if m and m.group(1).lower() == st["deployer_principal_id"].lower():
            items.append(deployer_standing_assignment(st))
    return Response(200, {"value": items})


@router.route("GET", RD + r"/(?P<name>[^/]+)")
def get_definition(eng: Engine, req: Request) -> Response:
    role = req.params["name"].lower()
    if role not in BUILT_IN:
        raise CloudError(
            404, "RoleDefinitionDoesNotExist", f"The role definition '{role}' could not be found."
        )
    return Response(200, role_definition(eng.subscription_id, role, _scope(req)))


@router.route("GET", RD)
def list_definitions(eng: Engine, req: Request) -> Response:
    flt = req.query.get("$filter", "")
    m = re.search(r"roleName\s+eq\s+'([^']+)'", flt, re.I)
    sub = eng.subscription_id
    items = [role_definition(sub, r, _scope(req)) for r in BUILT_IN]
    if m:
        items = [d for d in items if d["properties"]["roleName"].lower() == m.group(1).lower()]
    return Response(200, {"value": items})
