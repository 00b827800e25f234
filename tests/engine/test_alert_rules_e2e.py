"""Issue 26's alerts on the local cloud: `deploy` with an `alerts:` section creates the action
group and the five log search alert rules through azure-mgmt-monitor, a second plan is empty,
the webhook URL (a secret) shows nowhere; then each rule, read back from the cloud, runs its own
query over its own window through the real azure-monitor-query LogsQueryClient against the
workspace, on seeded gateway lines that must fire it and on controls that must not.

"Fires" applies the rule's own criteria as Azure Monitor does for a log search alert
(learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule: "Table rows"
counted per combination of the dimensions' values, compared with the operator and threshold).
The local cloud does not evaluate rules on a schedule (arm/alert_rule.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.monitor import MonitorManagementClient
from azure.monitor.query import LogsQueryClient

from aigw.config.alerts import AlertsConfig
from aigw.config.model import EnvConfig
from aigw.engine import workflow
from aigw.resources import names_of
from aigw.secrets import Secret, Secrets
from aigw_localcloud.apps import console_logs
from aigw_localcloud.arm import log_analytics
from helpers import ALERT_WEBHOOK_CANARY

from .harness import Stack, close_stack, make_stack

TABLE = "ContainerAppConsoleLogs_CL"
ALERTS = {
    "emails": ["oncall@example.com", "lead@example.org"],
    "webhook_url_env": "AIGW_ALERT_WEBHOOK_URL",
    "min_calls": 10,
}
RULES = ("server-errors", "azure-throttling", "budget-warning", "budget-exhausted", "no-success")


@dataclass
class Deployed:
    stack: Stack
    config: EnvConfig
    monitor: MonitorManagementClient
    logs: LogsQueryClient
    customer_id: str
    app: str
    rg: str
    rule_names: dict[str, str]
    plan: Any
    writes: list[str]


def _secrets(stack: Stack, webhook: str = ALERT_WEBHOOK_CANARY) -> Secrets:
    return Secrets(
        gateway_key=stack.secrets().gateway_key,
        azure_openai_key=stack.secrets().azure_openai_key,
        alert_webhook=Secret("AIGW_ALERT_WEBHOOK_URL", webhook),
    )


def _session(stack: Stack, config: EnvConfig, webhook: str = ALERT_WEBHOOK_CANARY) -> Any:
    return workflow.open_session(
        config, stack.target(), secrets=_secrets(stack, webhook), role_wait_timeout=20
    )


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    stack = make_stack(tmp_path_factory.mktemp("alerts"), with_gateway=False)
    try:
        config = stack.config("dev").model_copy(
            update={"alerts": AlertsConfig.model_validate(ALERTS)}
        )
        mark = stack.mark()
        session = _session(stack, config)
        try:
            plan = workflow.make_plan(session)
            result = workflow.apply(session, plan)
        finally:
            session.close()
        assert result.ok, [e.one_line() for e in result.errors]
        writes = [f"{e.method} {e.path}" for e in stack.writes_since(mark)]
        names = names_of(config)
        cloud = stack.cloud
        log_analytics.set_ingestion_delay(cloud.engine, 0.0)  # seeded rows are visible at once
        monitor = MonitorManagementClient(
            cloud.credential(),
            cloud.subscription_id,
            base_url=cloud.arm_url,
            connection_verify=str(cloud.ca_file),
        )
        logs = LogsQueryClient(
            cloud.credential(), endpoint=cloud.arm_url, connection_verify=str(cloud.ca_file)
        )
        ws = session.ctx.clients.loganalytics().workspaces.get(
            names.resource_group, names.log_analytics
        )
        rule_names = {
            r.key.split(":", 1)[1]: r.name
            for r in session.desired.resources
            if r.key.startswith("alert_rule:")
        }
        yield Deployed(
            stack,
            config,
            monitor,
            logs,
            str(ws.customer_id),
            names.container_app,
            names.resource_group,
            rule_names,
            plan,
            writes,
        )
        monitor.close()
        logs.close()
    finally:
        close_stack(stack)


def test_deploy_creates_the_action_group_and_the_rules_and_a_second_plan_is_empty(
    deployed: Deployed,
) -> None:
    d = deployed
    puts = [w for w in d.writes if "/providers/Microsoft.Insights/" in w]
    assert len([w for w in puts if "/actionGroups/" in w]) == 1, puts
    assert sorted(w.rsplit("/", 1)[1] for w in puts if "/scheduledQueryRules/" in w) == sorted(
        d.rule_names.values()
    )
    group = d.monitor.action_groups.get(d.rg, names_of(d.config)["action_group"])
    assert [r.email_address for r in group.email_receivers] == ALERTS["emails"]
    assert group.group_short_name == "aigw-dev"
    assert group.webhook_receivers[0].use_common_alert_schema is True
    rule = d.monitor.scheduled_query_rules.get(d.rg, d.rule_names["server-errors"])
    assert rule.scopes[0].lower().endswith(names_of(d.config).log_analytics.lower())
    assert rule.actions.action_groups == [group.id]
    assert rule.skip_query_validation is True  # the table did not exist at deploy time
    session = _session(d.stack, d.config)
    try:
        again = workflow.make_plan(session)
        assert not again.has_changes, [c.to_json() for c in again.writes]
        # another URL in the environment: one update of the action group, no URL shown
        other = _session(d.stack, d.config, webhook=ALERT_WEBHOOK_CANARY + "-rotated")
        try:
            changed = workflow.make_plan(other)
        finally:
            other.close()
        assert [c.key for c in changed.writes] == ["action_group"]
        assert [d_.path for d_ in changed.writes[0].diffs] == ["webhook"]
        for p in (d.plan, again, changed):
            assert "canary-webhook" not in json.dumps(p.to_json())
    finally:
        session.close()


# --------------------------------------------------------------------------- the scenarios
def _usage(
    status: int,
    *,
    key: str = "alice",
    model: str = "gpt-5.3-codex",
    **more: Any,
) -> str:
    record = {
        "aigw_usage": 1,
        "key": key,
        "model": model,
        "deployment": "gpt-5.3-codex",
        "status": "success" if status < 400 else "failure",
        "http_status": status,
        **more,
    }
    return json.dumps(record, separators=(",", ":"))


def _refused(key: str, reason: str) -> str:
    record = {"aigw_refused": 1, "status": 429, "reason": reason, "route": "/v1/responses"}
    return json.dumps({**record, "key": key}, separators=(",", ":"))


PROBE = 'INFO:     100.100.0.1:50000 - "GET /health/readiness HTTP/1.1" 200 OK'


def _seed(d: Deployed, lines: list[tuple[float, str]]) -> None:
    """The workspace's table holds exactly these console lines of the gateway app, each
    (minutes ago, line), plus one line of two hours ago (the table exists, as on Azure once the
    first line arrived)."""
    path = console_logs.workspace_file(d.stack.cloud.engine, d.customer_id)
    now = datetime.now(UTC)
    rows = []
    for ago, line in [(120.0, PROBE), *lines]:
        at = (now - timedelta(minutes=ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rows.append(
            {
                "TimeGenerated": at,
                "ContainerAppName_s": d.app,
                "RevisionName_s": f"{d.app}--0000001",
                "ContainerName_s": "litellm",
                "Stream_s": "stdout",
                "Log_s": line,
                "Type": TABLE,
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


_OPERATORS = {
    "GreaterThan": lambda v, t: v > t,
    "GreaterThanOrEqual": lambda v, t: v >= t,
    "LessThan": lambda v, t: v < t,
    "LessThanOrEqual": lambda v, t: v <= t,
    "Equals": lambda v, t: v == t,
}


def fired(d: Deployed, rule_id: str) -> set[tuple[str, ...]]:
    """The dimension combinations the rule fires for now (() for a rule without dimensions),
    from the rule as the cloud holds it: its query over its window, its criteria."""
    rule = d.monitor.scheduled_query_rules.get(d.rg, d.rule_names[rule_id])
    (cond,) = rule.criteria.all_of
    assert cond.time_aggregation == "Count"  # "Table rows": the rules aigw writes
    result = d.logs.query_workspace(d.customer_id, cond.query, timespan=rule.window_size)
    (table,) = result.tables
    dims = [x.name for x in cond.dimensions or []]
    counts: dict[tuple[str, ...], int] = {}
    for row in table.rows:
        record = dict(zip(table.columns, row, strict=True))
        combo = tuple(str(record[name]) for name in dims)
        counts[combo] = counts.get(combo, 0) + 1
    test = _OPERATORS[cond.operator]
    return {combo for combo, n in counts.items() if test(n, cond.threshold)}


def _calls(n: int, status: int, ago: float = 2.0, **kw: Any) -> list[tuple[float, str]]:
    return [(ago, _usage(status, **kw)) for _ in range(n)]


def test_server_errors_fire_at_their_rate_and_not_below(deployed: Deployed) -> None:
    # 2 of 20 calls (10%) ended with a 5xx: at least 5%
    _seed(deployed, _calls(18, 200) + _calls(1, 500) + _calls(1, 503))
    assert fired(deployed, "server-errors") == {()}
    # control: 1 of 40 (2.5%); the limiter's own 429s (no model group) are not calls
    _seed(deployed, _calls(39, 200) + _calls(1, 502) + _calls(10, 429, model=""))
    assert fired(deployed, "server-errors") == set()
    # control: every call failed, but fewer than min_calls (10) in the window
    _seed(deployed, _calls(5, 500))
    assert fired(deployed, "server-errors") == set()
    # control: the failures are older than the window (15 min)
    _seed(deployed, _calls(18, 200) + _calls(5, 500, ago=20.0))
    assert fired(deployed, "server-errors") == set()


def test_azure_throttling_counts_azures_429s_not_the_gateways_own(deployed: Deployed) -> None:
    # 3 of 20 calls Azure refused with 429 (15%): at least 10%
    _seed(deployed, _calls(17, 200) + _calls(3, 429))
    assert fired(deployed, "azure-throttling") == {()}
    # control: 1 Azure 429 in 20 calls (5%), with 10 refusals of LiteLLM's own rate limiter,
    # which leave a usage line with status 429 and no model group (measured on LiteLLM 1.81.15)
    limiter = _calls(10, 429, model="") + [(2.0, _refused("bob", "rate_limit_requests"))] * 10
    _seed(deployed, _calls(19, 200) + _calls(1, 429) + limiter)
    assert fired(deployed, "azure-throttling") == set()


def test_budget_rules_fire_per_developer_at_their_share(deployed: Deployed) -> None:
    now = datetime.now(UTC)
    if now.day == 1 and now.hour == 0 and now.minute < 5:
        pytest.skip("the rules read this month's lines only: wait for the month's sixth minute")
    lines = [
        (3.0, _usage(200, key="alice", spend_usd=8.5, budget_usd=10)),  # 85%
        (3.0, _usage(200, key="bob", spend_usd=7.9, budget_usd=10)),  # 79%
        (3.0, _usage(200, key="carol", spend_usd=50.0)),  # no budget
        (2.0, _usage(200, key="erin", spend_usd=10.2, budget_usd=10)),  # 102%
        (1.0, _refused("dave", "budget")),  # refused for its budget: the guard's line
        (1.0, _refused("frank", "rate_limit_tokens")),  # refused, but not for a budget
    ]
    _seed(deployed, lines)
    assert fired(deployed, "budget-warning") == {("alice",), ("erin",), ("dave",)}
    assert fired(deployed, "budget-exhausted") == {("erin",), ("dave",)}
    # control: everyone under 80%
    _seed(deployed, [(2.0, _usage(200, key="alice", spend_usd=7.0, budget_usd=10))])
    assert fired(deployed, "budget-warning") == set()
    assert fired(deployed, "budget-exhausted") == set()


def test_no_success_fires_while_replicas_run_without_one_successful_call(
    deployed: Deployed,
) -> None:
    # replicas run (probe lines), calls fail, the last success is older than 30 min
    lines = [(45.0, _usage(200)), (20.0, PROBE), (5.0, PROBE), *_calls(3, 500, ago=10.0)]
    _seed(deployed, lines)
    assert fired(deployed, "no-success") == {()}
    # control: one success 10 min ago
    _seed(deployed, [*lines, (10.0, _usage(200))])
    assert fired(deployed, "no-success") == set()
    # control: no replica ran in the window (scaled to zero): no line, no alert
    _seed(deployed, [(45.0, _usage(500))])
    assert fired(deployed, "no-success") == set()


def test_disabled_rules_exist_but_say_so(deployed: Deployed, tmp_path: Path) -> None:
    d = deployed
    config = d.config.model_copy(
        update={"alerts": AlertsConfig.model_validate({**ALERTS, "no_success": {"enabled": False}})}
    )
    session = _session(d.stack, config)
    try:
        plan = workflow.make_plan(session)
        assert [(c.key, [x.path for x in c.diffs]) for c in plan.writes] == [
            ("alert_rule:no-success", ["enabled"])
        ]
        assert workflow.apply(session, plan).ok
    finally:
        session.close()
    rule = d.monitor.scheduled_query_rules.get(d.rg, d.rule_names["no-success"])
    assert rule.enabled is False
