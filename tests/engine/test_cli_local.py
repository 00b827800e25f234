"""CLI guard rails against the local cloud: reviewed-plan checksum, confirmation, prod destroy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.engine import localcloud as daemon
from aigw.resources import names_of
from aigw_localcloud.core.journal import read_journal
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY, REPO


@pytest.fixture
def cloud_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "cloud"
    try:
        yield directory
    finally:
        daemon.stop(directory)


def aigw(cloud_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIGW_LOCALCLOUD_DIR": str(cloud_dir),
        "AIGW_ENV_DIR": str(ENV_DIR),
        "AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY,
        "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY,
        "NO_COLOR": "1",
    }
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args, "--cloud", "local"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def writes(cloud_dir: Path) -> list[str]:
    return [f"{e.method} {e.path}" for e in read_journal(cloud_dir / "journal.jsonl") if e.is_write]


def test_reviewed_plan_checksum_is_enforced(cloud_dir: Path) -> None:
    reviewed = json.loads(aigw(cloud_dir, "plan", "--env", "dev", "-o", "json").stdout)
    assert reviewed["has_changes"] and len(reviewed["checksum"]) == 16
    r = aigw(cloud_dir, "deploy", "--env", "dev", "--yes", "--plan-checksum", "0" * 16)
    assert r.returncode == 1 and "plan changed since it was reviewed" in r.stderr, r.stderr
    assert writes(cloud_dir) == []
    again = json.loads(aigw(cloud_dir, "plan", "--env", "dev", "-o", "json").stdout)
    assert again["checksum"] == reviewed["checksum"]  # same cloud, same plan


def test_no_confirmation_without_a_terminal_means_nothing_written(cloud_dir: Path) -> None:
    r = aigw(cloud_dir, "deploy", "--env", "dev")
    assert r.returncode == 2 and "--yes" in r.stderr, r.stderr
    assert writes(cloud_dir) == []


def test_prod_destroy_needs_the_typed_environment(cloud_dir: Path) -> None:
    # Something of prod's must exist for destroy to have work: its resource group is enough.
    assert aigw(cloud_dir, "plan", "--env", "prod").returncode == 0
    from aigw.engine import workflow

    target = workflow.local_target(cloud_dir)
    from aigw.azure.session import Clients
    from aigw.config.load import load_env

    rg = names_of(load_env("prod", ENV_DIR).config).resource_group
    tags = {"managed-by": "aigw", "aigw-env": "prod", "aigw-project": "aigateway"}  # all three
    Clients(target).resources().resource_groups.create_or_update(
        rg, {"location": "southafricanorth", "tags": tags}
    )
    r = aigw(cloud_dir, "destroy", "--env", "prod", "--yes")
    assert r.returncode == 2 and "--confirm-env prod" in r.stderr, r.stderr
    assert [w for w in writes(cloud_dir) if w.startswith("DELETE")] == []
    r = aigw(cloud_dir, "destroy", "--env", "prod", "--yes", "--confirm-env", "prod")
    assert r.returncode == 0, r.stderr
    assert any(w.startswith("DELETE") and rg in w for w in writes(cloud_dir))
