"""The Container Apps managed environment, sending logs to the workspace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.model import ABSENT, Key, Kind, Observed, Ref, Resource
from aigw.resources import log_analytics, registered
from aigw.resources.base import Base, Inputs


def _outputs(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties") or {}
    return {
        "id": body.get("id"),
        "default_domain": props.get("defaultDomain"),
        "provisioning_state": props.get("provisioningState"),
    }


def observe(ctx: Ctx, res: Resource) -> Observed:
    ops = ctx.clients.apps().managed_environments
    found = get_or_none(lambda: ops.get(ctx.rg, res.name))
    if found is None:
        return ABSENT
    return from_body(to_rest(found))


def from_body(body: dict[str, Any]) -> Observed:
    """The Observed of a managed environment's GET body (tests/fixtures/observe/)."""
    logs = ((body.get("properties") or {}).get("appLogsConfiguration") or {}).get(
        "logAnalyticsConfiguration"
    ) or {}
    return Observed(
        exists=True,
        fields={
            "location": norm_location(body.get("location")),
            "logAnalyticsCustomerId": logs.get("customerId"),
        },
        tags=body.get("tags") or {},
        outputs=_outputs(body),
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, Any]:
    m = ctx.managed(res)  # with tags others set kept
    law = ctx.desired.by_key()[Key.log_analytics].name
    body = {
        "location": m["location"],
        "tags": m["tags"],
        "properties": {
            "appLogsConfiguration": {
                "destination": "log-analytics",
                "logAnalyticsConfiguration": {
                    "customerId": ctx.output(Key.log_analytics, "customer_id"),
                    "sharedKey": log_analytics.shared_key(ctx, law),
                },
            },
        },
    }
    poller = ctx.clients.apps().managed_environments.begin_create_or_update(ctx.rg, res.name, body)
    return _outputs(to_rest(poller.result()))


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.apps().managed_environments.begin_delete(ctx.rg, res.name).result()


@registered
class ContainerEnvAdapter(Base):
    kind = Kind.container_env
    order = 70
    namespace = "Microsoft.App"
    arm_type = "managedEnvironments"

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        return [
            Resource(
                Key.container_env,
                self.kind,
                inp.names.container_env,
                depends_on=self.needs(Key.log_analytics),
                managed={
                    "location": inp.config.location,
                    "tags": inp.tags,
                    "logAnalyticsCustomerId": Ref(Key.log_analytics, "customer_id"),
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
