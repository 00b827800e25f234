"""The environment's resource group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.config.naming import NameRule
from aigw.owned import foreign_names
from aigw.resources import registered
from aigw.resources.base import Base, Inputs
from aigw.state import ABSENT, Key, Kind, Observed, Resource


def _foreign(ctx: Ctx, name: str) -> tuple[str, ...]:
    """What the group holds that this environment does not own (all three ownership tags)."""
    listed = ctx.clients.resources().resources.list_by_resource_group(name)
    return foreign_names([(str(r.name), r.tags) for r in listed], ctx.desired.tags)


def observe(ctx: Ctx, res: Resource, *, contents: bool = False) -> Observed:
    client = ctx.clients.resources()
    rg = get_or_none(lambda: client.resource_groups.get(res.name))
    if rg is None:
        return ABSENT
    foreign: tuple[str, ...] = ()
    if contents:
        foreign = _foreign(ctx, res.name)
    return from_body(to_rest(rg), foreign=foreign)


def from_body(body: dict[str, Any], *, foreign: tuple[str, ...] = ()) -> Observed:
    """The Observed of a resource group's GET body and what it holds that is not ours."""
    return Observed(
        exists=True,
        fields={"location": norm_location(body.get("location"))},
        tags=body.get("tags") or {},
        outputs={"id": body.get("id")},
        foreign_contents=foreign,
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, str]:
    m = ctx.managed(res)  # with tags others set kept
    rg = ctx.clients.resources().resource_groups.create_or_update(
        res.name, {"location": m["location"], "tags": m["tags"]}
    )
    return {"id": to_rest(rg).get("id", "")}


def delete(ctx: Ctx, res: Resource) -> dict[str, str]:
    """Delete the group only if, listed again right now (after aigw's own resources went),
    it holds nothing foreign: a group DELETE takes everything inside with it, so a resource
    created after the plan was read must be seen here. Otherwise keep it and say why."""
    foreign = _foreign(ctx, res.name)
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        shown = ", ".join(foreign[:3]) + more
        kept = (
            f"kept resource group {res.name}: it holds {len(foreign)} resource(s) aigw does not "
            f"own for this environment ({shown}); delete them, then run destroy again"
        )
        return {"kept": kept}
    ctx.clients.resources().resource_groups.begin_delete(res.name).result()
    return {}


@registered
class ResourceGroupAdapter(Base):
    kind = Kind.resource_group
    order = 20
    name_rule = NameRule(
        "resource group",
        1,
        90,
        r"[-\w._()]*[-\w_()]",
        "letters, digits, _-.(), no trailing '.'",
        tag="rg",
    )

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        managed = {"location": inp.config.location, "tags": inp.tags}
        return [Resource(Key.resource_group, self.kind, inp.names.resource_group, managed=managed)]

    def arm_id(self, inp: Inputs, name: str) -> str:
        return inp.rg_id

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res, contents=destroy)  # destroy lists what else it holds

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res)

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        return delete(ctx, res)
