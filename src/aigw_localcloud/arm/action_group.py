"""Microsoft.Insights: action groups (synchronous, as in Azure), the receivers alerts notify.

Azure/azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights/stable/
2023-01-01/actionGroups_API.json (the api-version azure-mgmt-monitor 7.0.0 sends):
`ActionGroups_CreateOrUpdate` PUT answers 200 (updated) or 201 (created) with the
ActionGroupResource; `ActionGroups_Get` 200; `ActionGroups_Delete` 200, or 204 when it does not
exist; `ActionGroups_Update` PATCH changes tags and `enabled` only ("To update other fields use
the CreateOrUpdate method"); `ActionGroups_ListByResourceGroup`. The errors are the spec's
`ErrorResponse`, `{code, message}` at the top level, not ARM's `{error: {...}}` (Azure answered
`{"Code": "GroupShortNameIsTooLong", ...}` so in Azure/azure-rest-api-specs#2840; the spec's
lower-case names are used here, as the SDK model reads them).

Rules, each from the spec unless said otherwise:
- `location`: action groups live in "Global" (the spec's examples, getActionGroup.json answers
  `"location": "Global"`); regional action groups exist on Azure but are not emulated: any other
  location is ARM's LocationNotAvailableForResourceType (stricter).
- `properties.groupShortName` and `properties.enabled` are required; the short name has
  maxLength 12: a longer one is 400 GroupShortNameIsTooLong, "The action group short name '<n>'
  is too long. Please specify a short name with '12' or less characters." (Azure's message,
  quoted in Azure/bellhop#72 and Azure/AzureMonitorStarterPacks#109).
- `emailReceivers[]` need `name` and `emailAddress`, `webhookReceivers[]` `name` and
  `serviceUri`; "Names must be unique across all receivers within an action group". The answer
  adds what Azure adds: `status: Enabled` on e-mail receivers, `useCommonAlertSchema: false`
  (and `useAadAuth: false` on webhooks) where not sent, an empty list for each receiver type
  (getActionGroup.json).
- limits (learn.microsoft.com/azure/azure-monitor/service-limits, "Action groups"): 1,000
  e-mail actions, an e-mail address at most 64 characters, 10 webhook actions per action group.
  Azure's error code for these is not documented: `BadRequest` here (chosen).
- Other receiver types (SMS, voice, ITSM, Logic Apps, functions, runbooks, Event Hubs, ARM roles,
  app push) are not emulated: a non-empty list of them is a 400 (stricter), so a test never
  passes on a receiver the local cloud ignores. Nothing is ever sent to a receiver.
- An e-mail address must look like one (one '@', a dotted domain) and a webhook `serviceUri` be
  an http(s) URL: Azure's exact checks are not documented, so these are stricter guesses.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.engine import Engine, Router
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.util import key
from .common import NAME, RG, SUB, build_tracked, list_of, ok, put_resource, resource_id
from .locations import provides

router = Router()
NS = "Microsoft.Insights"
TYPE = "Microsoft.Insights/actionGroups"
PATH = RG + r"/providers/Microsoft\.Insights/actionGroups/" + NAME
provides(NS, "actionGroups", ("Global",))

SHORT_NAME_MAX = 12
MAX_EMAILS = 1000
MAX_EMAIL_LENGTH = 64
MAX_WEBHOOKS = 10
RECEIVER_LISTS = (
    "emailReceivers",
    "smsReceivers",
    "webhookReceivers",
    "itsmReceivers",
    "azureAppPushReceivers",
    "automationRunbookReceivers",
    "voiceReceivers",
    "logicAppReceivers",
    "azureFunctionReceivers",
    "armRoleReceivers",
    "eventHubReceivers",
)
EMULATED = ("emailReceivers", "webhookReceivers")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_URI = re.compile(r"https?://[^\s/?#]+[^\s]*")
# Resource names: 1-260 characters, none of :<>+/&%\? or control characters, not ending with a
# space or a period (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-
# rules, Microsoft.Insights "actionGroups").
_NAME_RULE = re.compile(r"[^:<>+/&%\\?\x00-\x1f]{0,259}[^:<>+/&%\\?\x00-\x1f. ]")


class ActionGroupError(CloudError):
    """The spec's ErrorResponse: `{code, message}` at the top level."""

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def _bad(message: str, code: str = "BadRequest") -> ActionGroupError:
    return ActionGroupError(400, code, message)


def _rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "actionGroups", p["name"])


def _not_found(req: Request) -> ActionGroupError:
    return ActionGroupError(
        404,
        "ResourceNotFound",
        f"The Resource '{TYPE}/{req.params['name']}' under resource group "
        f"'{req.params['rg']}' was not found.",
    )


