"""The log search alert rules on the gateway's own console lines (issue 26), one resource per
rule, each notifying the environment's action group.

REST: Microsoft.Insights/scheduledQueryRules, api-version 2023-12-01 (azure-mgmt-monitor 7.0.0;
Azure/azure-rest-api-specs specification/monitor/resource-manager/Microsoft.Insights/stable/
2023-12-01/scheduledQueryRule_API.json). Each rule's scope is the environment's Log Analytics
workspace; its query reads `ContainerAppConsoleLogs_CL`, where Container Apps writes the
gateway's stdout (learn.microsoft.com/azure/container-apps/log-monitoring), and returns a row
only when the rule should fire, so the condition is "Table rows" (timeAggregation Count,
GreaterThan 0; learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule,
"Measure"). The budget rules split by developer key (a dimension: one alert per key).

The lines the queries read (the gateway writes them; gateway/files/aigw_usage.py and
aigw_guard.py):
- usage lines `{"aigw_usage": 1, "key", "model", "status", "http_status", ...}`: `model` is
  LiteLLM's model group, empty when LiteLLM's router never ran; the rates count only calls the
  router handled, because a call LiteLLM's own rate limiter refuses also leaves a usage line
  (429, `model` ""; measured on LiteLLM 1.81.15 with aigw's limits: tests/gateway/
  test_alert_rules_real_lines.py);
- refusal lines `{"aigw_refused": 1, "key", "reason", ...}`: `reason` "budget" when the guard
  refused a key for its monthly budget;
- `spend_usd` and `budget_usd` on a successful call's usage line of a key with a budget (the
  key's spend this calendar month, UTC, this call included, and its monthly budget: the usage
  logger writes them); a refusal for the budget fires the rules too (a key past it).
- any console line of the app means a replica runs: LiteLLM (uvicorn) writes an access line
  for every request, Container Apps' probes included (seen in the local runner's LiteLLM log:
  `INFO:     127.0.0.1:33068 - "GET /health/readiness HTTP/1.1" 200 OK`).

The queries keep to what the local Log Analytics answers (aigw_localcloud/arm/kql.py) and read
`Log_s`: the environment aigw creates sends whole lines (no dynamicJsonColumns).

The rule is created with `skipQueryValidation: true`: on a first deploy the table does not exist
yet (it appears with the gateway's first console line, minutes later) and Azure's validation
would refuse the rule (SEM0100, CDCgov/prime-reportstream#11773); the flag exists "so that a rule
can be deployed before a table exists" (Azure/azure-rest-api-specs#32650).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, lower_id, norm_location, to_rest
from aigw.config.alerts import AlertsConfig
from aigw.config.naming import NameRule, compose
from aigw.resources import action_group, adapter, registered
from aigw.resources.base import Base, Inputs
from aigw.state import ABSENT, Key, Kind, Observed, Resource

KIND = Kind("alert_rule")
TABLE = "ContainerAppConsoleLogs_CL"
USAGE = '{"aigw_usage"'  # how a usage line starts (gateway/files/aigw_usage.py MARKER)
REFUSED = '{"aigw_refused"'  # how a refusal line starts (gateway/files/aigw_guard.py)
# The fields the budget rules read on a usage line (not written by the gateway yet).
SPEND_FIELD = "spend_usd"
BUDGET_FIELD = "budget_usd"
DIMENSION = "developer"


@dataclass(frozen=True)
class Rule:
    """One alert rule of an environment."""

    id: str  # the name suffix and the resource key's tail
    title: str
    description: str
    severity: int  # 0 critical .. 4 verbose
    enabled: bool
    frequency_minutes: int
    window_minutes: int
    query: str
    dimensions: tuple[str, ...] = ()


def _text(value: str) -> str:
    """A KQL string literal (double quotes, backslash escapes)."""
    return json.dumps(value)


def _number(value: float) -> str:
    return f"{float(value):.6g}" if float(value) != int(value) else f"{int(value)}"


def _pipe(*stages: str) -> str:
    return "\n| ".join(stages)


def _calls(app: str) -> list[str]:
    """The usage lines of calls LiteLLM's router handled, parsed into `u`."""
    return [
        TABLE,
        f"where ContainerAppName_s == {_text(app)}",
        f"where Log_s startswith {_text(USAGE)}",
        "extend u = parse_json(Log_s)",
        "where isnotempty(tostring(u.model))",
    ]


def _rate(app: str, what: str, test: str, alerts: AlertsConfig, percent: float) -> str:
    return _pipe(
        *_calls(app),
        f"summarize calls = count(), {what} = countif({test})",
        f"where calls >= {alerts.min_calls}",
        f"extend percent = 100.0 * {what} / calls",
        f"where percent >= {_number(percent)}",
    )


