"""The user-assigned managed identity the container app reads Key Vault with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.config.naming import NameRule
from aigw.resources import registered
from aigw.resources.base import Base, Inputs
from aigw.state import ABSENT, Key, Kind, Observed, Resource


def _outputs(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    return {
        "id": body.get("id"),
        "principal_id": props.get("principalId"),
        "client_id": props.get("clientId"),
    }


def observe(ctx: Ctx, res: Resource) -> Observed:
    ops = ctx.clients.msi().user_assigned_identities
    found = get_or_none(lambda: ops.get(ctx.rg, res.name))
    if found is None:
        return ABSENT
    return from_body(to_rest(found))


def from_body(body: dict[str, Any]) -> Observed:
    """The Observed of an identity's GET body (tests/fixtures/observe/)."""
    return Observed(
        exists=True,
        fields={"location": norm_location(body.get("location"))},
        tags=body.get("tags") or {},
        outputs=_outputs(body),
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, Any]:
    m = ctx.managed(res)  # with tags others set kept
    ops = ctx.clients.msi().user_assigned_identities
    found = ops.create_or_update(ctx.rg, res.name, {"location": m["location"], "tags": m["tags"]})
    return _outputs(to_rest(found))


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.msi().user_assigned_identities.delete(ctx.rg, res.name)


@registered
class IdentityAdapter(Base):
    kind = Kind.identity
    order = 40
    namespace = "Microsoft.ManagedIdentity"
    arm_type = "userAssignedIdentities"
    name_rule = NameRule(
        "managed identity",
        3,
        128,
        r"[A-Za-z0-9][A-Za-z0-9_-]*",
        "letters, digits, '-' and '_', starting alphanumeric",
        tag="id",
    )
    located = True

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        return {"principal_id": "aaaaaaaa-0000-0000-0000-000000000001", "client_id": "c1"}

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        return [
            Resource(
                Key.identity,
                self.kind,
                inp.names.identity,
                depends_on=self.needs(Key.resource_group),
                managed={"location": inp.config.location, "tags": inp.tags},
            )
        ]

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res)

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res)

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        delete(ctx, res)
        return None
