"""`aigw gateway-key show` (and its former name `aigw key show`) and `aigw status` through the
CLI against a local cloud (the container app is an HTTPS stand-in that checks the key, not
LiteLLM, to stay fast): the key is read-only and
shown only when asked; quickstart's last lines run as printed; status after destroy says
"not deployed"."""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aigw.gateway.render import CONFIG_MOUNT_DIR, GATEWAY_KEY_FILE_NAME
from aigw_localcloud.arm.openai_account import link
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.app_runner import ContainerSpec
from aigw_localcloud.core.tls import TlsFiles, ensure_certificates
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from conftest import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY, REPO
from helpers import as_world_account

from .fake_runner import FakeRunner


class _KeyChecking(BaseHTTPRequestHandler):
    """Answers `ok` to the gateway key the container was given (from Key Vault), else 401."""

    key = ""

    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == f"Bearer {self.key}"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"no")

    def log_message(self, format: str, *args: Any) -> None:
        return


class TlsRunner(FakeRunner):
    """The stand-in app over HTTPS with the local cloud's certificate, as LiteLLM is served."""

    def __init__(self, tls: TlsFiles) -> None:
        super().__init__()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(tls.cert_file, tls.key_file)

    def start(self, spec: ContainerSpec) -> str:
        self.stop(spec.app_key)
        # the key as LiteLLM's guard reads it: the mounted file, never the environment
        assert all(GATEWAY_KEY_CANARY not in v for v in spec.env.values())
        key = spec.files[f"{CONFIG_MOUNT_DIR}/{GATEWAY_KEY_FILE_NAME}"].decode()
        handler = type("Handler", (_KeyChecking,), {"key": key})
        srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        srv.socket = self.context.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        with self._lock:
            self.started.append(spec)
            self.running[spec.app_key] = srv
        return f"https://127.0.0.1:{srv.server_address[1]}"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    state_dir = tmp_path_factory.mktemp("keys") / "cloud"
    runner = TlsRunner(ensure_certificates(state_dir))
    aoai = as_world_account(AzureOpenAIEmulator(deployments={})).start()
    c = LocalCloud(state_dir, app_runner=runner, retry_after=None)
    c.aoai_url = aoai.url
    link(c.engine, aoai)  # an account of this cloud (auth: identity finds it by its endpoint)
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
    r = aigw(cloud, "gateway-key", "show", "--env", "dev", keys=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "not deployed" in r.stderr and "aigw deploy --env dev" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_key_show_prints_a_fingerprint_and_the_key_only_with_reveal(cloud: LocalCloud) -> None:
    r = aigw(cloud, "deploy", "--env", "dev", "--yes", "--no-smoke")
    assert r.returncode == 0, r.stdout + r.stderr
    before = writes(cloud)
    digest = hashlib.sha256(GATEWAY_KEY_CANARY.encode()).hexdigest()

    # No key in this shell: the key is read from Key Vault, never written.
    shown = aigw(cloud, "gateway-key", "show", "--env", "dev", keys=False)
    assert shown.returncode == 0, shown.stderr
    assert GATEWAY_KEY_CANARY not in shown.stdout + shown.stderr
    assert f"sha256:{digest[:12]}" in shown.stdout and GATEWAY_KEY_CANARY[-4:] in shown.stdout
    assert "--reveal" in shown.stdout

    data = json.loads(
        aigw(cloud, "gateway-key", "show", "--env", "dev", "-o", "json", keys=False).stdout
    )
    assert data["fingerprint"].startswith(f"sha256:{digest[:12]}")
    assert data["secret"] == "gateway-key" and data["version"]
    assert "key" not in data and GATEWAY_KEY_CANARY not in json.dumps(data)

    revealed = aigw(cloud, "gateway-key", "show", "--env", "dev", "--reveal", keys=False)
    assert revealed.returncode == 0, revealed.stderr
    assert (
        revealed.stdout == GATEWAY_KEY_CANARY + "\n"
    )  # nothing else: $(aigw gateway-key show ...)
    as_json = aigw(
        cloud, "gateway-key", "show", "--env", "dev", "--reveal", "-o", "json", keys=False
    )
    assert json.loads(as_json.stdout)["key"] == GATEWAY_KEY_CANARY
    # the former name, as a script may still call it: the same answers
    for args in ((), ("--reveal",), ("-o", "json")):
        former = aigw(cloud, "key", "show", "--env", "dev", *args, keys=False)
        now = aigw(cloud, "gateway-key", "show", "--env", "dev", *args, keys=False)
        assert former.returncode == 0 and former.stdout == now.stdout, former.stderr
    assert writes(cloud) == before  # read-only


def test_quickstart_last_lines_work_as_written(cloud: LocalCloud) -> None:
    """The tail of quickstart.sh prints commands with the URL and CA filled in; they run."""
    script = (REPO / "quickstart.sh").read_text(encoding="utf-8")
    tail = script[script.index("# Where the gateway answers") :]
    env = {**os.environ, "AIGW_LOCALCLOUD_DIR": str(cloud.state_dir), "NO_COLOR": "1"}
    env.update(AIGW_ENV_DIR=str(ENV_DIR), PATH=f"{Path(sys.executable).parent}:{env['PATH']}")
    env.pop("AIGW_GATEWAY_KEY", None)
    printed = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\naigw='{sys.executable} -m aigw'\n{tail}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=True,
    ).stdout
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("curl "))
    end = next(i for i in range(start, len(lines)) if not lines[i].endswith("\\"))
    curl = "\n".join(lines[start : end + 1])
    assert "--cacert" in curl and "key show --env dev --cloud local --reveal" in curl, curl
    r = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, env=env, cwd=REPO)
    assert r.returncode == 0 and r.stdout == "ok", (curl, r.stderr)  # the stand-in app's answer
    (client,) = [line.split("#")[0] for line in lines if "client-config" in line]
    r = subprocess.run(["bash", "-c", client], capture_output=True, text=True, env=env, cwd=REPO)
    assert r.returncode == 0 and "base_url" in r.stdout, r.stderr


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
