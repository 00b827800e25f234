"""Under `--cloud local` the Azure OpenAI accounts and deployments are the local cloud's own
world, seeded from a world file, never from the YAML under test (issue 23 #1). Through the
real CLI and the daemon: a model naming a deployment the world lacks fails `plan` as on Azure
(exit 1, one line naming the deployment and the account, zero writes); so does an endpoint
naming an account the world lacks, and a cloud never seeded says how to seed it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw_localcloud.core.journal import read_journal
from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY, REPO

from .harness import cli_environ

LOCAL = ("--env", "dev", "--cloud", "local")


def _aigw(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )
    assert GATEWAY_KEY_CANARY not in r.stdout + r.stderr
    assert AOAI_KEY_CANARY not in r.stdout + r.stderr
    return r


def _writes(env: dict[str, str]) -> list[str]:
    journal = Path(env["AIGW_LOCALCLOUD_DIR"]) / "journal.jsonl"
    return [f"{e.method} {e.path}" for e in read_journal(journal) if e.is_write]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    from aigw.engine import localcloud as daemon

    e = cli_environ(tmp_path)
    try:
        yield e
    finally:
        daemon.stop(tmp_path / "localcloud")


def test_a_deployment_the_world_lacks_fails_plan_with_zero_writes(env: dict[str, str]) -> None:
    dev = Path(env["AIGW_ENV_DIR"]) / "dev.yaml"
    dev.write_text(
        dev.read_text()
        + "models:\n  - alias: ghost\n    kind: chat\n    deployment: no-such-deployment\n"
        "    api_version: '2024-10-21'\n"
    )
    r = _aigw(env, "plan", *LOCAL)
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "no-such-deployment" in lines[0] and "mys-shared-ai-swc" in lines[0], lines[0]
    assert _writes(env) == []
    # the world is the cloud's own: the plan did not add the YAML's deployment to it
    world = json.loads(_aigw(env, "localcloud", "world", "-o", "json").stdout)
    (account,) = world["openai_accounts"]
    assert [d["name"] for d in account["deployments"]] == [
        "gpt-5.3-codex",
        "text-embedding-3-large",
    ]


def test_an_account_the_world_lacks_fails_plan(env: dict[str, str]) -> None:
    dev = Path(env["AIGW_ENV_DIR"]) / "dev.yaml"
    dev.write_text(
        dev.read_text() + "azure_openai:\n  endpoint: https://nobody-here.openai.azure.com\n"
    )
    r = _aigw(env, "plan", *LOCAL)
    assert r.returncode == 1, (r.stdout, r.stderr)
    line = r.stderr.strip()
    assert "\n" not in line and "no Azure OpenAI account 'nobody-here'" in line, line
    assert "aigw localcloud seed" in line
    assert _writes(env) == []


def test_a_cloud_never_seeded_says_how_and_seed_makes_plan_pass(env: dict[str, str]) -> None:
    unseeded = {k: v for k, v in env.items() if k != "AIGW_LOCALCLOUD_WORLD"}
    r = _aigw(unseeded, "plan", *LOCAL)
    assert r.returncode == 1 and "aigw localcloud seed localcloud/world.yaml" in r.stderr
    assert "mys-shared-ai-swc" in r.stderr
    seeded = _aigw(unseeded, "localcloud", "seed", "localcloud/world.yaml")
    assert seeded.returncode == 0, seeded.stderr
    assert (
        "mys-shared-ai-swc (swedencentral, rg-openai-shared, key from "
        "AIGW_AZURE_OPENAI_API_KEY)" in seeded.stdout
    )
    assert "gpt-5.3-codex: gpt-5.3-codex 2026-02-24, capacity 100" in seeded.stdout
    r = _aigw(unseeded, "plan", *LOCAL, "--detailed-exitcode")
    assert r.returncode == 2, (r.stdout, r.stderr)  # a plan with changes, no error


def test_a_bad_world_file_is_exit_2_naming_the_field(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "w.yaml"
    bad.write_text(
        "openai_accounts:\n  - name: ok-name\n    deployments: [{name: x, model: nope}]\n"
    )
    r = _aigw(env, "localcloud", "seed", str(bad))
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f"error: {bad}: openai_accounts[0].deployments[0].model: 'nope' is not a model the "
        "local cloud offers (a gpt-4o, gpt-4.1, gpt-5*, o1/o3/o4 chat or codex model, or "
        "text-embedding-3-large/-small/ada-002)"
    )
