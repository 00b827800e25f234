"""Issue 11, behaviour 4: a gateway key change takes effect deterministically. Through the real
CLI (subprocesses) on the local cloud with the real LiteLLM: four deploys in a row, each with
a new AIGW_GATEWAY_KEY, each passes its smoke test; then rotate-key; the plan stays empty.

The local cloud holds Key Vault references like Container Apps (localcloud/kv_refs.py): a
versionless reference is not re-read by a restart before the platform's 30-minute refresh, so
restart-and-hope serves the old key here as it would on Azure."""

from __future__ import annotations

import json
import secrets
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import GATEWAY_KEY_CANARY

from .harness import cli_environ
from .test_e2e_cli import Runner

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("keychange")
    cloud_dir = root / "localcloud"
    env = cli_environ(root)
    # Started from this process, so stopping it can reap it (a daemon left to an init that
    # does not reap stays a zombie and stop() would wait for it in vain).
    daemon.ensure_running(cloud_dir)
    runner = Runner(env)
    try:
        yield runner
    finally:
        daemon.stop(cloud_dir)
        print("key change step timings (s):", runner.timings)


def _status(url: str, key: str, ca: Path) -> int:
    verify = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(base_url=url, verify=verify, timeout=30, trust_env=False) as c:
        return c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code


def _deploy(run: Runner, key: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    r = run(
        "deploy", "--env", "dev", "--cloud", "local", "--yes", "-o", "json",
        extra_env={"AIGW_GATEWAY_KEY": key},
    )  # fmt: skip
    assert key not in r.stdout + r.stderr
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    data: dict[str, Any] = json.loads(r.stdout)
    failed = [row for row in data["smoke"] if not row["ok"]]
    assert data["smoke"] and not failed, failed
    data["stderr"] = r.stderr
    data["seconds"] = time.perf_counter() - t0
    return data


def test_four_deploys_in_a_row_each_with_a_new_key_then_rotate_key(run: Runner) -> None:
    ca = Path(run.env["AIGW_LOCALCLOUD_DIR"]) / "ca.pem"
    first = _deploy(run, GATEWAY_KEY_CANARY)
    url = first["outputs"]["gateway_url"]
    old = GATEWAY_KEY_CANARY
    for i in range(4):
        new = f"sk-key-change-{i}-{secrets.token_hex(16)}"
        data = _deploy(run, new)
        actions = {c["key"]: c["action"] for c in data["plan"]["changes"]}
        assert actions["secret:gateway-key"] == "update", actions
        assert actions["container_app"] == "update", actions  # the versioned reference moves
        assert "waiting until the gateway accepts the new key" in data["stderr"], data["stderr"]
        assert "internal error" not in data["stderr"]
        assert _status(url, new, ca) == 200
        assert 400 <= _status(url, old, ca) < 500
        switch = next(r for r in data["smoke"] if r["name"] == "gateway switched to the new key")
        took, waited = data["seconds"], switch["ms"] / 1000
        print(f"key change {i + 1}: deploy {took:.1f}s, of which switch wait {waited:.1f}s")
        old = new
    # Nothing changed: nothing to do (the versioned URL is derived from what Azure holds).
    r = run("plan", "--env", "dev", "--cloud", "local", "--detailed-exitcode",
            extra_env={"AIGW_GATEWAY_KEY": old})  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    # rotate-key still proves the new key works and the old one is refused.
    rotated = f"sk-rotated-{secrets.token_hex(20)}"
    r = run(
        "rotate-key", "--env", "dev", "--cloud", "local", "--yes", "-o", "json",
        "--new-key-env", "AIGW_NEW_GATEWAY_KEY",
        extra_env={"AIGW_GATEWAY_KEY": old, "AIGW_NEW_GATEWAY_KEY": rotated},
    )  # fmt: skip
    assert rotated not in r.stdout + r.stderr
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    checks = {c["name"]: c["ok"] for c in json.loads(r.stdout)["checks"]}
    assert checks["gateway switched to the new key"] and checks["old key is refused"], checks
    assert _status(url, rotated, ca) == 200 and 400 <= _status(url, old, ca) < 500
    r = run("plan", "--env", "dev", "--cloud", "local", "--detailed-exitcode",
            extra_env={"AIGW_GATEWAY_KEY": rotated})  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
