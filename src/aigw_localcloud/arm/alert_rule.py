"""Microsoft.Insights: scheduled query rules (log search alert rules; synchronous, as in Azure).

Azure/azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights/stable/
2023-12-01/scheduledQueryRule_API.json (the api-version azure-mgmt-monitor 7.0.0 sends):
`ScheduledQueryRules_CreateOrUpdate` PUT answers 200 (updated) or 201 (created);
`ScheduledQueryRules_Get` 200; `ScheduledQueryRules_Delete` 200, or 204 when it does not exist;
`ScheduledQueryRules_Update` PATCH; `ScheduledQueryRules_ListByResourceGroup`. Errors are the
spec's ErrorContract, ARM's `{error: {code, message}}`.

Rules, each from the spec unless said otherwise:
- `location` and `properties` are required; in `properties`, `enabled`, `criteria` and
  `scopes`; for the kind LogAlert (the default kind) also `severity` (0-4),
  `evaluationFrequency`, `windowSize` and, in each condition, `timeAggregation` (Count, Average,
  Minimum, Maximum, Total), `operator` (Equals, GreaterThan, GreaterThanOrEqual, LessThan,
  LessThanOrEqual) and `threshold` ("Relevant and required only for rules of the kind
  LogAlert"). `failingPeriods.minFailingPeriodsToAlert` "Should be smaller or equal to
  numberOfEvaluationPeriods". The kind LogToMetric is not emulated (400, stricter).
- The evaluation frequency is "anywhere from one minute to one day"; the query's time range at
  most two days; up to six dimensions; a calculated measure ("Calculation of a numeric column")
  names its `metricMeasureColumn`, "Table rows" counts rows (learn.microsoft.com/azure/
  azure-monitor/alerts/alerts-create-log-alert-rule). Stricter, not documented: `windowSize` not
  shorter than `evaluationFrequency` (calls between two runs would never be read), exactly one
  condition in `criteria.allOf`, durations written as ISO 8601 days/hours/minutes.
- `scopes`: each must be a Log Analytics workspace that exists (stricter: Azure also takes other
  resources, and its exact answer to a missing scope is not documented, chosen here: 400
  `ScopeNotFound` naming it), in the rule's region (stricter: not verified that Azure requires
  it). `actions.actionGroups`: each must be an existing action group (stricter, same).
- The query is validated against the workspace unless `skipQueryValidation` is true ("The flag
  which indicates whether the provided query should be validated or not"; it exists "so that a
  rule can be deployed before a table exists", the spec's author in Azure/azure-rest-api-specs
  #32650). Validation runs it as the Logs query API would: before the table's first row it is a
  400 BadRequest whose message is the query API's own error body (SEM0100 "Failed to resolve
  table or column expression named ..."), as Azure answered a scheduled query rule PUT in
  CDCgov/prime-reportstream#11773 and learntocloud/learn-to-cloud-app#586. With or without
  validation the query must be in the KQL subset the local cloud answers (kql.py): anything else
  is a 400 (stricter: Azure would keep a rule whose query it can run and the local cloud cannot).
- The answer adds `createdWithApiVersion` (the api-version of the first PUT),
  `isLegacyLogAnalyticsRule: false`, `isWorkspaceAlertsStorageConfigured: false`, `kind` and
  `autoMitigate` (default true).

Not emulated: evaluating the rules on their schedule, firing alerts and notifying action groups
(tests run a rule's query over its window through the Logs query API and apply its criteria).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ..apps import console_logs
from ..core.engine import Engine, Router
from ..core.errors import CloudError, not_found
from ..core.http import Request, Response
from ..core.util import key, norm_location
from . import kql, log_analytics
from .common import NAME, RG, SUB, build_tracked, list_of, must_find, ok, put_resource, resource_id
from .locations import GENERAL, provides

router = Router()
NS = "Microsoft.Insights"
TYPE = "Microsoft.Insights/scheduledQueryRules"
PATH = RG + r"/providers/Microsoft\.Insights/scheduledQueryRules/" + NAME
provides(NS, "scheduledQueryRules", GENERAL)

AGGREGATIONS = ("Count", "Average", "Minimum", "Maximum", "Total")
OPERATORS = ("Equals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual")
MIN_FREQUENCY = timedelta(minutes=1)
MAX_FREQUENCY = timedelta(days=1)
MAX_WINDOW = timedelta(days=2)
MAX_DIMENSIONS = 6
WORKSPACE_TYPE = "microsoft.operationalinsights/workspaces"
ACTION_GROUP_TYPE = "microsoft.insights/actiongroups"
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")
# Resource names: 1-260 characters, none of *<>%{}&:\?/# or control characters, not ending with a
# space or a period (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-
# rules, Microsoft.Insights "scheduledQueryRules").
_NAME_RULE = re.compile(r"[^*<>%{}&:\\?/#\x00-\x1f]{0,259}[^*<>%{}&:\\?/#\x00-\x1f. ]")


def _bad(message: str, code: str = "BadRequest") -> CloudError:
    return CloudError(400, code, message)


def _rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "scheduledQueryRules", p["name"])


def duration(value: Any, field: str) -> timedelta:
    """An ISO 8601 duration of whole days, hours and minutes (PT5M, PT1H, P1D)."""
    m = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if m is None or not any(m.groups()):
        raise _bad(f"'{field}' must be an ISO 8601 duration such as PT5M, PT1H or P1D")
    d, h, mi = (int(g or 0) for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mi)


def _condition(cond: Any) -> dict[str, Any]:
    if not isinstance(cond, dict):
        raise _bad("'criteria.allOf' holds conditions")
    query = cond.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _bad("'criteria.allOf[0].query' is required")
    if cond.get("timeAggregation") not in AGGREGATIONS:
        raise _bad(f"'timeAggregation' must be one of {', '.join(AGGREGATIONS)}")
    if cond["timeAggregation"] != "Count" and not cond.get("metricMeasureColumn"):
        raise _bad(f"'timeAggregation' {cond['timeAggregation']} needs a 'metricMeasureColumn'")
    if cond.get("operator") not in OPERATORS:
        raise _bad(f"'operator' must be one of {', '.join(OPERATORS)}")
    threshold = cond.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise _bad("'threshold' is required: a number")
    dims = cond.get("dimensions") or []
    if not isinstance(dims, list) or len(dims) > MAX_DIMENSIONS:
        raise _bad(f"'dimensions': at most {MAX_DIMENSIONS}")
    for d in dims:
        if (
            not isinstance(d, dict)
            or not isinstance(d.get("name"), str)
            or d.get("operator") not in ("Include", "Exclude")
            or not isinstance(d.get("values"), list)
            or not d["values"]
        ):
            raise _bad("each dimension needs a name, an operator (Include, Exclude) and values")
    periods = cond.get("failingPeriods") or {}
    total = periods.get("numberOfEvaluationPeriods", 1)
    needed = periods.get("minFailingPeriodsToAlert", 1)
    if not (isinstance(total, int) and isinstance(needed, int) and 1 <= needed <= total):
        raise _bad(
            "'failingPeriods.minFailingPeriodsToAlert' should be smaller or equal to "
            "numberOfEvaluationPeriods"
        )
    try:
        kql.parse(query)
    except kql.KqlError as exc:
        raise _bad(f"The local cloud cannot run this query: {exc}") from None
    periods = {"numberOfEvaluationPeriods": total, "minFailingPeriodsToAlert": needed}
    return {**cond, "failingPeriods": periods}


def _properties(payload: dict[str, Any]) -> dict[str, Any]:
    props = payload.get("properties")
    if not isinstance(props, dict):
        raise _bad("'properties' is required")
    if payload.get("kind", "LogAlert") != "LogAlert":
        raise _bad(f"kind {payload.get('kind')!r}: the local cloud emulates LogAlert rules only")
    if not isinstance(props.get("enabled"), bool):
        raise _bad("'enabled' is required: true or false")
    if props.get("severity") not in (0, 1, 2, 3, 4) or isinstance(props.get("severity"), bool):
        raise _bad("'severity' is required: an integer between 0 and 4")
    frequency = duration(props.get("evaluationFrequency"), "evaluationFrequency")
    window = duration(props.get("windowSize"), "windowSize")
    if not MIN_FREQUENCY <= frequency <= MAX_FREQUENCY:
        raise _bad("'evaluationFrequency' must be between PT1M and P1D")
    if not MIN_FREQUENCY <= window <= MAX_WINDOW:
        raise _bad("'windowSize' must be between PT1M and P2D")
    if window < frequency:
        raise _bad("'windowSize' must not be shorter than 'evaluationFrequency'")
    scopes = props.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise _bad("'scopes' is required: the resource ids the rule queries")
    criteria = props.get("criteria")
    conditions = criteria.get("allOf") if isinstance(criteria, dict) else None
    if not isinstance(conditions, list) or len(conditions) != 1:
        raise _bad("'criteria.allOf' must hold exactly one condition")
    actions = props.get("actions") or {}
    groups = actions.get("actionGroups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise _bad("'actions.actionGroups' is a list of action group ids")
    return {
        **props,
        "criteria": {"allOf": [_condition(conditions[0])]},
        "autoMitigate": props.get("autoMitigate", True),
        "isWorkspaceAlertsStorageConfigured": False,
        "isLegacyLogAnalyticsRule": False,
    }


def _check_references(st: Any, props: dict[str, Any], location: str) -> list[str]:
    """The scopes' workspace customerIds, once every scope and action group is found."""
    customers = []
    for scope in props["scopes"]:
        ws = st["resources"].get(key(scope))
        if ws is None or ws["type"].lower() != WORKSPACE_TYPE:
            raise _bad(
                f"Scope '{scope}' is not an existing Log Analytics workspace (the local cloud "
                "runs log search alert rules on workspaces only)",
                "ScopeNotFound",
            )
        if norm_location(ws["location"]) != norm_location(location):
            raise _bad(
                f"Scope '{scope}' is in {ws['location']}, the rule in {norm_location(location)}: "
                "put the rule in its workspace's region",
                "ScopeLocationMismatch",
            )
        customers.append(str(ws["properties"]["customerId"]))
    for group in (props.get("actions") or {}).get("actionGroups") or []:
        found = st["resources"].get(key(group))
        if found is None or found["type"].lower() != ACTION_GROUP_TYPE:
            raise _bad(f"Action group '{group}' was not found", "ActionGroupNotFound")
    return customers


