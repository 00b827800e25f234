"""Microsoft.Insights action groups (2023-01-01) and scheduled query rules (2023-12-01) on the
local cloud, through the real azure-mgmt-monitor client: what Azure answers (status codes,
the completed body, its error shapes) and what it refuses (arm/action_group.py,
arm/alert_rule.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.monitor import MonitorManagementClient

from aigw_localcloud.apps import console_logs
from aigw_localcloud.arm import log_analytics
from aigw_localcloud.cloud import LocalCloud
from helpers import ALERT_WEBHOOK_CANARY

from .conftest import Clients

RG = "rg-alerts"
LOC = "eastus"
TABLE = "ContainerAppConsoleLogs_CL"
QUERY = f'{TABLE} | where ContainerAppName_s == "ca-test" | summarize n = count() | where n > 0'


@pytest.fixture
def monitor(cloud: LocalCloud) -> Iterator[MonitorManagementClient]:
    client = MonitorManagementClient(
        cloud.credential(),
        cloud.subscription_id,
        base_url=cloud.arm_url,
        connection_verify=str(cloud.ca_file),
    )
    yield client
    client.close()


@pytest.fixture
def workspace(clients: Clients, cloud: LocalCloud) -> Any:
    log_analytics.set_ingestion_delay(cloud.engine, 0.0)  # seeded rows are visible at once
    clients.resource.resource_groups.create_or_update(RG, {"location": LOC})
    return clients.loganalytics.workspaces.begin_create_or_update(
        RG, "law-alerts", {"location": LOC, "properties": {"sku": {"name": "PerGB2018"}}}
    ).result()


def _group(short: str = "aigw-dev", **props: Any) -> dict[str, Any]:
    return {
        "location": "Global",
        "tags": {"managed-by": "aigw"},
        "properties": {
            "groupShortName": short,
            "enabled": True,
            "emailReceivers": [{"name": "email-1", "emailAddress": "ops@example.com"}],
            **props,
        },
    }


def _error(exc: HttpResponseError) -> dict[str, Any]:
    assert exc.response is not None
    return dict(json.loads(exc.response.text()))


def test_an_action_group_is_created_read_updated_and_deleted(
    monitor: MonitorManagementClient, workspace: Any
) -> None:
    ops = monitor.action_groups
    made = ops.create_or_update(RG, "ag-test", _group())  # type: ignore[arg-type]
    assert made.location == "Global" and made.group_short_name == "aigw-dev"
    (email,) = made.email_receivers
    assert (email.email_address, email.status, email.use_common_alert_schema) == (
        "ops@example.com",
        "Enabled",
        False,
    )
    assert made.sms_receivers == [] and made.webhook_receivers == []
    got = ops.get(RG, "ag-test")
    assert got.id.endswith("/providers/Microsoft.Insights/actionGroups/ag-test")
    hook = {"name": "webhook", "serviceUri": ALERT_WEBHOOK_CANARY, "useCommonAlertSchema": True}
    changed = ops.create_or_update(
        RG,
        "ag-test",
        _group(webhookReceivers=[hook]),  # type: ignore[arg-type]
    )
    assert changed.webhook_receivers[0].use_aad_auth is False
    # a raw PUT answers 200 for an existing group, 201 for a new one (the spec's responses)
    statuses: list[int] = []
    ops.create_or_update(
        RG,
        "ag-test",
        _group(),  # type: ignore[arg-type]
        cls=lambda resp, body, headers: statuses.append(resp.http_response.status_code),
    )
    ops.create_or_update(
        RG,
        "ag-other",
        _group(),  # type: ignore[arg-type]
        cls=lambda resp, body, headers: statuses.append(resp.http_response.status_code),
    )
    assert statuses == [200, 201]
    assert sorted(g.name for g in ops.list_by_resource_group(RG)) == ["ag-other", "ag-test"]
    gone: list[int] = []
    for _ in range(2):
        ops.delete(
            RG,
            "ag-test",
            cls=lambda resp, body, headers: gone.append(resp.http_response.status_code),
        )
    assert gone == [200, 204]
    with pytest.raises(ResourceNotFoundError):
        ops.get(RG, "ag-test")


@pytest.mark.parametrize(
    ("group", "code", "words"),
    [
        (
            _group(short="aigw-production"),
            "GroupShortNameIsTooLong",
            "The action group short name 'aigw-production' is too long. Please specify a short "
            "name with '12' or less characters.",
        ),
        (
            _group(
                webhookReceivers=[{"name": "EMAIL-1", "serviceUri": "https://example.invalid/x"}]
            ),
            "BadRequest",
            "unique across all receivers",
        ),
        (
            _group(smsReceivers=[{"name": "s", "countryCode": "1", "phoneNumber": "5550100"}]),
            "BadRequest",
            "e-mail and webhook receivers only",
        ),
        (
            _group(
                webhookReceivers=[
                    {"name": f"hook-{i}", "serviceUri": "https://example.invalid/x"}
                    for i in range(11)
                ]
            ),
            "BadRequest",
            "at most 10 webhook receivers",
        ),
        (
            _group(emailReceivers=[{"name": "e", "emailAddress": "x" * 60 + "@example.com"}]),
            "BadRequest",
            "longer than 64",
        ),
        (
            {"location": "Global", "properties": {"groupShortName": "x"}},
            "BadRequest",
            "'enabled' is required",
        ),
    ],
)
def test_an_action_group_azure_would_refuse_is_refused(
    monitor: MonitorManagementClient, workspace: Any, group: dict[str, Any], code: str, words: str
) -> None:
    with pytest.raises(HttpResponseError) as caught:
        monitor.action_groups.create_or_update(RG, "ag-bad", group)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    body = _error(caught.value)
    # the spec's ErrorResponse: code and message at the top level
    assert body["code"] == code and words in body["message"], body
    assert caught.value.error is not None and caught.value.error.code == code


def test_a_bad_webhook_url_is_refused_without_echoing_it(
    monitor: MonitorManagementClient, workspace: Any
) -> None:
    secret_uri = ALERT_WEBHOOK_CANARY.replace("https://", "ftp://")
    group = _group(webhookReceivers=[{"name": "hook", "serviceUri": secret_uri}])
    with pytest.raises(HttpResponseError) as caught:
        monitor.action_groups.create_or_update(RG, "ag-bad", group)  # type: ignore[arg-type]
    assert "serviceUri" in str(caught.value) and "canary-webhook" not in str(caught.value)


def test_an_action_group_outside_global_or_without_its_group_is_refused(
    monitor: MonitorManagementClient, workspace: Any
) -> None:
    with pytest.raises(HttpResponseError) as caught:
        monitor.action_groups.create_or_update(
            RG,
            "ag-x",
            {**_group(), "location": "eastus"},  # type: ignore[arg-type]
        )
    assert caught.value.error is not None
    assert caught.value.error.code == "LocationNotAvailableForResourceType"
    with pytest.raises(ResourceNotFoundError) as missing:
        monitor.action_groups.create_or_update("rg-nope", "ag-x", _group())  # type: ignore[arg-type]
    assert missing.value.error is not None and missing.value.error.code == "ResourceGroupNotFound"


def _rule(
    scope: str, group_id: str | None = None, *, skip: bool | None = True, **props: Any
) -> dict[str, Any]:
    condition = {
        "query": QUERY,
        "timeAggregation": "Count",
        "operator": "GreaterThan",
        "threshold": 0,
        "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1},
    }
    body: dict[str, Any] = {
        "location": LOC,
        "tags": {"managed-by": "aigw"},
        "properties": {
            "displayName": "test rule",
            "severity": 2,
            "enabled": True,
            "scopes": [scope],
            "evaluationFrequency": "PT5M",
            "windowSize": "PT15M",
            "criteria": {"allOf": [{**condition, **props.pop("condition", {})}]},
            "actions": {"actionGroups": [group_id] if group_id else []},
            **props,
        },
    }
    if skip is not None:
        body["properties"]["skipQueryValidation"] = skip
    return body


def test_a_rule_is_created_on_its_workspace_and_action_group(
    monitor: MonitorManagementClient, workspace: Any
) -> None:
    group = monitor.action_groups.create_or_update(RG, "ag-test", _group())  # type: ignore[arg-type]
    ops = monitor.scheduled_query_rules
    made = ops.create_or_update(RG, "sqr-test", _rule(workspace.id, group.id))  # type: ignore[arg-type]
    assert made.kind == "LogAlert" and made.auto_mitigate is True
    assert made.created_with_api_version == "2023-12-01"
    assert made.is_legacy_log_analytics_rule is False
    got = ops.get(RG, "sqr-test")
    assert got.criteria.all_of[0].query == QUERY
    assert [g.lower() for g in got.actions.action_groups] == [group.id.lower()]
    assert got.window_size.total_seconds() == 900  # the SDK reads the ISO 8601 duration
    assert [r.name for r in ops.list_by_resource_group(RG)] == ["sqr-test"]
    gone: list[int] = []
    for _ in range(2):
        ops.delete(
            RG,
            "sqr-test",
            cls=lambda resp, body, headers: gone.append(resp.http_response.status_code),
        )
    assert gone == [200, 204]


def test_the_query_is_validated_against_the_workspace_unless_told_not_to(
    monitor: MonitorManagementClient, workspace: Any, cloud: LocalCloud
) -> None:
    ops = monitor.scheduled_query_rules
    # before the table's first row, as on a first deploy: Azure's 400 carries the query API's
    # own error (CDCgov/prime-reportstream#11773)
    with pytest.raises(HttpResponseError) as caught:
        ops.create_or_update(RG, "sqr-test", _rule(workspace.id, skip=None))  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    error = _error(caught.value)["error"]
    assert error["code"] == "BadRequest"
    inner = json.loads(error["message"])["error"]["innererror"]["innererror"]
    assert inner == {
        "code": "SEM0100",
        "message": f"'where' operator: Failed to resolve table or column expression named "
        f"'{TABLE}'",
    }
    # skipQueryValidation: "so that a rule can be deployed before a table exists"
    ops.create_or_update(RG, "sqr-test", _rule(workspace.id, skip=True))  # type: ignore[arg-type]
    seed(cloud, workspace.customer_id, [{"Log_s": "INFO started"}])
    ops.create_or_update(RG, "sqr-test", _rule(workspace.id, skip=False))  # type: ignore[arg-type]
    with pytest.raises(HttpResponseError) as caught:
        bad = _rule(workspace.id, skip=False, condition={"query": f"{TABLE} | where Nope_s == 'x'"})
        ops.create_or_update(RG, "sqr-test", bad)  # type: ignore[arg-type]
    assert (
        "Failed to resolve scalar expression named 'Nope_s'"
        in _error(caught.value)["error"]["message"]
    )


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"scope": "missing"}, "ScopeNotFound", "not an existing Log Analytics workspace"),
        ({"group": "missing"}, "ActionGroupNotFound", "was not found"),
        ({"evaluationFrequency": "P2D", "windowSize": "P2D"}, "BadRequest", "between PT1M and P1D"),
        ({"windowSize": "P3D"}, "BadRequest", "between PT1M and P2D"),
        ({"windowSize": "PT1M"}, "BadRequest", "not be shorter than 'evaluationFrequency'"),
        ({"evaluationFrequency": "PT1M30S"}, "BadRequest", "ISO 8601 duration"),
        ({"severity": 5}, "BadRequest", "between 0 and 4"),
        ({"condition": {"query": f"{TABLE} | join (x) on y"}}, "BadRequest", "cannot run"),
        ({"condition": {"timeAggregation": "Average"}}, "BadRequest", "metricMeasureColumn"),
        ({"condition": {"operator": "Above"}}, "BadRequest", "'operator' must be one of"),
        (
            {
                "condition": {
                    "dimensions": [
                        {"name": f"d{i}", "operator": "Include", "values": ["*"]} for i in range(7)
                    ]
                }
            },
            "BadRequest",
            "at most 6",
        ),
        (
            {"condition": {"failingPeriods": {"minFailingPeriodsToAlert": 2}}},
            "BadRequest",
            "smaller or equal",
        ),
        ({"location": "westeurope"}, "ScopeLocationMismatch", "workspace's region"),
    ],
)
def test_a_rule_azure_would_refuse_is_refused(
    monitor: MonitorManagementClient,
    workspace: Any,
    change: dict[str, Any],
    code: str,
    words: str,
) -> None:
    change = dict(change)
    scope = workspace.id if change.pop("scope", None) is None else workspace.id + "x"
    group = None
    if change.pop("group", None) is not None:
        rg_id = workspace.id.split("/providers/")[0]
        group = rg_id + "/providers/Microsoft.Insights/actionGroups/x"
    location = change.pop("location", LOC)
    body = _rule(scope, group, **change)
    body["location"] = location
    with pytest.raises(HttpResponseError) as caught:
        monitor.scheduled_query_rules.create_or_update(RG, "sqr-bad", body)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    error = _error(caught.value)["error"]  # the spec's ErrorContract: ARM's shape
    assert error["code"] == code and words in error["message"], error


def seed(cloud: LocalCloud, customer_id: str, rows: list[dict[str, Any]]) -> None:
    """Rows of ContainerAppConsoleLogs_CL as ingested (the workspace's table file), each with
    its TimeGenerated (default: now) and the app's columns."""
    path = console_logs.workspace_file(cloud.engine, customer_id)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with open(path, "a", encoding="utf-8") as fh:
        for row in rows:
            full = {
                "TimeGenerated": now,
                "ContainerAppName_s": "ca-test",
                "RevisionName_s": "ca-test--0000001",
                "Stream_s": "stdout",
                "Type": TABLE,
                **row,
            }
            fh.write(json.dumps(full) + "\n")
