"""The allowed side of gateway.allowed_ips through the real CLI and LiteLLM: with the local
cloud's caller address inside the list, deploy says which address it checked, rolls the new
revision, smoke-tests it on its label's URL through the enforced ingress and promotes it
(tests/engine/test_ingress_access.py: the refused side, with no LiteLLM)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import GATEWAY_KEY_CANARY, REPO

from .harness import cli_environ

pytestmark = [pytest.mark.litellm]

ALLOWED = "198.51.100.7"
DEPLOY = ["deploy", "--env", "dev", "--cloud", "local", "--yes", "-o", "json"]


def test_deploy_from_an_allowed_address_rolls_out(tmp_path: Path) -> None:
    from aigw.engine import localcloud as daemon

    env = cli_environ(tmp_path)
    dev = Path(env["AIGW_ENV_DIR"]) / "dev.yaml"
    dev.write_text(dev.read_text() + "gateway:\n  allowed_ips: ['198.51.100.0/24']\n")
    env["AIGW_LOCALCLOUD_CALLER_IP"] = ALLOWED
    env.pop("AIGW_FROM_IP", None)
    try:
        r = subprocess.run(
            [sys.executable, "-m", "aigw", *DEPLOY],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert GATEWAY_KEY_CANARY not in r.stdout + r.stderr
        assert r.returncode == 0, r.stderr[-3000:]
        assert f"smoke test from {ALLOWED}" in r.stderr, r.stderr[-3000:]
        data = json.loads(r.stdout)
        assert data["rollout"]["promoted"], data["rollout"]
        assert data["smoke"] and all(c["ok"] for c in data["smoke"]), data["smoke"]
    finally:
        daemon.stop(tmp_path / "localcloud")
