"""Issue 12 item 7: config errors show every problem (unknown keys with did-you-mean first),
index models by the file's own entries, come as JSON with -o json, and a failed Azure
sign-in is one line of aigw's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aigw.config.load import load_env
from aigw.errors import ConfigError
from helpers import ENV_DIR, GATEWAY_KEY_CANARY, REPO

TYPO_CHILD = """extends: base.yaml
models:
  - alias: gpt-4.1-mini
    kind: chat
    api_verison: "2024-10-21"
"""


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    d = tmp_path / "environments"
    d.mkdir()
    (d / "base.yaml").write_bytes((ENV_DIR / "base.yaml").read_bytes())
    (d / "qa.yaml").write_text(TYPO_CHILD)
    (d / "two.yaml").write_text("extends: base.yaml\nproject: Bad_Name\ngateway:\n  port: abc\n")
    return d


def test_unknown_key_did_you_mean_is_shown_with_the_files_own_model_index(env_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_env("qa", env_dir)
    line = info.value.one_line()
    assert "qa.yaml" in line, line
    assert "models[0].api_verison" in line and "did you mean 'api_version'" in line, line
    assert "models[2]" not in line, line  # the merged list's index means nothing to the user
    assert info.value.field == "models[0].api_verison"


def test_every_problem_is_shown(env_dir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_env("two", env_dir)
    line = info.value.one_line()
    assert "project" in line and "gateway.port" in line, line
    assert "more problem" not in line, line


def _aigw(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        env={**base, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1", **env},
    )


@pytest.mark.parametrize("cmd", ["validate", "plan"])
def test_json_output_gives_config_errors_as_json_on_stdout(cmd: str, env_dir: Path) -> None:
    r = _aigw(cmd, "--env", "qa", "--env-dir", str(env_dir), "-o", "json", env={})
    assert r.returncode == 2, r.stderr
    err = json.loads(r.stdout)
    assert set(err) == {"error", "file", "field", "exit_code"}, err
    assert err["exit_code"] == 2 and err["field"] == "models[0].api_verison", err
    assert err["file"].endswith("qa.yaml") and "did you mean" in err["error"], err
    assert len([x for x in r.stderr.splitlines() if x.strip()]) == 1, r.stderr


def test_json_output_of_a_usage_error_is_json_too() -> None:
    r = _aigw("validate", "--output", "json", "--env", "nope1", env={})
    assert r.returncode == 2
    err = json.loads(r.stdout)
    assert err["exit_code"] == 2 and "nope1" in err["error"] and err["file"] is None


def test_failed_azure_sign_in_is_one_line_unless_debug(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),  # no az CLI login, no token cache
        "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
        "AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY,
    }
    r = _aigw("plan", "--env", "dev", "--cloud", "azure", env=env)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert r.returncode == 1 and lines[-1].startswith("error: cannot sign in to Azure"), r.stderr
    assert len(lines) == 1, r.stderr
    debug = _aigw("--debug", "plan", "--env", "dev", "--cloud", "azure", env=env)
    assert "EnvironmentCredential" in debug.stderr  # the detail is there when asked for
