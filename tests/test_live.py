"""Opt-in: deploy dev to a real subscription, smoke-test it, destroy it.

Run with AIGW_LIVE=1, AZURE_SUBSCRIPTION_ID, AIGW_GATEWAY_KEY and AIGW_AZURE_OPENAI_API_KEY set,
after `az login` (or OIDC): `python -m pytest -m live tests/test_live.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO

NEEDED = ("AZURE_SUBSCRIPTION_ID", "AIGW_GATEWAY_KEY", "AIGW_AZURE_OPENAI_API_KEY")
missing = [v for v in NEEDED if not os.environ.get(v)]

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        os.environ.get("AIGW_LIVE") != "1" or bool(missing),
        reason="live Azure test: set AIGW_LIVE=1 and " + ", ".join(NEEDED),
    ),
]


def aigw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=3600,
    )


def test_live_deploy_smoke_destroy() -> None:
    env = os.environ.get("AIGW_LIVE_ENV", "dev")
    try:
        r = aigw("deploy", "--env", env, "--yes")
        assert r.returncode == 0, r.stderr[-2000:]
        r = aigw("plan", "--env", env, "--detailed-exitcode")
        assert r.returncode == 0, r.stdout[-2000:]
        r = aigw("smoke-test", "--env", env)
        assert r.returncode == 0, r.stdout[-2000:]
    finally:
        r = aigw("destroy", "--env", env, "--yes", "--confirm-env", env)
        assert r.returncode == 0, r.stderr[-2000:]
