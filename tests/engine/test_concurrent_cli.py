"""Two `aigw deploy` of one environment started together on one machine: the second waits for
the first (a lock per environment), then finds nothing to do: one version per secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aigw.engine import localcloud as daemon
from aigw_localcloud.core.journal import read_journal
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY, REPO

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


def test_two_cli_deploys_at_once_write_each_secret_once(tmp_path: Path) -> None:
    cloud_dir = tmp_path / "cloud"
    env = {
        **os.environ,
        "AIGW_LOCALCLOUD_DIR": str(cloud_dir),
        "AIGW_LOCK_DIR": str(tmp_path / "locks"),
        "AIGW_ENV_DIR": str(ENV_DIR),
        "AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY,
        "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY,
        "NO_COLOR": "1",
    }
    env.pop("GITHUB_ACTIONS", None)
    daemon.ensure_running(cloud_dir)  # one cloud for both
    cmd = [
        sys.executable,
        "-m",
        "aigw",
        "deploy",
        "--env",
        "dev",
        "--cloud",
        "local",
        "--yes",
        "--no-smoke",
    ]
    try:
        procs = [
            subprocess.Popen(
                cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        daemon.stop(cloud_dir)
    assert [p.returncode for p in procs] == [0, 0], [o[1][-1500:] for o in outs]
    assert any("waiting for" in err for _, err in outs), "neither deploy waited for the other"
    writes = [e for e in read_journal(cloud_dir / "journal.jsonl") if e.is_write]
    secret_puts = [e.path for e in writes if e.method == "PUT" and "/secrets/" in e.path]
    assert sorted(secret_puts) == sorted({*secret_puts}) and len(secret_puts) == 2, secret_puts
    app_puts = [e for e in writes if e.method == "PUT" and "/containerApps/" in e.path]
    assert len(app_puts) == 1