def _receivers(props: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each receiver list checked and completed as Azure answers it."""
    out: dict[str, list[dict[str, Any]]] = {}
    names: list[str] = []
    for field in RECEIVER_LISTS:
        items = props.get(field) or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _bad(f"'{field}' must be a list of receivers")
        if items and field not in EMULATED:
            raise _bad(f"'{field}': the local cloud emulates e-mail and webhook receivers only")
        done = []
        for item in items:
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                raise _bad(f"'{field}': every receiver needs a name")
            names.append(name.lower())
            done.append(_email(item) if field == "emailReceivers" else _webhook(item))
        out[field] = done
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise _bad(
            f"Receiver name '{dupes[0]}' is used twice: names must be unique across all "
            "receivers within an action group"
        )
    if len(out["emailReceivers"]) > MAX_EMAILS:
        raise _bad(f"An action group can have at most {MAX_EMAILS} email receivers")
    if len(out["webhookReceivers"]) > MAX_WEBHOOKS:
        raise _bad(f"An action group can have at most {MAX_WEBHOOKS} webhook receivers")
    return out


def _email(item: dict[str, Any]) -> dict[str, Any]:
    address = item.get("emailAddress")
    if not isinstance(address, str) or not _EMAIL.fullmatch(address):
        raise _bad(f"Email receiver '{item.get('name')}' needs a valid emailAddress")
    if len(address) > MAX_EMAIL_LENGTH:
        raise _bad(
            f"Email receiver '{item.get('name')}': the email address is longer than "
            f"{MAX_EMAIL_LENGTH} characters"
        )
    return {
        "name": item["name"],
        "emailAddress": address,
        "useCommonAlertSchema": bool(item.get("useCommonAlertSchema", False)),
        "status": "Enabled",
    }


def _webhook(item: dict[str, Any]) -> dict[str, Any]:
    uri = item.get("serviceUri")
    if not isinstance(uri, str) or not _URI.fullmatch(uri):
        # the URI may carry a token: it is never echoed back
        raise _bad(f"Webhook receiver '{item.get('name')}' needs an http(s) serviceUri")
    if item.get("useAadAuth"):
        raise _bad(f"Webhook receiver '{item.get('name')}': useAadAuth is not emulated")
    return {
        "name": item["name"],
        "serviceUri": uri,
        "useCommonAlertSchema": bool(item.get("useCommonAlertSchema", False)),
        "useAadAuth": False,
    }


def _properties(payload: dict[str, Any]) -> dict[str, Any]:
    props = payload.get("properties")
    if not isinstance(props, dict):
        raise _bad("The request needs 'properties' with groupShortName and enabled")
    short = props.get("groupShortName")
    if not isinstance(short, str) or not short:
        raise _bad("'groupShortName' is required")
    if len(short) > SHORT_NAME_MAX:
        raise _bad(
            f"The action group short name '{short}' is too long. Please specify a short name "
            f"with '{SHORT_NAME_MAX}' or less characters.",
            "GroupShortNameIsTooLong",
        )
    if not isinstance(props.get("enabled"), bool):
        raise _bad("'enabled' is required: true or false")
    return {"groupShortName": short, "enabled": props["enabled"], **_receivers(props)}


@router.route("PUT", PATH)
def put_action_group(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        # ARM first (the group, the provider), then the resource provider's own checks
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        if not _NAME_RULE.fullmatch(req.params["name"]):
            raise _bad(
                f"The resource name '{req.params['name']}' is invalid: 1-260 characters, none "
                "of :<>+/&%\\? or control characters, not ending with a space or a period.",
                "InvalidResourceName",
            )
        if not isinstance(payload, dict):
            raise _bad("The request body must be an action group")
        props = _properties(payload)
        rid = _rid(req)
        existing = st["resources"].get(key(rid))
        body = build_tracked(req, rid, TYPE, req.params["name"], payload, existing)
        body["location"] = "Global"  # as getActionGroup.json answers it
        body["properties"] = props
        put_resource(st, body)
    return ok(body, 200 if existing else 201)


@router.route("GET", PATH)
def get_action_group(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        found = st["resources"].get(key(_rid(req)))
        if found is None:
            raise _not_found(req)
        return ok(found)


@router.route("PATCH", PATH)
def patch_action_group(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        found = st["resources"].get(key(_rid(req)))
        if found is None:
            raise _not_found(req)
        if "tags" in payload:
            found["tags"] = payload["tags"] or {}
        enabled = (payload.get("properties") or {}).get("enabled")
        if isinstance(enabled, bool):
            found["properties"]["enabled"] = enabled
        return ok(found)


@router.route("DELETE", PATH)
def delete_action_group(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        gone = st["resources"].pop(key(_rid(req)), None)
    return Response(200 if gone is not None else 204)


@router.route("GET", RG + r"/providers/Microsoft\.Insights/actionGroups")
def list_action_groups(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return list_of(st, req.params["sub"], TYPE, req.params["rg"])


@router.route("GET", SUB + r"/providers/Microsoft\.Insights/actionGroups")
def list_all_action_groups(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_subscription(st, req.params["sub"])
        return list_of(st, req.params["sub"], TYPE)