def _budget(app: str, percent: float) -> str:
    share = _number(percent / 100)
    return _pipe(
        TABLE,
        f"where ContainerAppName_s == {_text(app)}",
        f"where Log_s startswith {_text(USAGE)} or Log_s startswith {_text(REFUSED)}",
        "where startofmonth(TimeGenerated) == startofmonth(now())",
        "extend u = parse_json(Log_s)",
        f"extend {DIMENSION} = tostring(u.key), spend = todouble(u.{SPEND_FIELD}), "
        f"budget = todouble(u.{BUDGET_FIELD}), reason = tostring(u.reason)",
        f"where isnotempty({DIMENSION})",
        f'where reason == "budget" or (budget > 0 and spend >= {share} * budget)',
        f"summarize calls = count() by {DIMENSION}",
    )


def _no_success(app: str) -> str:
    return _pipe(
        TABLE,
        f"where ContainerAppName_s == {_text(app)}",
        "extend u = parse_json(Log_s)",
        f"summarize lines = count(), successes = countif(Log_s startswith {_text(USAGE)} and "
        'tostring(u.status) == "success")',
        "where lines > 0 and successes == 0",
    )


def rules_of(alerts: AlertsConfig, env: str, app: str) -> list[Rule]:
    """Every alert rule of an environment whose gateway app is `app` (pure)."""
    freq, window = alerts.frequency_minutes, alerts.window_minutes
    se, th = alerts.server_errors, alerts.azure_throttling
    bw, bx, ns = alerts.budget_warning, alerts.budget_exhausted, alerts.no_success
    return [
        Rule(
            "server-errors",
            f"aigw {env}: 5xx rate >= {se.percent:g}%",
            f"At least {se.percent:g}% of the gateway's calls in {window} min ended with a 5xx "
            f"status (at least {alerts.min_calls} calls).",
            1,
            se.enabled,
            freq,
            window,
            _rate(app, "failed", "toint(u.http_status) >= 500", alerts, se.percent),
        ),
        Rule(
            "azure-throttling",
            f"aigw {env}: Azure 429 rate >= {th.percent:g}%",
            f"At least {th.percent:g}% of the calls the gateway sent to Azure OpenAI in {window} "
            "min were refused with 429 after its retries and fallbacks.",
            2,
            th.enabled,
            freq,
            window,
            _rate(app, "throttled", "toint(u.http_status) == 429", alerts, th.percent),
        ),
        Rule(
            "budget-warning",
            f"aigw {env}: a developer key at {bw.percent:g}% of its budget",
            f"A developer key has spent {bw.percent:g}% of its monthly budget (one alert per key).",
            3,
            bw.enabled,
            freq,
            window,
            _budget(app, bw.percent),
            (DIMENSION,),
        ),
        Rule(
            "budget-exhausted",
            f"aigw {env}: a developer key at {bx.percent:g}% of its budget",
            f"A developer key has spent {bx.percent:g}% of its monthly budget; the gateway "
            "refuses its calls until the month turns or the budget is raised (one alert per key).",
            2,
            bx.enabled,
            freq,
            window,
            _budget(app, bx.percent),
            (DIMENSION,),
        ),
        Rule(
            "no-success",
            f"aigw {env}: no successful call for {ns.minutes} min",
            f"A replica of the gateway ran (it wrote console lines) but no call succeeded in "
            f"{ns.minutes} min.",
            1,
            ns.enabled,
            min(freq, ns.minutes),
            ns.minutes,
            _no_success(app),
        ),
    ]


def duration(minutes: int) -> str:
    """Minutes as ISO 8601 (PT15M, PT1H30M, P1D), as azure-mgmt-monitor writes a timedelta."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    time = (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def _minutes(value: Any) -> Any:
    """An ISO 8601 duration as duration() writes it (Azure may spell it otherwise)."""
    import re

    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", str(value))
    if not m or not any(m.groups()):
        return value
    d, h, mi, s = (float(g or 0) for g in m.groups())
    total = d * 1440 + h * 60 + mi + s / 60
    return duration(int(total)) if total.is_integer() else value


def from_body(body: dict[str, Any]) -> Observed:
    """The Observed of a scheduled query rule's GET body."""
    props = body.get("properties") or {}
    conditions = (props.get("criteria") or {}).get("allOf") or [{}]
    cond = conditions[0] if len(conditions) == 1 else {}
    groups = (props.get("actions") or {}).get("actionGroups") or []
    return Observed(
        exists=True,
        fields={
            "location": norm_location(body.get("location")),
            "displayName": props.get("displayName"),
            "description": props.get("description"),
            "severity": props.get("severity"),
            "enabled": props.get("enabled"),
            "scopes": [lower_id(s) for s in props.get("scopes") or []],
            "actionGroups": [lower_id(g) for g in groups],
            "evaluationFrequency": _minutes(props.get("evaluationFrequency")),
            "windowSize": _minutes(props.get("windowSize")),
            "query": cond.get("query"),
            "timeAggregation": cond.get("timeAggregation"),
            "operator": cond.get("operator"),
            "threshold": cond.get("threshold"),
            "dimensions": [d.get("name") for d in cond.get("dimensions") or []],
            # "The default is true" (the spec): Azure may leave it out of the answer
            "autoMitigate": props.get("autoMitigate", True),
        },
        tags=body.get("tags") or {},
        outputs={"id": body.get("id")},
    )


