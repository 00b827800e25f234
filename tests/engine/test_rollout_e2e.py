"""Safe rollouts end to end, through the real CLI on the local cloud with the real LiteLLM:
4 callers loop through the gateway's main URL while deploy rolls a changed config (0 failed
calls, exit 0), then a broken one (0 failed calls, exit 1, the live revision unchanged, the
candidate deactivated), then `aigw rollback` returns to the revision before. bench/rollout.py
is the larger measurement."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import GATEWAY_KEY_CANARY, REPO

from .harness import cli_environ
from .rollout_load import CallerLoop, add_model, gateway, pin_codex_deployment

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


def aigw(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert GATEWAY_KEY_CANARY not in r.stdout + r.stderr
    return r


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("rollout")
    environ = cli_environ(root)
    try:
        yield environ
    finally:
        daemon.stop(root / "localcloud")


def deploy(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    r = aigw(env, "deploy", "--env", "dev", "--cloud", "local", "--yes", "-o", "json")
    try:
        data = json.loads(r.stdout) if r.stdout.strip() else {}
    except ValueError:
        data = {}
    return r.returncode, {**data, "_stderr": r.stderr}


def test_rollouts_never_break_the_live_gateway(env: dict[str, str]) -> None:
    code, first = deploy(env)
    assert code == 0, first["_stderr"][-3000:]
    assert first["rollout"]["promoted"] and first["rollout"]["live_before"] is None
    url = first["outputs"]["gateway_url"]
    rev1 = first["rollout"]["candidate"]

    # Nothing changed: nothing written, no new revision.
    code, again = deploy(env)
    assert code == 0 and not again["applied"] and again["rollout"] is None, again["_stderr"]

    env_file = Path(env["AIGW_ENV_DIR"]) / "dev.yaml"
    ca = Path(env["AIGW_LOCALCLOUD_DIR"]) / "ca.pem"
    # A changed config, under load: 0 failed calls, the new revision serves after.
    add_model(env_file, "gpt-5.3-codex-b", "2025-04-01-preview")
    with CallerLoop(url, GATEWAY_KEY_CANARY, ca, callers=4) as loop:
        code, good = deploy(env)
    assert code == 0, json.dumps(good.get("rollout"))
    assert loop.failed == 0 and loop.ok > 0, loop.errors[:5]
    rev2 = good["rollout"]["candidate"]
    assert good["rollout"]["promoted"] and good["rollout"]["live_before"] == rev1
    assert gateway(url, GATEWAY_KEY_CANARY, ca, "gpt-5.3-codex-b") == 200

    # A broken config (a chat alias on the codex deployment, which serves only the Responses
    # API; plan's preflight does not see it): caught by the smoke test on the label URL, never
    # served; 0 failed calls; exit 1; the candidate deactivated.
    pin_codex_deployment(Path(env["AIGW_LOCALCLOUD_DIR"]))
    add_model(env_file, "gpt-5.3-codex-broken", "2024-10-21", kind="chat")
    with CallerLoop(url, GATEWAY_KEY_CANARY, ca, callers=4) as loop:
        code, bad = deploy(env)
    assert code == 1, bad["_stderr"][-3000:]
    assert "failed its smoke test" in bad["_stderr"] and rev2 in bad["_stderr"]
    assert loop.failed == 0 and loop.ok > 0, loop.errors[:5]
    assert gateway(url, GATEWAY_KEY_CANARY, ca, "gpt-5.3-codex-broken") != 200  # not served

    # Back to the revision before rev2, proven by the smoke test.
    r = aigw(env, "rollback", "--env", "dev", "--cloud", "local", "--yes", "-o", "json")
    assert r.returncode == 0, r.stderr[-3000:]
    back = json.loads(r.stdout)
    assert back["revision"] == rev1 and back["from"] == rev2 and back["promoted"]
    assert gateway(url, GATEWAY_KEY_CANARY, ca, "gpt-5.3-codex-b") != 200  # rev1 lacks it
    assert gateway(url, GATEWAY_KEY_CANARY, ca, "gpt-5.3-codex") == 200
