"""The local cloud's LiteLLM processes across `aigw localcloud stop` and a restart (issue 12.5,
12.4 and 17 R9), through the real CLI with the real LiteLLM:

- stop takes the LiteLLM children with it (also after the daemon was killed: the next start
  ends the orphans it recorded);
- the next start runs the active revision again, on the same port (client configs stay right);
- status never says Running for a gateway that does not answer;
- plan is empty afterwards (nothing changed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY, REPO

from .harness import cli_environ

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


class Cli:
    def __init__(self, env: dict[str, str], cloud_dir: Path) -> None:
        self.env = env
        self.cloud_dir = cloud_dir

    def __call__(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            [sys.executable, "-m", "aigw", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=REPO,
            timeout=timeout,
        )
        for text in (r.stdout, r.stderr):
            assert GATEWAY_KEY_CANARY not in text and AOAI_KEY_CANARY not in text
        return r

    def status(self) -> dict[str, Any]:
        r = self("status", "--env", "dev", "--cloud", "local", "-o", "json")
        assert r.returncode == 0, r.stderr
        data: dict[str, Any] = json.loads(r.stdout)
        return data


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("restart")
    cloud_dir = root / "localcloud"
    env = cli_environ(root)
    try:
        yield Cli(env, cloud_dir)
    finally:
        daemon.stop(cloud_dir)
        for pid in _litellm_pids_under(cloud_dir):  # never leave a process behind
            os.kill(pid, signal.SIGKILL)


def _litellm_pids_under(cloud_dir: Path) -> list[int]:
    """LiteLLM processes whose working directory is under this cloud's state directory."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        is_litellm = any(part.endswith(b"/bin/litellm") for part in cmd[:2])
        if is_litellm and cwd.startswith(str(cloud_dir)):
            pids.append(int(proc.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return ") Z " not in stat  # a zombie is gone


def _answers(url: str) -> bool:
    try:
        r = httpx.get(url + "/health/liveliness", verify=False, timeout=3)  # noqa: S501
    except httpx.HTTPError:
        return False
    return r.status_code == 200


def _wait_answers(url: str, timeout: float = 150) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if _answers(url):
            return time.monotonic() - t0
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


def _app_row(data: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in data["resources"] if r["kind"] == "container_app")


def _gateway_row(data: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in data["resources"] if r["kind"] == "gateway")


def test_stop_and_restart_keep_the_gateway_on_its_port(cli: Cli) -> None:
    r = cli("deploy", "--env", "dev", "--cloud", "local", "--yes", "--no-smoke")
    assert r.returncode == 0, r.stdout + r.stderr
    url = cli.status()["outputs"]["gateway_url"]
    _wait_answers(url)
    before = _litellm_pids_under(cli.cloud_dir)
    assert before, "no LiteLLM process found for the deployed app"

    r = cli("localcloud", "stop")
    assert r.returncode == 0, r.stderr
    assert not [p for p in before if _alive(p)], "LiteLLM outlived `aigw localcloud stop`"

    # The next command starts the cloud again; the app's active revision runs again.
    data = cli.status()
    if not _gateway_row(data)["ok"]:
        assert "Running" not in _app_row(data)["state"], data["resources"]
        assert not _app_row(data)["ok"]
    assert data["outputs"]["gateway_url"] == url  # same port: client configs stay right
    took = _wait_answers(url)
    print(f"gateway answered again {took:.1f} s after the restarted cloud's first command")
    data = cli.status()
    assert _gateway_row(data)["ok"] and "Running" in _app_row(data)["state"], data
    r = cli("plan", "--env", "dev", "--cloud", "local", "--detailed-exitcode", "-o", "json")
    assert r.returncode == 0, r.stdout + r.stderr


def _kill_daemon(cli: Cli) -> list[int]:
    """SIGKILL the daemon (no chance to stop its children); return its LiteLLM pids."""
    from aigw.engine import localcloud as daemon

    ep = daemon.status(cli.cloud_dir)
    assert ep is not None
    orphans = _litellm_pids_under(cli.cloud_dir)
    assert orphans
    os.kill(ep.pid, signal.SIGKILL)
    time.sleep(0.5)
    assert [p for p in orphans if _alive(p)], "the LiteLLM processes died with the daemon"
    return orphans


def test_a_killed_daemon_leaves_no_litellm_behind(cli: Cli) -> None:
    url = cli.status()["outputs"]["gateway_url"]
    _wait_answers(url)
    # `localcloud stop` after the daemon was killed ends what it left.
    orphans = _kill_daemon(cli)
    r = cli("localcloud", "stop")
    assert r.returncode == 0, r.stderr
    assert not [p for p in orphans if _alive(p)], "stop left the killed cloud's LiteLLM running"
    # So does the next start (the port is free again for the restarted revision).
    _wait_answers(cli.status()["outputs"]["gateway_url"])
    orphans = _kill_daemon(cli)
    r = cli("localcloud", "start")
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and [p for p in orphans if _alive(p)]:
        time.sleep(0.2)
    assert not [p for p in orphans if _alive(p)], "the new cloud left the old LiteLLM running"
    assert urlsplit(cli.status()["outputs"]["gateway_url"]).port == urlsplit(url).port
    _wait_answers(url)


def test_the_port_survives_destroy_and_deploy(cli: Cli) -> None:
    url = cli.status()["outputs"]["gateway_url"]
    r = cli("destroy", "--env", "dev", "--cloud", "local", "--yes")
    assert r.returncode == 0, r.stderr
    r = cli("deploy", "--env", "dev", "--cloud", "local", "--yes", "--no-smoke")
    assert r.returncode == 0, r.stderr
    assert cli.status()["outputs"]["gateway_url"] == url
    _wait_answers(url)
    r = cli("localcloud", "stop")
    assert r.returncode == 0
    assert not _litellm_pids_under(cli.cloud_dir)
