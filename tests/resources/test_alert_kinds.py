"""The two alert kinds (resources/action_group.py, resources/alert_rule.py) on plain data: what
an `alerts:` section desires, that the webhook URL stays a secret (never a plan field, never an
observed value, required by deploy before any Azure call), and that every rule's query is one
the local Log Analytics answers."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from aigw.config.alerts import AlertsConfig
from aigw.engine.plan import plan_deploy
from aigw.engine.secrets_read import read_secrets
from aigw.errors import MissingSecretError
from aigw.resources import action_group, alert_rule, names_of
from aigw.state import SECRET_VALUE, Desired
from aigw_localcloud.arm import kql
from helpers import ALERT_WEBHOOK_CANARY, GATEWAY_KEY_CANARY
from plan_support import deployed, desired_for

ALERTS = {"alerts": {"emails": ["oncall@example.com"], "webhook_url_env": "AIGW_ALERT_WEBHOOK_URL"}}


def _alerting(desired: Desired) -> dict[str, Any]:
    return {r.key: r for r in desired.resources if r.kind in (action_group.KIND, alert_rule.KIND)}


def test_no_alerts_section_desires_no_alert_resources() -> None:
    assert _alerting(desired_for("prod")) == {}


def test_an_alerts_section_desires_the_action_group_and_five_rules() -> None:
    desired = desired_for(
        "prod", {"alerts": {**ALERTS["alerts"], "no_success": {"enabled": False}}}
    )
    found = _alerting(desired)
    assert sorted(found) == [
        "action_group",
        "alert_rule:azure-throttling",
        "alert_rule:budget-exhausted",
        "alert_rule:budget-warning",
        "alert_rule:no-success",
        "alert_rule:server-errors",
    ]
    group = found["action_group"]
    assert group.name == "pvc-prod-aigateway-ag-san"
    assert group.managed["groupShortName"] == "aigw-prod" and group.managed["location"] == "global"
    assert group.managed["emails"] == ["oncall@example.com"]
    assert group.managed["webhook"] == SECRET_VALUE  # the URL itself is never desired state
    rule = found["alert_rule:server-errors"]
    assert rule.name == "pvc-prod-aigateway-alert-san-server-errors"
    assert set(rule.depends_on) >= {"log_analytics", "action_group"}
    m = rule.managed
    assert m["scopes"] == [
        f"/subscriptions/{desired.subscription_id}/resourcegroups/pvc-prod-aigateway-rg-san"
        "/providers/microsoft.operationalinsights/workspaces/pvc-prod-aigateway-law-san"
    ]
    assert (m["evaluationFrequency"], m["windowSize"], m["severity"]) == ("PT5M", "PT15M", 1)
    assert (m["timeAggregation"], m["operator"], m["threshold"]) == ("Count", "GreaterThan", 0)
    assert found["alert_rule:no-success"].managed["enabled"] is False
    assert found["alert_rule:no-success"].managed["windowSize"] == "PT30M"
    assert found["alert_rule:budget-warning"].managed["dimensions"] == ["developer"]
    # every name is checked with the file (aigw validate): the stems are Names of the registry
    names = names_of(_cfg())
    assert names["action_group"] == group.name
    assert names["alert_rule"] == "pvc-prod-aigateway-alert-san"  # the rules' stem


def _cfg() -> Any:
    from aigw.config.load import load_env
    from helpers import ENV_DIR

    return load_env("prod", ENV_DIR).config


@pytest.mark.parametrize(
    ("minutes", "iso"),
    [(1, "PT1M"), (15, "PT15M"), (60, "PT1H"), (90, "PT1H30M"), (1440, "P1D"), (2880, "P2D")],
)
def test_durations_are_written_as_the_sdk_writes_them(minutes: int, iso: str) -> None:
    assert alert_rule.duration(minutes) == iso
    assert alert_rule._minutes(iso) == iso
    assert alert_rule._minutes("PT900S") == "PT15M"  # another spelling of the same window


def test_every_rule_query_is_answered_by_the_local_log_analytics() -> None:
    alerts = AlertsConfig.model_validate({"emails": ["a@example.com"]})
    for rule in alert_rule.rules_of(alerts, "dev", 'app "quoted"'):
        parsed = kql.parse(rule.query)
        answer = kql.run(parsed, [])  # compiles every stage against the table's columns
        assert answer["tables"][0]["rows"] == [], rule.id


def test_the_webhook_url_is_never_observed_or_planned() -> None:
    body = {
        "id": "/subscriptions/s/resourceGroups/g/providers/microsoft.insights/actionGroups/ag",
        "location": "Global",
        "tags": {},
        "properties": {
            "groupShortName": "aigw-prod",
            "enabled": True,
            "emailReceivers": [{"name": "email-1", "emailAddress": "oncall@example.com"}],
            "webhookReceivers": [{"name": "webhook", "serviceUri": ALERT_WEBHOOK_CANARY}],
        },
    }
    same = action_group.from_body(body, webhook=ALERT_WEBHOOK_CANARY)
    assert same.fields["webhook"] == SECRET_VALUE
    other = action_group.from_body(body, webhook=ALERT_WEBHOOK_CANARY + "x")
    assert other.fields["webhook"] == action_group.WEBHOOK_DIFFERS
    unknown = action_group.from_body(body)  # a plan in a pull request has no secrets
    assert unknown.fields["webhook"] == SECRET_VALUE
    for obs in (same, other, unknown):
        assert "canary-webhook" not in json.dumps(obs.to_json())
    desired = desired_for("prod", ALERTS)
    observed = deployed(desired)
    were = observed["action_group"]  # as deployed, but Azure calls another URL now
    observed["action_group"] = dataclasses.replace(
        were, fields={**were.fields, "webhook": other.fields["webhook"]}
    )
    plan = plan_deploy(desired, observed)
    change = next(c for c in plan.changes if c.key == "action_group")
    assert [(d.path, d.before, d.after) for d in change.diffs] == [
        ("webhook", action_group.WEBHOOK_DIFFERS, SECRET_VALUE)
    ]
    assert "canary-webhook" not in json.dumps(plan.to_json())


def test_deploy_needs_the_webhook_url_before_any_azure_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _cfg().model_copy(update={"alerts": AlertsConfig.model_validate(ALERTS["alerts"])})
    monkeypatch.setenv("AIGW_GATEWAY_KEY", GATEWAY_KEY_CANARY + "-0123456789abcdefghij")
    monkeypatch.delenv("AIGW_ALERT_WEBHOOK_URL", raising=False)
    with pytest.raises(MissingSecretError, match=r"webhook URL .*\$AIGW_ALERT_WEBHOOK_URL"):
        read_secrets(config, required=True)
    assert read_secrets(config, required=False).alert_webhook is None  # plan in a PR
    monkeypatch.setenv("AIGW_ALERT_WEBHOOK_URL", ALERT_WEBHOOK_CANARY)
    secrets = read_secrets(config, required=True)
    assert secrets.named("alert_webhook") is secrets.alert_webhook
    assert secrets.alert_webhook is not None
    assert secrets.alert_webhook.reveal() == ALERT_WEBHOOK_CANARY
    assert "canary-webhook" not in repr(secrets.alert_webhook)
