"""The composite action's run step, driving aigw against the local cloud as a CI job would:
deploy, then a drift check; the job summary gets the tables and never a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigw.engine import localcloud as daemon
from ci.test_github_workflows import run_action_step
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


def test_action_deploys_and_checks_drift_on_the_local_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud_dir = tmp_path / "cloud"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    summary = tmp_path / "summary.md"
    summary.write_text("")
    for key, value in {
        "AIGW_LOCALCLOUD_DIR": str(cloud_dir),
        "AIGW_ENV_DIR": str(ENV_DIR),
        "AIGW_CLOUD": "local",
        "AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY,
        "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY,
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTIONS": "true",
    }.items():
        monkeypatch.setenv(key, value)
    try:
        deployed, out = run_action_step("deploy --env dev --yes", tmp_path / "a")
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        assert out == "exit-code=0\n"
        drift, out = run_action_step("plan --env dev --detailed-exitcode", tmp_path / "b")
        assert drift.returncode == 0 and out == "exit-code=0\n", drift.stderr[-2000:]
    finally:
        daemon.stop(cloud_dir)
    text = summary.read_text()
    assert "## aigw plan: dev" in text or "aigw plan: dev" in text
    assert "| check | result | ms | details |" in text  # the smoke-test table
    assert "| action | kind | name | details |" in text  # the plan table
    assert "gateway_url" in text
    everything = text + deployed.stdout + deployed.stderr + drift.stdout + drift.stderr
    assert GATEWAY_KEY_CANARY not in everything and AOAI_KEY_CANARY not in everything
