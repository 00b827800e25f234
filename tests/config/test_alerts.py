"""Issue 26's `alerts:` section (config/alerts.py): receivers, thresholds with defaults, one
switch per rule; a bad value is one line naming the file and the field (exit 2 from the CLI),
and a webhook URL is never a value of the YAML."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aigw.config.alerts import AlertsConfig
from aigw.config.load import load_env
from aigw.errors import ConfigError
from helpers import ALERT_WEBHOOK_CANARY, ENV_DIR, REPO


def _env(tmp_path: Path, overlay: str) -> Path:
    shutil.copy(ENV_DIR / "base.yaml", tmp_path / "base.yaml")
    (tmp_path / "t.yaml").write_text("extends: base.yaml\n" + overlay)
    return tmp_path


def test_no_alerts_section_means_no_alerts(tmp_path: Path) -> None:
    assert load_env("t", _env(tmp_path, "")).config.alerts is None


def test_defaults_of_an_alerts_section(tmp_path: Path) -> None:
    cfg = load_env("t", _env(tmp_path, "alerts: {emails: [ops@example.com]}\n")).config
    a = cfg.alerts
    assert isinstance(a, AlertsConfig)
    assert a.emails == ["ops@example.com"] and a.webhook_url_env is None
    assert (a.frequency_minutes, a.window_minutes, a.min_calls) == (5, 15, 10)
    assert (a.server_errors.percent, a.azure_throttling.percent) == (5, 10)
    assert (a.budget_warning.percent, a.budget_exhausted.percent) == (80, 100)
    assert a.no_success.minutes == 30
    assert all(
        r.enabled
        for r in (
            a.server_errors,
            a.azure_throttling,
            a.budget_warning,
            a.budget_exhausted,
            a.no_success,
        )
    )
    assert a.group_short_name("t") == "aigw-t"
    assert a.group_short_name("staging12") == "aigw-staging"  # cut to Azure's 12


def test_every_setting_can_be_given(tmp_path: Path) -> None:
    overlay = """alerts:
  emails: [ops@example.com, lead@example.org]
  webhook_url_env: AIGW_ALERT_WEBHOOK_URL
  short_name: gw-prod
  frequency_minutes: 10
  window_minutes: 30
  min_calls: 20
  server_errors: {percent: 2.5}
  azure_throttling: {enabled: false, percent: 25}
  budget_warning: {percent: 90}
  no_success: {minutes: 60}
"""
    a = load_env("t", _env(tmp_path, overlay)).config.alerts
    assert a is not None
    assert a.webhook_url_env == "AIGW_ALERT_WEBHOOK_URL" and a.group_short_name("t") == "gw-prod"
    assert a.server_errors.percent == 2.5 and a.azure_throttling.enabled is False
    assert (a.budget_warning.percent, a.no_success.minutes, a.min_calls) == (90, 60, 20)


@pytest.mark.parametrize(
    ("overlay", "field", "expect"),
    [
        ("alerts: {}\n", "alerts", "no receiver"),
        ("alerts: {emails: [not-an-address]}\n", "alerts.emails", "not an e-mail address"),
        (
            "alerts: {emails: [a@example.com, A@example.com]}\n",
            "alerts.emails",
            "listed twice",
        ),
        (
            f"alerts: {{emails: ['{'x' * 60}@example.com']}}\n",
            "alerts.emails",
            "longer than 64",
        ),
        ("alerts: {emails: [a@example.com], short_name: aigw-production}\n", "short_name", "12"),
        ("alerts: {emails: [a@example.com], frequency_minutes: 0}\n", "frequency_minutes", "1"),
        (
            "alerts: {emails: [a@example.com], frequency_minutes: 1441}\n",
            "frequency_minutes",
            "1440",
        ),
        ("alerts: {emails: [a@example.com], window_minutes: 2881}\n", "window_minutes", "2880"),
        (
            "alerts: {emails: [a@example.com], frequency_minutes: 30, window_minutes: 15}\n",
            "alerts",
            "window_minutes (15) is shorter than frequency_minutes (30)",
        ),
        (
            "alerts: {emails: [a@example.com], frequency_minutes: 30, window_minutes: 30, "
            "no_success: {minutes: 5}}\n",
            "alerts",
            "no_success.minutes (5) is shorter",
        ),
        (
            "alerts: {emails: [a@example.com], server_errors: {percent: 0}}\n",
            "server_errors.percent",
            "greater than 0",
        ),
        (
            "alerts: {emails: [a@example.com], server_errors: {percent: '5'}}\n",
            "server_errors.percent",
            "number",
        ),
        (
            "alerts: {emails: [a@example.com], azure_throttling: {enabled: 'yes', percent: 5}}\n",
            "azure_throttling.enabled",
            "boolean",
        ),
        (
            "alerts: {emails: [a@example.com], budget_warning: {percent: 100}}\n",
            "alerts",
            "budget_warning.percent (100) must be below",
        ),
        ("alerts: {emails: [a@example.com], min_call: 3}\n", "min_call", "did you mean"),
        ("alerts: {webhook_url_env: 'my hook'}\n", "webhook_url_env", "environment variable"),
    ],
)
def test_bad_alerts_are_one_line_naming_the_field(
    tmp_path: Path, overlay: str, field: str, expect: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_env("t", _env(tmp_path, overlay))
    line = info.value.one_line()
    assert "t.yaml" in line and field in line and expect in line, line
    assert "\n" not in line


def test_a_webhook_url_in_the_yaml_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_env("t", _env(tmp_path, f"alerts: {{webhook_url_env: '{ALERT_WEBHOOK_CANARY}'}}\n"))
    line = info.value.one_line()
    assert "alerts.webhook_url_env" in line and "name the environment variable" in line, line
    assert ALERT_WEBHOOK_CANARY not in line


def test_the_cli_says_a_bad_alerts_value_in_one_line_and_exits_2(tmp_path: Path) -> None:
    env_dir = _env(tmp_path, "alerts: {emails: [a@example.com], frequency_minutes: 0}\n")
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    r = subprocess.run(
        [sys.executable, "-m", "aigw", "validate", "--env", "t", "--env-dir", str(env_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        env={**base, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"},
    )
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
    assert len(lines) == 1 and "alerts.frequency_minutes" in lines[0], lines
    assert "Traceback" not in r.stderr


def test_a_rule_is_switched_off_or_moved_without_restating_the_rest(tmp_path: Path) -> None:
    overlay = (
        "alerts: {emails: [a@example.com], no_success: {enabled: false}, "
        "server_errors: {enabled: false}, azure_throttling: {percent: 20}}\n"
    )
    a = load_env("t", _env(tmp_path, overlay)).config.alerts
    assert a is not None
    assert (a.server_errors.enabled, a.server_errors.percent) == (False, 5)
    assert (a.azure_throttling.enabled, a.azure_throttling.percent) == (True, 20)
    assert (a.no_success.enabled, a.no_success.minutes) == (False, 30)
