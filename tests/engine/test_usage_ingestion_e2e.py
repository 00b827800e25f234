"""Issue 23 item 5: `aigw usage` against Log Analytics as Azure keeps it, end to end through the
real CLI on the local cloud with the real LiteLLM:

- right after a first deploy the workspace has no ContainerAppConsoleLogs_CL table yet (the
  local cloud started with $AIGW_LOCALCLOUD_INGESTION_DELAY=3600: nothing is ingested): exit 0,
  "no usage yet", and `no_usage_yet: true` in JSON;
- with an ingestion delay, a call's row is counted only once ingested, and aigw says how old the
  newest row is (never younger than the delay);
- an environment with dynamicJsonColumns (usage lines split into Log_<key>_<type> columns,
  Log_s empty) is still counted, tokens equal to what the emulator returned.
"""

from __future__ import annotations

import json
import subprocess
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

CODEX = "gpt-5.3-codex"
DELAY = 15.0  # seconds: the ingestion delay of the second test


class Env:
    def __init__(self, root: Path, run: Runner) -> None:
        self.root = root
        self.run = run
        self.cloud_dir = root / "localcloud"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("usage-ingestion")
    environ = {**cli_environ(root), "AIGW_LOCALCLOUD_INGESTION_DELAY": "3600"}
    run = Runner(environ)
    try:
        r = run("deploy", "--env", "dev", "--cloud", "local", "--yes", timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        yield Env(root, run)
    finally:
        daemon.stop(root / "localcloud")
        print("usage ingestion e2e step timings (s):", run.timings)


def _usage(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return env.run("usage", "--env", "dev", "--cloud", "local", *args)


def _json(env: Env) -> dict[str, Any]:
    r = _usage(env, "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    return dict(json.loads(r.stdout))


def _state(env: Env, change: Any) -> None:
    from aigw_localcloud.core.state import StateStore

    with StateStore(env.cloud_dir).write() as st:
        change(st)


def _set_delay(env: Env, seconds: float) -> None:
    _state(env, lambda st: st.update(ingestion_delay=seconds))


def _call(env: Env) -> int:
    """One call through the gateway; the total tokens the emulator reported."""
    r = env.run("client-config", "--env", "dev", "--cloud", "local", "--client", "codex", "-o",
                "json")  # fmt: skip
    url = json.loads(r.stdout)["gateway_url"]
    with httpx.Client(
        base_url=url,
        verify=str(env.cloud_dir / "ca.pem"),
        headers={"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"},
        timeout=60,
        trust_env=False,
    ) as c:
        resp = c.post("/v1/responses", json={"model": CODEX, "input": "hello there"})
        assert resp.status_code == 200, resp.text[:300]
        return int(resp.json()["usage"]["total_tokens"])


def _wait_for(env: Env, requests: int, timeout: float = 90, min_age: float = 0.0) -> dict[str, Any]:
    """Poll until `requests` are counted; every visible row is at least `min_age` old (the
    ingestion delay in force, less a second)."""
    deadline = time.monotonic() + timeout
    while True:
        data = _json(env)
        if data["total"]["requests"] >= requests:
            return data
        if data["newest_row_age_seconds"] is not None:  # visible rows are never younger
            assert data["newest_row_age_seconds"] >= min_age, data
        assert time.monotonic() < deadline, data
        time.sleep(1)


def test_right_after_a_first_deploy_there_is_no_usage_yet(env: Env) -> None:
    r = _usage(env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no usage yet" in r.stdout and "Traceback" not in r.stderr
    data = _json(env)
    assert data["no_usage_yet"] is True
    assert data["rows"] == [] and data["total"]["requests"] == 0
    assert data["newest_row_time"] is None
    csv = _usage(env, "-o", "csv")
    assert csv.returncode == 0 and csv.stdout.splitlines() == [
        "key,requests,failures,refused,prompt_tokens,completion_tokens,total_tokens"
    ]
    assert "no usage yet" in csv.stderr


def test_rows_count_once_ingested_and_the_newest_rows_age_is_shown(env: Env) -> None:
    _set_delay(env, DELAY)
    time.sleep(DELAY + 1)  # the deploy's smoke test calls are older than the delay now
    before = _json(env)
    assert before["no_usage_yet"] is False
    assert before["total"]["requests"] >= 1, before  # the smoke test's call
    assert before["newest_row_age_seconds"] >= DELAY - 1

    tokens = _call(env)
    right_after = _json(env)  # within the delay: the call is not ingested yet
    assert right_after["total"]["requests"] == before["total"]["requests"], right_after
    after = _wait_for(env, before["total"]["requests"] + 1, min_age=DELAY - 1)
    assert after["total"]["total_tokens"] == before["total"]["total_tokens"] + tokens
    assert after["newest_row_age_seconds"] >= DELAY - 1
    text = _usage(env)
    assert text.returncode == 0 and "newest usage row:" in text.stdout
    assert " old" in text.stdout and "20 s to 3 min" in text.stdout


def _dynamic_json_columns(st: dict[str, Any]) -> None:
    for r in st["resources"].values():
        if r["type"] == "Microsoft.App/managedEnvironments":
            la = r["properties"]["appLogsConfiguration"]["logAnalyticsConfiguration"]
            la["dynamicJsonColumns"] = True  # as the portal's checkbox sets it (issue #938)


def test_dynamic_json_columns_rows_are_counted(env: Env) -> None:
    _set_delay(env, 0.0)
    before = _json(env)
    _state(env, _dynamic_json_columns)
    tokens = _call(env) + _call(env)
    after = _wait_for(env, before["total"]["requests"] + 2)
    assert after["total"]["requests"] == before["total"]["requests"] + 2
    assert after["total"]["total_tokens"] == before["total"]["total_tokens"] + tokens
    # those rows were split: Log_s empty, the line in Log_<key>_<type> columns
    split = _query(env, "ContainerAppConsoleLogs_CL | where isnotnull(Log_aigw_usage_d)")
    assert len(split) >= 2 and all(r["Log_s"] == "" and r["Log_model_s"] for r in split), split


def _query(env: Env, kql: str) -> list[dict[str, Any]]:
    from azure.monitor.query import LogsQueryClient

    from aigw_localcloud.core.credential import LocalCredential
    from aigw_localcloud.core.endpoint import read_endpoint

    ep = read_endpoint(env.cloud_dir)
    assert ep is not None
    state = json.loads((env.cloud_dir / "state.json").read_text())
    (customer_id,) = [
        r["properties"]["customerId"]
        for r in state["resources"].values()
        if r["type"] == "Microsoft.OperationalInsights/workspaces"
    ]
    client = LogsQueryClient(
        LocalCredential(ep.deployer_principal_id, ep.tenant_id),
        endpoint=ep.arm_url,
        connection_verify=str(env.cloud_dir / "ca.pem"),
    )
    result: Any = client.query_workspace(customer_id, kql, timespan=None)
    (table,) = result.tables
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]
