"""Under the local cloud nothing resolves a name outside this machine: a deploy, `status` while
the container app is still provisioning, the smoke test and `status` afterwards look up only
loopback addresses. The stdlib resolver is intercepted (it is not aigw's function): every lookup
is recorded and a non-loopback one is refused, so none can leave the machine during the test."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aigw.engine import workflow
from aigw.gateway import smoke
from helpers import GATEWAY_KEY_CANARY

from .harness import Stack, close_stack, copy_envs, make_stack


def is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return host is None
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(host))
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"test: no lookup of {host!r} here")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield seen


def _status(stack: Stack) -> dict[str, Any]:
    """What `aigw status` computes: outputs, and the gateway's health when there is a URL."""
    session = stack.session()
    try:
        workflow.observe(session)
        out = workflow.outputs(session)
    finally:
        session.close()
    if out["gateway_url"]:
        out["health"] = smoke.gateway_health(out["gateway_url"], smoke.verify_for(stack.cloud))
    return out


@pytest.mark.litellm
@pytest.mark.slow
def test_deploy_status_while_provisioning_smoke_and_status_resolve_only_loopback(
    tmp_path: Path, lookups: list[str]
) -> None:
    stack = make_stack(tmp_path, with_gateway=True)
    stack.env_dir = copy_envs(tmp_path / "environments")
    try:
        result: dict[str, Any] = {}
        deploy = threading.Thread(target=lambda: result.update(r=stack.deploy()[1]), daemon=True)
        deploy.start()
        during: list[dict[str, Any]] = []
        deadline = time.monotonic() + 240
        while deploy.is_alive() and time.monotonic() < deadline:
            out = _status(stack)
            if out["fqdn"] and out["latest_revision"]:
                during.append(out)  # the app exists: status while it provisions
            time.sleep(0.5)
        deploy.join(timeout=5)
        assert result["r"].ok, [e.one_line() for e in result["r"].errors]
        assert during, "status never ran while the container app was provisioning"
        after = _status(stack)
        assert after["gateway_url"] and after["health"]["ok"], after
        checks = smoke.run_smoke(
            after["gateway_url"],
            GATEWAY_KEY_CANARY,
            stack.config(),
            verify=smoke.verify_for(stack.cloud),
            timeout=60,
        )
        assert all(c.ok for c in checks), [c.to_json() for c in checks if not c.ok]
        foreign = sorted({h for h in lookups if not is_loopback(h)})
        assert foreign == [], f"looked up names outside this machine: {foreign}"
        assert lookups, "the guard saw no lookup at all: it is not in the path"
        print(f"dns: {len(lookups)} lookups, all loopback; {len(during)} status while provisioning")
    finally:
        close_stack(stack)


@pytest.mark.parametrize(
    ("fqdn", "local", "url"),
    [
        ("127.0.0.1:4711", True, "https://127.0.0.1:4711"),
        ("localhost:4711", True, "https://localhost:4711"),
        ("ca.x1.eastus.azurecontainerapps.localhost", True, None),  # provisioning placeholder
        ("ca.x1.eastus.azurecontainerapps.io", True, None),  # state from an older local cloud
        ("ca.x1.eastus.azurecontainerapps.io", False, "https://ca.x1.eastus.azurecontainerapps.io"),
        (None, True, None),
    ],
)
def test_gateway_url_is_loopback_only_under_the_local_cloud(
    fqdn: str | None, local: bool, url: str | None
) -> None:
    from aigw.gateway.url import gateway_url

    assert gateway_url(fqdn, local=local) == url


URL_ARG = ("--url", "https://gw.example.invalid")


def test_smoke_test_url_off_this_machine_is_refused_under_local_cloud(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from helpers import ENV_DIR, REPO

    env = {
        **os.environ,
        "AIGW_ENV_DIR": str(ENV_DIR),
        "AIGW_LOCALCLOUD_DIR": str(tmp_path / "cloud"),
        "AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY,
        "NO_COLOR": "1",
    }
    r = subprocess.run(
        [sys.executable, "-m", "aigw", "smoke-test", "--env", "dev", "--cloud", "local", *URL_ARG],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 2 and "not on this machine" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "cloud").exists()
