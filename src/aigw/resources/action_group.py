"""The Azure Monitor action group the alert rules notify (issue 26): the `alerts:` e-mail
addresses and, optionally, one webhook whose URL is a secret (`alerts.webhook_url_env`).

REST: Microsoft.Insights/actionGroups, api-version 2023-01-01 (azure-mgmt-monitor 7.0.0;
Azure/azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights/stable/
2023-01-01/actionGroups_API.json). Action groups are global ("location": "Global" in the spec's
examples); the short name (at most 12 characters) is what e-mails and SMS show.

The webhook URL is never a field of the plan: Azure answers it in clear in the GET body
(`webhookReceivers[].serviceUri`), so observe compares it in memory with the URL from the
environment and keeps only the verdict (`SECRET_VALUE` when it matches or cannot be compared,
`WEBHOOK_DIFFERS` when it does not), as Key Vault secrets do.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, norm_location, to_rest
from aigw.config.naming import NameRule
from aigw.errors import AzureError
from aigw.resources import registered
from aigw.resources.base import Base, Inputs
from aigw.secrets import ALERT_WEBHOOK
from aigw.state import ABSENT, SECRET_VALUE, Key, Kind, Observed, Resource

KIND = Kind("action_group")
KEY = KIND.value  # one per environment
WEBHOOK_DIFFERS = "(another URL, not shown)"
WEBHOOK_RECEIVER = "webhook"


def _outputs(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": body.get("id")}


def from_body(body: dict[str, Any], *, webhook: str | None = None) -> Observed:
    """The Observed of an action group's GET body; `webhook`: the URL it should call (None:
    not known in this run, so not compared)."""
    props = body.get("properties") or {}
    hooks = props.get("webhookReceivers") or []
    seen: str | None = None
    if hooks:
        uris = [str(h.get("serviceUri") or "") for h in hooks]
        same = webhook is None or (
            len(uris) == 1 and hmac.compare_digest(uris[0].encode(), webhook.encode())
        )
        seen = SECRET_VALUE if same else WEBHOOK_DIFFERS
    return Observed(
        exists=True,
        fields={
            "location": norm_location(body.get("location")),
            "groupShortName": props.get("groupShortName"),
            "enabled": props.get("enabled"),
            "emails": [r.get("emailAddress") for r in props.get("emailReceivers") or []],
            "webhook": seen,
        },
        tags=body.get("tags") or {},
        outputs=_outputs(body),
    )


def _webhook(ctx: Ctx) -> str | None:
    secret = ctx.secrets.named(ALERT_WEBHOOK)
    return secret.reveal() if secret is not None else None


def observe(ctx: Ctx, res: Resource, client: Any) -> Observed:
    found = get_or_none(lambda: client.action_groups.get(ctx.rg, res.name))
    if found is None:
        return ABSENT
    return from_body(to_rest(found), webhook=_webhook(ctx))


def body_of(m: Mapping[str, Any], webhook: str | None) -> dict[str, Any]:
    """The PUT body (the common alert schema for every receiver: one payload shape)."""
    emails = [
        {"name": f"email-{i}", "emailAddress": address, "useCommonAlertSchema": True}
        for i, address in enumerate(m["emails"], start=1)
    ]
    hooks = (
        [{"name": WEBHOOK_RECEIVER, "serviceUri": webhook, "useCommonAlertSchema": True}]
        if webhook
        else []
    )
    return {
        "location": "Global",
        "tags": m["tags"],
        "properties": {
            "groupShortName": m["groupShortName"],
            "enabled": m["enabled"],
            "emailReceivers": emails,
            "webhookReceivers": hooks,
        },
    }


def ensure(ctx: Ctx, res: Resource, client: Any) -> dict[str, Any]:
    m = ctx.managed(res)  # with tags others set kept
    webhook = None
    if m.get("webhook") is not None:
        webhook = _webhook(ctx)
        if webhook is None:
            raise AzureError(
                f"no URL for the webhook of action group {res.name}",
                hint="set the environment variable alerts.webhook_url_env names",
            )
    made = client.action_groups.create_or_update(ctx.rg, res.name, body_of(m, webhook))
    return _outputs(to_rest(made))


@registered
class ActionGroupAdapter(Base):
    kind = KIND
    order = 100
    namespace = "Microsoft.Insights"
    arm_type = "actionGroups"
    # Azure: 1-260 characters, none of :<>+/&%\? (learn.microsoft.com/azure/azure-resource-
    # manager/management/resource-name-rules, Microsoft.Insights); the scheme's names keep to
    # letters, digits and '-'.
    name_rule = NameRule(
        "action group",
        1,
        260,
        r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and '-', starting and ending alphanumeric",
        tag="ag",
    )
    sdk_client = ("azure.mgmt.monitor", "MonitorManagementClient")

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        return {"id": f"/subscriptions/(example)/providers/Microsoft.Insights/{res.name}"}

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        alerts = inp.config.alerts
        if alerts is None:
            return []
        return [
            Resource(
                KEY,
                self.kind,
                inp.names[KEY],
                depends_on=self.needs(Key.resource_group),
                managed={
                    "location": "global",
                    "tags": inp.tags,
                    "groupShortName": alerts.group_short_name(inp.config.env),
                    "enabled": True,
                    "emails": list(alerts.emails),
                    # the URL is a secret: only whether Azure holds the one from the environment
                    "webhook": SECRET_VALUE if alerts.webhook_url_env else None,
                },
            )
        ]

    def from_body(self, body: dict[str, Any]) -> Observed:
        return from_body(body)

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res, self.client(ctx))

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res, self.client(ctx))

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        self.client(ctx).action_groups.delete(ctx.rg, res.name)
        return None