def _validate_query(eng: Engine, customer_id: str, query: str) -> None:
    """Run the query as the Logs query API would now; its 400, as the rule PUT's message."""
    parsed = kql.parse(query)
    at = datetime.now(UTC)
    response = log_analytics.query_table(eng, customer_id, parsed, at=at, since=None)
    if response.status != 200:
        raise _bad(json.dumps(response.body, indent=2))


@router.route("PUT", PATH)
def put_rule(eng: Engine, req: Request) -> Response:
    payload = req.json()
    console_logs.ingest(eng)  # the query is validated against what the workspace holds now
    with eng.store.write() as st:
        # ARM first (the group, the provider), then the resource provider's own checks
        eng.require_provider(st, NS)
        eng.require_group(st, req.params["sub"], req.params["rg"])
        if not _NAME_RULE.fullmatch(req.params["name"]):
            raise _bad(
                f"The resource name '{req.params['name']}' is invalid: 1-260 characters, none "
                "of *<>%{}&:\\?/# or control characters, not ending with a space or a period.",
                "InvalidResourceName",
            )
        if not isinstance(payload, dict):
            raise _bad("The request body must be a scheduled query rule")
        props = _properties(payload)
        rid = _rid(req)
        existing = st["resources"].get(key(rid))
        body = build_tracked(req, rid, TYPE, req.params["name"], payload, existing)
        customers = _check_references(st, props, body["location"])
        if props.get("skipQueryValidation") is not True:
            query = props["criteria"]["allOf"][0]["query"]
            for customer_id in customers:
                _validate_query(eng, customer_id, query)
        body["kind"] = "LogAlert"
        old = (existing or {}).get("properties") or {}
        props["createdWithApiVersion"] = old.get("createdWithApiVersion") or req.api_version
        body["properties"] = props
        put_resource(st, body)
    return ok(body, 200 if existing else 201)


