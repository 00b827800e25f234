"""`aigw key show` and `aigw status` through the CLI against a local cloud (the container app
runs a stand-in, not LiteLLM, to stay fast): the key read-only and shown only when asked;
status after destroy says "not deployed"."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from aigw.localcloud.aoai import AzureOpenAIEmulator
from aigw.localcloud.cloud import LocalCloud
from conftest import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY, REPO

from .fake_runner import FakeRunner


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    runner = FakeRunner()
    aoai = AzureOpenAIEmulator(deployments={}).start()
    c = LocalCloud(tmp_path_factory.mktemp("keys") / "cloud", app_runner=runner, retry_after=None)
    c.aoai_url = aoai.url
    c.start()  # writes endpoint.json: `--cloud local` in a subprocess uses this very cloud
    try:
        yield c
    finally:
        c.stop()
        runner.stop_all()
        aoai.stop()


def aigw(cloud: LocalCloud, *args: str, keys: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIGW_LOCALCLOUD_DIR": str(cloud.state_dir), "NO_COLOR": "1"}
    env["AIGW_ENV_DIR"] = str(ENV_DIR)
    for var in ("AIGW_GATEWAY_KEY", "AIGW_AZURE_OPENAI_API_KEY", "TF_VAR_gateway_key"):
        env.pop(var, None)
    env.pop("GITHUB_ACTIONS", None)
    if keys:
        env.update(AIGW_GATEWAY_KEY=GATEWAY_KEY_CANARY, AIGW_AZURE_OPENAI_API_KEY=AOAI_KEY_CANARY)
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args, "--cloud", "local"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


def writes(cloud: LocalCloud) -> int:
    return sum(1 for e in cloud.journal.entries() if e.is_write)


def test_key_show_before_deploy_says_not_deployed(cloud: LocalCloud) -> None:
    r = aigw(cloud, "key", "show", "--env", "dev", keys=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "not deployed" in r.stderr and "aigw deploy --env dev" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_key_show_prints_a_fingerprint_and_the_key_only_with_reveal(cloud: LocalCloud) -> None:
    r = aigw(cloud, "deploy", "--env", "dev", "--yes", "--no-smoke")
    assert r.returncode == 0, r.stdout + r.stderr
    before = writes(cloud)
    digest = hashlib.sha256(GATEWAY_KEY_CANARY.encode()).hexdigest()

    # No key in this shell: the key is read from Key Vault, never written.
    shown = aigw(cloud, "key", "show", "--env", "dev", keys=False)
    assert shown.returncode == 0, shown.stderr
    assert GATEWAY_KEY_CANARY not in shown.stdout + shown.stderr
    assert f"sha256:{digest[:12]}" in shown.stdout and GATEWAY_KEY_CANARY[-4:] in shown.stdout
    assert "--reveal" in shown.stdout

    data = json.loads(aigw(cloud, "key", "show", "--env", "dev", "-o", "json", keys=False).stdout)
    assert data["fingerprint"].startswith(f"sha256:{digest[:12]}")
    assert data["secret"] == "gateway-key" and data["version"]
    assert "key" not in data and GATEWAY_KEY_CANARY not in json.dumps(data)

    revealed = aigw(cloud, "key", "show", "--env", "dev", "--reveal", keys=False)
    assert revealed.returncode == 0, revealed.stderr
    assert revealed.stdout == GATEWAY_KEY_CANARY + "\n"  # nothing else: $(aigw key show ...)
    as_json = aigw(cloud, "key", "show", "--env", "dev", "--reveal", "-o", "json", keys=False)
    assert json.loads(as_json.stdout)["key"] == GATEWAY_KEY_CANARY
    assert writes(cloud) == before  # read-only


def test_status_after_destroy_says_not_deployed(cloud: LocalCloud) -> None:
    deployed = json.loads(aigw(cloud, "status", "--env", "dev", "-o", "json").stdout)
    assert deployed["deployed"] is True
    r = aigw(cloud, "destroy", "--env", "dev", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    r = aigw(cloud, "status", "--env", "dev")
    assert r.returncode == 0, r.stderr
    assert "dev: not deployed" in r.stdout, r.stdout
    assert "pvc-dev-aigateway-ca-san" not in r.stdout  # no names listed as if they existed
    data = json.loads(aigw(cloud, "status", "--env", "dev", "-o", "json").stdout)
    assert data["deployed"] is False and data["outputs"]["gateway_url"] is None