def body_of(m: Mapping[str, Any], scope: str, group: str) -> dict[str, Any]:
    """The PUT body: the workspace and the action group by the ids Azure gave them."""
    dimensions = [{"name": d, "operator": "Include", "values": ["*"]} for d in m["dimensions"]]
    return {
        "location": m["location"],
        "tags": m["tags"],
        "kind": "LogAlert",
        "properties": {
            "displayName": m["displayName"],
            "description": m["description"],
            "severity": m["severity"],
            "enabled": m["enabled"],
            "scopes": [scope],
            "evaluationFrequency": m["evaluationFrequency"],
            "windowSize": m["windowSize"],
            "criteria": {
                "allOf": [
                    {
                        "query": m["query"],
                        "timeAggregation": m["timeAggregation"],
                        "operator": m["operator"],
                        "threshold": m["threshold"],
                        "dimensions": dimensions,
                        "failingPeriods": {
                            "numberOfEvaluationPeriods": 1,
                            "minFailingPeriodsToAlert": 1,
                        },
                    }
                ]
            },
            "actions": {"actionGroups": [group]},
            "autoMitigate": m["autoMitigate"],
            "skipQueryValidation": True,  # the table may not exist yet (module docstring)
        },
    }


@registered
class AlertRuleAdapter(Base):
    kind = KIND
    order = 110
    namespace = "Microsoft.Insights"
    arm_type = "scheduledQueryRules"
    # Azure: 1-260 characters, none of *<>%{}&:\?/# (learn.microsoft.com/azure/azure-resource-
    # manager/management/resource-name-rules, Microsoft.Insights); the scheme's names keep to
    # letters, digits and '-'. The name here is the rules' stem: each rule adds its id.
    name_rule = NameRule(
        "alert rule",
        1,
        260,
        r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and '-', starting and ending alphanumeric",
        tag="alert",
    )
    located = True
    sdk_client = ("azure.mgmt.monitor", "MonitorManagementClient")

    def status(self, obs: Observed) -> tuple[bool, str] | None:
        return True, "enabled" if obs.fields.get("enabled") else "disabled"

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        return {"id": f"/subscriptions/(example)/providers/Microsoft.Insights/{res.name}"}

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        alerts = inp.config.alerts
        if alerts is None:
            return []
        cfg = inp.config
        assert cfg.location_short is not None
        workspace = adapter(Kind.log_analytics).arm_id(inp, inp.names.log_analytics)
        group = adapter(action_group.KIND).arm_id(inp, inp.names[action_group.KEY])
        out = []
        for rule in rules_of(alerts, cfg.env, inp.names.container_app):
            name = compose(
                cfg.name_prefix, cfg.env, cfg.project, self.name_rule, cfg.location_short, rule.id
            )
            out.append(
                Resource(
                    f"{KIND.value}:{rule.id}",
                    self.kind,
                    name,
                    depends_on=self.needs(Key.log_analytics, action_group.KEY),
                    managed={
                        "location": cfg.location,
                        "tags": inp.tags,
                        "displayName": rule.title,
                        "description": rule.description,
                        "severity": rule.severity,
                        "enabled": rule.enabled,
                        # ids compared lower-cased: Azure answers them in either case
                        # (getScheduledQueryRule.json answers ".../resourcegroups/...")
                        "scopes": [workspace.lower()],
                        "actionGroups": [group.lower()],
                        "evaluationFrequency": duration(rule.frequency_minutes),
                        "windowSize": duration(rule.window_minutes),
                        "query": rule.query,
                        "timeAggregation": "Count",
                        "operator": "GreaterThan",
                        "threshold": 0,
                        "dimensions": list(rule.dimensions),
                        "autoMitigate": True,
                    },
                )
            )
        return out

    def from_body(self, body: dict[str, Any]) -> Observed:
        return from_body(body)

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        ops = self.client(ctx).scheduled_query_rules
        found = get_or_none(lambda: ops.get(ctx.rg, res.name))
        return ABSENT if found is None else from_body(to_rest(found))

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        m = ctx.managed(res)  # with tags others set kept
        scope = str(ctx.output(Key.log_analytics, "id"))
        group = str(ctx.output(action_group.KEY, "id"))
        ops = self.client(ctx).scheduled_query_rules
        made = ops.create_or_update(ctx.rg, res.name, body_of(m, scope, group))
        return {"id": to_rest(made).get("id")}

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        self.client(ctx).scheduled_query_rules.delete(ctx.rg, res.name)
        return None
