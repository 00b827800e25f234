"""The Container Apps managed environment, sending logs to the workspace."""

from __future__ import annotations

from typing import Any

from aigw.azure import log_analytics
from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.model import ABSENT, Observed, Resource


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
    body = to_rest(found)
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
    law = ctx.desired.by_key()["log_analytics"].name
    body = {
        "location": m["location"],
        "tags": m["tags"],
        "properties": {
            "appLogsConfiguration": {
                "destination": "log-analytics",
                "logAnalyticsConfiguration": {
                    "customerId": ctx.output("log_analytics", "customer_id"),
                    "sharedKey": log_analytics.shared_key(ctx, law),
                },
            },
        },
    }
    poller = ctx.clients.apps().managed_environments.begin_create_or_update(ctx.rg, res.name, body)
    return _outputs(to_rest(poller.result()))


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.apps().managed_environments.begin_delete(ctx.rg, res.name).result()
