"""Role assignments on the vault: the app's identity reads secrets, the deployer writes them.

Assignment names are deterministic (see desired.role_assignment_name), so a rerun or a
concurrent deploy PUTs the same assignment and never adds a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.errors import error_code
from aigw.azure.rest import get_or_none, to_rest
from aigw.errors import AigwError
from aigw.model import ABSENT, Kind, Observed, Resource, resolve
from aigw.resources import registered
from aigw.resources.base import Base


def _role_definition_id(ctx: Ctx, guid: str) -> str:
    return f"/subscriptions/{ctx.sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _scope(ctx: Ctx, res: Resource) -> str:
    """The assignment's scope; for a registry (`registryServer`), its ARM id found by name; for
    the Azure OpenAI account (`openaiAccount`), its ARM id given or found by endpoint."""
    if "openaiAccount" in res.managed:
        from aigw.resources.openai_account import account_scope

        return account_scope(ctx, res)
    if "registryServer" not in res.managed:
        return str(res.managed["scope"])
    server = str(res.managed["registryServer"])
    cached = ctx.outputs.get(res.key, {}).get("scope")
    if cached:
        return str(cached)
    name = server.split(".", 1)[0]
    query = f"resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq '{name}'"
    found = [r.id for r in ctx.clients.resources().resources.list(filter=query)]
    if not found:
        raise AigwError(
            f"container registry {server} (gateway.registry.server) is not in subscription "
            f"{ctx.sub}",
            hint="check the server name, or import the image into a registry of this subscription",
        )
    ctx.set_outputs(res.key, {"scope": found[0]})
    return str(found[0])


def observe(ctx: Ctx, res: Resource) -> Observed:
    ops = ctx.clients.authorization().role_assignments
    scope = _scope(ctx, res)
    found = get_or_none(lambda: ops.get(scope, res.name))
    if found is None:
        return ABSENT
    props = to_rest(found).get("properties") or {}
    return Observed(
        exists=True,
        fields={
            "principalId": props.get("principalId"),
            "roleDefinitionId": str(props.get("roleDefinitionId", "")).rsplit("/", 1)[-1],
        },
        outputs={"scope": scope} if set(res.managed) & {"registryServer", "openaiAccount"} else {},
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
        ops.create(_scope(ctx, res), res.name, body)
    except Exception as err:
        if error_code(err) != "RoleAssignmentExists":
            raise
        # the same grant exists under another name: nothing to add
    return {"principal_id": m["principalId"]}


def delete(ctx: Ctx, res: Resource) -> None:
    ops = ctx.clients.authorization().role_assignments
    scope = _scope(ctx, res)
    get_or_none(lambda: ops.delete(scope, res.name))


@registered
class RoleAssignmentAdapter(Base):
    kind = Kind.role_assignment
    needs_role_wait = True  # the principal may not have reached Entra ID's replicas yet
    immutable = True  # its name is derived from scope, principal and role

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res)

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res)

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        delete(ctx, res)
        return None
