"""The Container Apps managed environment, sending logs to the workspace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.config.naming import NameRule
from aigw.resources import log_analytics, registered
from aigw.resources.base import Base, Finding, Inputs
from aigw.state import ABSENT, Key, Kind, Observed, Ref, Resource

NAMESPACE = "Microsoft.App"


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


ENV_QUOTA = (
    "ManagedEnvironmentCount"  # the one usage Microsoft.App answers per region (Usages_List)
)
QUOTA_FIX = (
    "delete an unused Container Apps environment in {loc}, or request more quota "
    "(az quota update --resource-name ManagedEnvironmentCount --scope "
    "/subscriptions/{sub}/providers/Microsoft.App/locations/{loc} --limit-object value=<n>, or "
    "the portal's Quotas page, provider Azure Container Apps)"
)


def environment_quota(ctx: Ctx, exists: bool) -> Finding:
    """Room for one more Container Apps environment in the region? GET .../Microsoft.App/
    locations/{location}/usages (Usages_List, 2026-07-01): ManagedEnvironmentCount."""
    from azure.core.exceptions import HttpResponseError

    from aigw.azure.errors import error_code

    loc = ctx.desired.location
    check = "environment quota"
    try:
        usages = list(ctx.clients.apps().usages.list(loc))
    except HttpResponseError as err:
        code = error_code(err) or err.status_code
        return Finding(check, True, f"not checked in {loc} ({code})")
    usage = next((u for u in usages if (u.name and u.name.value) == ENV_QUOTA), None)
    if usage is None:
        return Finding(check, True, f"not checked: {loc} reports no {ENV_QUOTA}")
    used, limit = int(usage.current_value), int(usage.limit)
    detail = f"{used} of {limit} Container Apps environments used in {loc}"
    if exists:
        return Finding(check, True, f"{detail} (this one exists)")
    if used >= limit:
        return Finding(
            check,
            False,
            f"{detail}: deploy cannot create another",
            QUOTA_FIX.format(loc=loc, sub=ctx.sub),
        )
    return Finding(check, True, detail)


def quota_unless_refused(
    ctx: Ctx, res: Resource, observed: Mapping[str, Observed], refused: set[str]
) -> Finding:
    """The quota check, unless the location is refused or Microsoft.App is not registered (its
    API would answer 409, and the SDK's auto-registration would write)."""
    app = observed.get(f"provider:{NAMESPACE}")
    if "location" in refused:
        return Finding("environment quota", True, "not checked: the location is refused")
    if app is not None and app.fields.get("registrationState") != "Registered":
        return Finding("environment quota", True, f"not checked: {NAMESPACE} is not registered")
    return environment_quota(ctx, observe(ctx, res).exists)


def delete(ctx: Ctx, res: Resource) -> None:
    ctx.clients.apps().managed_environments.begin_delete(ctx.rg, res.name).result()


@registered
class ContainerEnvAdapter(Base):
    kind = Kind.container_env
    order = 70
    namespace = NAMESPACE
    arm_type = "managedEnvironments"
    name_rule = NameRule(
        "container apps environment",
        2,
        60,
        r"[a-z0-9][a-z0-9-]*[a-z0-9]",
        "lowercase letters, digits and '-', starting and ending alphanumeric",
        tag="cae",
        lowercase=True,
    )
    located = True

    def doctor(
        self, ctx: Ctx, res: Resource, observed: Mapping[str, Observed], refused: set[str]
    ) -> list[Finding]:
        return [quota_unless_refused(ctx, res, observed, refused)]

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