@router.route("GET", PATH)
def get_rule(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return ok(must_find(st, _rid(req), TYPE, req.params["name"], req.params["rg"]))


@router.route("PATCH", PATH)
def patch_rule(eng: Engine, req: Request) -> Response:
    payload = req.json()
    with eng.store.write() as st:
        found = st["resources"].get(key(_rid(req)))
        if found is None:
            raise not_found(TYPE, req.params["name"], req.params["rg"])
        if "tags" in payload:
            found["tags"] = payload["tags"] or {}
        enabled = (payload.get("properties") or {}).get("enabled")
        if isinstance(enabled, bool):
            found["properties"]["enabled"] = enabled
        return ok(found)


@router.route("DELETE", PATH)
def delete_rule(eng: Engine, req: Request) -> Response:
    with eng.store.write() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        gone = st["resources"].pop(key(_rid(req)), None)
    return Response(200 if gone is not None else 204)


@router.route("GET", RG + r"/providers/Microsoft\.Insights/scheduledQueryRules")
def list_rules(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_group(st, req.params["sub"], req.params["rg"])
        return list_of(st, req.params["sub"], TYPE, req.params["rg"])


@router.route("GET", SUB + r"/providers/Microsoft\.Insights/scheduledQueryRules")
def list_all_rules(eng: Engine, req: Request) -> Response:
    with eng.store.read() as st:
        eng.require_subscription(st, req.params["sub"])
        return list_of(st, req.params["sub"], TYPE)
