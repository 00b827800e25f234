"""Role assignments on the vault: the app's identity reads secrets, the deployer writes them.

Assignment names are deterministic (see desired.role_assignment_name), so a rerun or a
concurrent deploy PUTs the same assignment and never adds a duplicate.
"""

from __future__ import annotations

from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.errors import error_code
from aigw.azure.rest import get_or_none, to_rest
from aigw.desired import Resource
from aigw.plan import ABSENT, Observed, resolve


def _role_definition_id(ctx: Ctx, guid: str) -> str:
    return f"/subscriptions/{ctx.sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def observe(ctx: Ctx, res: Resource) -> Observed:
    ops = ctx.clients.authorization().role_assignments
    found = get_or_none(lambda: ops.get(res.managed["scope"], res.name))
    if found is None:
        return ABSENT
    props = to_rest(found).get("properties") or {}
    return Observed(
        exists=True,
        fields={
            "principalId": props.get("principalId"),
            "roleDefinitionId": str(props.get("roleDefinitionId", "")).rsplit("/", 1)[-1],
        },
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, Any]:
    m = resolve(res.managed, ctx.outputs)
    ops = ctx.clients.authorization().role_assignments
    body = {
        "properties": {
            "roleDefinitionId": _role_definition_id(ctx, m["roleDefinitionId"]),
            "principalId": m["principalId"],
        }
    }
    if m.get("principalType"):  # None for a deployer whose token does not say what it is
        body["properties"]["principalType"] = m["principalType"]

    # PrincipalNotFound (a fresh identity) is retried by apply, like every RETRYABLE error.
    try:
        ops.create(m["scope"], res.name, body)
    except Exception as err:
        if error_code(err) != "RoleAssignmentExists":
            raise
        # the same grant exists under another name: nothing to add
    return {"principal_id": m["principalId"]}


def delete(ctx: Ctx, res: Resource) -> None:
    ops = ctx.clients.authorization().role_assignments
    get_or_none(lambda: ops.delete(res.managed["scope"], res.name))
