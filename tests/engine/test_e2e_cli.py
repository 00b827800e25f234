"""The whole mission through the real CLI, as subprocesses, on the local cloud with the real
LiteLLM: deploy -> plan (no changes) -> smoke-test -> rotate-key -> destroy -> plan (creates).
Canary keys must appear in no output of any step."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY, REPO

from .harness import cli_environ

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_-]{40,}")


class Runner:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.outputs: list[str] = []
        self.timings: dict[str, float] = {}

    def __call__(
        self, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        t0 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "aigw", *args],
            capture_output=True,
            text=True,
            env={**self.env, **(extra_env or {})},
            cwd=REPO,
            timeout=timeout,
        )
        self.timings[" ".join(args[:1] + args[3:])] = round(time.perf_counter() - t0, 1)
        self.outputs += [r.stdout, r.stderr]
        for text in (r.stdout, r.stderr):
            assert GATEWAY_KEY_CANARY not in text, (args, text)
            assert AOAI_KEY_CANARY not in text, (args, text)
        return r


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("e2e")
    cloud_dir = root / "localcloud"
    env = cli_environ(root)
    runner = Runner(env)
    try:
        yield runner
    finally:
        daemon.stop(cloud_dir)
        print("e2e step timings (s):", runner.timings)
        assert not Path(cloud_dir / "endpoint.json").exists() or daemon.status(cloud_dir) is None


def _plan_json(run: Runner, extra_env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    r = run(
        "plan",
        "--env",
        "dev",
        "--cloud",
        "local",
        "-o",
        "json",
        "--detailed-exitcode",
        extra_env=extra_env,
    )
    assert r.returncode in (0, 2), r.stderr
    return r.returncode, json.loads(r.stdout)


def _actions(plan: dict[str, Any]) -> dict[str, str]:
    changes = plan["changes"]
    assert isinstance(changes, list)
    return {c["key"]: c["action"] for c in changes}


def test_1_deploy(run: Runner) -> None:
    r = run("deploy", "--env", "dev", "--cloud", "local", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"smoke test .*https://127\.0\.0\.1:", r.stderr), r.stderr
    assert "no key is refused" in r.stderr and "FAIL" not in r.stderr
    assert re.search(r"gateway_url\s.*https://127\.0\.0\.1:\d+", r.stdout), r.stdout


def test_2_plan_after_deploy_is_empty(run: Runner) -> None:
    r = run("plan", "--env", "dev", "--cloud", "local", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr


def test_2b_status_shows_every_resource_and_a_live_gateway(run: Runner) -> None:
    r = run("status", "--env", "dev", "--cloud", "local", "-o", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    rows = {row["kind"]: row for row in data["resources"]}
    assert all(row["ok"] for row in data["resources"]), data["resources"]
    assert rows["gateway"]["state"].endswith("HTTP 200")
    assert data["outputs"]["resource_group"] == "pvc-dev-aigateway-rg-san"


def test_3_smoke_test_if_the_cli_has_it(run: Runner) -> None:
    help_text = run("--help").stdout
    if not re.search(r"^\s+smoke-test\s", help_text, re.M):
        pytest.skip("aigw smoke-test is not in this CLI yet")
    r = run("smoke-test", "--env", "dev", "--cloud", "local")
    assert r.returncode == 0, r.stdout + r.stderr


def test_4_client_config_reads_the_deployed_url(run: Runner) -> None:
    r = run("client-config", "--env", "dev", "--cloud", "local", "--client", "codex", "-o", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["gateway_url"].startswith("https://127.0.0.1:")
    assert f'base_url = "{data["gateway_url"]}/v1"' in data["text"]


def test_5_rotate_key_generated_never_shown(run: Runner) -> None:
    r = run("rotate-key", "--env", "dev", "--cloud", "local", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "old key is refused" in r.stderr and "FAIL" not in r.stderr
    assert "AIGW_GATEWAY_KEY" in r.stdout and "aigw client-config" in r.stdout
    assert not KEY_LIKE.search(r.stdout + r.stderr)  # the generated key is not printed
    # The environment variable still holds the old key: plan sees the drift.
    code, plan = _plan_json(run)
    assert code == 2 and _actions(plan)["secret:gateway-key"] == "update"


def test_6_rotate_key_from_env_with_show(run: Runner) -> None:
    new = "sk-e2e-rotated-" + "b" * 40
    r = run(
        "rotate-key",
        "--env",
        "dev",
        "--cloud",
        "local",
        "--yes",
        "--new-key-env",
        "AIGW_NEW_GATEWAY_KEY",
        "--show",
        "-o",
        "json",
        extra_env={"AIGW_NEW_GATEWAY_KEY": new},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    assert data["new_key"] == new and data["ok"]
    assert new not in r.stderr
    # With the variable updated, deploy has nothing to do.
    code, plan = _plan_json(run, extra_env={"AIGW_GATEWAY_KEY": new})
    assert code == 0, plan


def test_7_destroy_leaves_nothing(run: Runner) -> None:
    r = run("destroy", "--env", "dev", "--cloud", "local", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    code, plan = _plan_json(run)
    actions = _actions(plan)
    assert code == 2
    assert actions["resource_group"] == "create" and actions["container_app"] == "create"
    assert actions["key_vault"] in ("create", "recover")  # soft-deleted vault is recovered


def test_8_no_canary_anywhere(run: Runner) -> None:
    assert len(run.outputs) >= 18
    joined = "\n".join(run.outputs)
    assert GATEWAY_KEY_CANARY not in joined and AOAI_KEY_CANARY not in joined
