"""The Log Analytics workspace the Container Apps environment sends logs to."""

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
        "customer_id": props.get("customerId"),
        "provisioning_state": props.get("provisioningState"),
    }


def observe(ctx: Ctx, res: Resource) -> Observed:
    ws = get_or_none(lambda: ctx.clients.loganalytics().workspaces.get(ctx.rg, res.name))
    if ws is None:
        return ABSENT
    return from_body(to_rest(ws))


def from_body(body: dict[str, Any]) -> Observed:
    """The Observed of a workspace's GET body (tests/fixtures/observe/)."""
    props = body.get("properties") or {}
    return Observed(
        exists=True,
        fields={
            "location": norm_location(body.get("location")),
            "sku": (props.get("sku") or {}).get("name"),
            "retentionInDays": props.get("retentionInDays"),
        },
        tags=body.get("tags") or {},
        outputs=_outputs(body),
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, Any]:
    m = ctx.managed(res)  # with tags others set kept
    body = {
        "location": m["location"],
        "tags": m["tags"],
        "properties": {"sku": {"name": m["sku"]}, "retentionInDays": m["retentionInDays"]},
    }
    poller = ctx.clients.loganalytics().workspaces.begin_create_or_update(ctx.rg, res.name, body)
    return _outputs(to_rest(poller.result()))


def shared_key(ctx: Ctx, name: str) -> str:
    keys = to_rest(ctx.clients.loganalytics().shared_keys.get_shared_keys(ctx.rg, name))
    return str(keys.get("primarySharedKey"))


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.loganalytics().workspaces.begin_delete(ctx.rg, res.name).result()


@registered
class LogAnalyticsAdapter(Base):
    kind = Kind.log_analytics
    order = 30
    namespace = "Microsoft.OperationalInsights"
    arm_type = "workspaces"
    name_rule = NameRule(
        "log analytics workspace",
        4,
        63,
        r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and '-', starting and ending alphanumeric",
        tag="law",
    )
    located = True

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        return {"customer_id": "bbbbbbbb-0000-0000-0000-000000000002"}

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        return [
            Resource(
                Key.log_analytics,
                self.kind,
                inp.names.log_analytics,
                depends_on=self.needs(Key.resource_group),
                managed={
                    "location": inp.config.location,
                    "tags": inp.tags,
                    "sku": "PerGB2018",
                    "retentionInDays": 30,
                },
            )
        ]

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res)

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res)

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        delete(ctx, res)
        return None
