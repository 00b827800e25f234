"""`aigw doctor` on the local cloud: read-only, seconds, one line per problem with its fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.config_load import load_env
from aigw.localcloud import daemon
from aigw.localcloud.journal import read_journal
from aigw.localcloud.state import StateStore
from conftest import ENV_DIR, REPO


@pytest.fixture
def cloud_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "cloud"
    try:
        yield directory
    finally:
        daemon.stop(directory)


def doctor(cloud_dir: Path, env_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIGW_LOCALCLOUD_DIR": str(cloud_dir),
        "AIGW_ENV_DIR": str(env_dir),
        "NO_COLOR": "1",
    }
    for var in ("GITHUB_ACTIONS", "AIGW_GATEWAY_KEY", "AIGW_AZURE_OPENAI_API_KEY"):
        env.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "aigw", "doctor", "--env", "dev", "--cloud", "local", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def writes(cloud_dir: Path) -> list[str]:
    return [f"{e.method} {e.path}" for e in read_journal(cloud_dir / "journal.jsonl") if e.is_write]


def test_doctor_on_a_ready_cloud(cloud_dir: Path) -> None:
    r = doctor(cloud_dir, ENV_DIR)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[-1] == "ready"
    assert lines[0].startswith("ok signed in: User ")
    assert any("role assignments: may create them" in x and "Owner" in x for x in lines)
    assert any("vault name:" in x and "is available" in x for x in lines)
    assert sum(x.startswith("ok provider: ") for x in lines) == 4
    started = time.monotonic()
    again = doctor(cloud_dir, ENV_DIR, "-o", "json")  # the cloud is running now
    took = time.monotonic() - started
    assert again.returncode == 0 and json.loads(again.stdout)["ok"] is True
    assert took < 10, took
    assert writes(cloud_dir) == []


def test_doctor_names_each_problem_with_its_fix(cloud_dir: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "environments"
    shutil.copytree(ENV_DIR, env_dir)
    dev = env_dir / "dev.yaml"
    dev.write_text(dev.read_text() + "location: westindia\nlocation_short: inw\n")
    doctor(cloud_dir, env_dir)  # starts the cloud (the location problem makes it exit 1)
    vault = load_env("dev", env_dir).config.names().key_vault
    with StateStore(cloud_dir).write() as st:
        st["deny_deployer"] = True  # a Contributor: no Microsoft.Authorization/*/Write
        st["taken_vault_names"].append(vault)
        st["providers"]["microsoft.app"]["state"] = "NotRegistered"
        # CI signs in as a service principal: its token says idtyp=app.
        st["principals"][st["deployer_principal_id"].lower()] = {
            "created": 0.0,
            "kind": "ServicePrincipal",
        }
    mark = len(writes(cloud_dir))
    r = doctor(cloud_dir, env_dir, "-o", "json")
    assert r.returncode == 1, r.stdout + r.stderr
    checks = json.loads(r.stdout)["checks"]
    assert checks[0]["detail"].startswith("ServicePrincipal ")
    failed = {c["check"]: c for c in checks if not c["ok"]}
    assert set(failed) == {"role assignments", "location", "key_vault.name_suffix"}
    assert "User Access Administrator" in failed["role assignments"]["fix"]
    assert "southafricanorth" in failed["location"]["fix"]
    assert vault in failed["key_vault.name_suffix"]["detail"]
    assert "name_suffix: auto" in failed["key_vault.name_suffix"]["fix"]
    text = doctor(cloud_dir, env_dir)
    problems = [x for x in text.stdout.splitlines() if x.startswith("FAIL")]
    assert len(problems) == 3 and all("-> fix: " in x for x in problems)
    assert "Microsoft.App is NotRegistered (deploy registers it" in text.stdout
    assert writes(cloud_dir)[mark:] == []


def test_which_assignment_scopes_cover_the_vault() -> None:
    from aigw.doctor import _in_scope

    vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
    assert _in_scope(vault, "/subscriptions/S")
    assert _in_scope(vault, "/subscriptions/s/resourcegroups/RG")
    assert _in_scope(vault, vault.upper())
    assert _in_scope(vault, "/providers/Microsoft.Management/managementGroups/root")
    assert not _in_scope(vault, "/subscriptions/s/resourceGroups/rg2")
    assert not _in_scope(vault, "/subscriptions/s/resourceGroups/r")
    assert not _in_scope(vault, "/subscriptions/other")
