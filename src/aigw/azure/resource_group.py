"""The environment's resource group."""

from __future__ import annotations

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.desired import Resource
from aigw.plan import ABSENT, Observed


def observe(ctx: Ctx, res: Resource, *, contents: bool = False) -> Observed:
    client = ctx.clients.resources()
    rg = get_or_none(lambda: client.resource_groups.get(res.name))
    if rg is None:
        return ABSENT
    body = to_rest(rg)
    foreign: tuple[str, ...] = ()
    if contents:
        foreign = tuple(
            str(r.name)
            for r in client.resources.list_by_resource_group(res.name)
            if (r.tags or {}).get("managed-by") != "aigw"
        )
    return Observed(
        exists=True,
        fields={"location": norm_location(body.get("location"))},
        tags=body.get("tags") or {},
        outputs={"id": body.get("id")},
        foreign_contents=foreign,
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, str]:
    m = res.managed
    rg = ctx.clients.resources().resource_groups.create_or_update(
        res.name, {"location": m["location"], "tags": m["tags"]}
    )
    return {"id": to_rest(rg).get("id", "")}


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.resources().resource_groups.begin_delete(res.name).result()
