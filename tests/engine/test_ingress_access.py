"""Who reaches the gateway on the local cloud: ingress IP restrictions are enforced against the
cloud's caller address (the address Azure would see a laptop or CI runner call from), with the
answer Azure's ingress (envoy) gives; internal ingress answers nobody from outside; and aigw
refuses a deploy whose smoke test would be refused, before it writes anything.

The revisions here are a small HTTPS server (no LiteLLM): the 403 is the ingress's, before any
revision is reached. tests/engine/test_ingress_access_litellm.py runs the allowed case through
the real CLI and LiteLLM."""

from __future__ import annotations

import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigw.engine import workflow
from aigw.resources import names_of
from aigw.resources import revision_traffic as rt
from aigw_localcloud.arm.openai_account import link
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.app_runner import ContainerSpec
from aigw_localcloud.core.journal import read_journal
from aigw_localcloud.core.tls import ensure_certificates
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from aigw_localcloud.openai.deployments import Deployment
from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY, REPO

from .harness import Stack, cli_environ, close_stack

DISALLOWED = "192.0.2.10"  # the local cloud's default caller address (RFC 5737 TEST-NET-1)
ALLOWED_BLOCK = "198.51.100.0/24"
ALLOWED = "198.51.100.7"


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        return


class TlsRunner:
    """Each revision an HTTPS server with the cloud's certificate (as LiteLLM serves)."""

    def __init__(self, cert: Path, key: Path) -> None:
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(str(cert), str(key))
        self.running: dict[str, ThreadingHTTPServer] = {}

    def start(self, spec: ContainerSpec) -> str:
        self.stop(spec.app_key)
        srv = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
        srv.socket = self._ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.running[spec.app_key] = srv
        return f"https://127.0.0.1:{srv.server_address[1]}"

    def stop(self, app_key: str) -> None:
        srv = self.running.pop(app_key, None)
        if srv is not None:
            srv.shutdown()
            srv.server_close()

    def stop_all(self) -> None:
        for k in list(self.running):
            self.stop(k)


def _stack(root: Path, caller_ip: str | None = None) -> Stack:
    tls = ensure_certificates(root / "cloud")
    runner = TlsRunner(tls.cert_file, tls.key_file)
    cloud = LocalCloud(root / "cloud", app_runner=runner, caller_ip=caller_ip).start()
    aoai = AzureOpenAIEmulator(api_key=AOAI_KEY_CANARY).start()
    link(cloud.engine, aoai)
    return Stack(root=root, cloud=cloud, aoai=aoai, runner=runner)


def _roll_candidate(stack: Stack, **gateway: Any) -> tuple[str | None, str]:
    """Deploy up to the candidate on its label (no promotion): (label URL, main URL); no
    label URL when the change made no new revision (an application-scope change)."""
    cfg = stack.config()
    stack.aoai.set_deployments(
        [Deployment(m.deployment_name, m.kind.value, m.dimensions) for m in cfg.models]
    )
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update=gateway)})
    session = stack.session(config=cfg)
    try:
        result = workflow.apply(session, workflow.make_plan(session))
        assert result.ok, [e.one_line() for e in result.errors]
        names = names_of(cfg)
        port = stack.target().local_label_port(
            names.resource_group, names.container_app, rt.CANDIDATE_LABEL
        )
        fqdn = workflow.outputs(session)["gateway_url"]
        return (f"https://127.0.0.1:{port}" if port else None), str(fqdn)
    finally:
        session.close()


def _get(url: str, ca: Path) -> httpx.Response:
    verify = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(verify=verify, timeout=10, trust_env=False) as c:
        return c.get(url + "/health/liveliness")


def test_label_and_app_url_from_outside_allowed_ips_get_envoys_403(tmp_path: Path) -> None:
    stack = _stack(tmp_path, caller_ip=DISALLOWED)
    try:
        label, main = _roll_candidate(stack, allowed_ips=[ALLOWED_BLOCK])
        assert label is not None
        for url in (label, main):
            r = _get(url, stack.cloud.ca_file)
            # envoy's RBAC filter: sendLocalReply(Forbidden, "RBAC: access denied")
            assert r.status_code == 403, (url, r.status_code, r.text)
            assert r.text == "RBAC: access denied"
            assert r.headers["content-type"] == "text/plain"
        # The same URLs from an address in the list reach the revision.
        stack.cloud.engine.caller_ip = ALLOWED
        for url in (label, main):
            r = _get(url, stack.cloud.ca_file)
            assert (r.status_code, r.text) == (200, "ok"), url
    finally:
        close_stack(stack)


def test_no_rules_open_to_all_and_plain_http_gets_the_403_too(tmp_path: Path) -> None:
    stack = _stack(tmp_path, caller_ip=DISALLOWED)
    try:
        label, main = _roll_candidate(stack, allowed_ips=[])
        assert label is not None
        assert _get(label, stack.cloud.ca_file).status_code == 200  # no rule: everyone
        assert _get(main, stack.cloud.ca_file).status_code == 200
        # The rules alone change (no new revision): they hold as soon as the update is done.
        assert _roll_candidate(stack, allowed_ips=[ALLOWED_BLOCK])[1] == main
        assert _get(main, stack.cloud.ca_file).status_code == 403
        # A client that does not speak TLS first gets the same answer in clear text.
        port = int(main.rsplit(":", 1)[1])
        r = httpx.get(f"http://127.0.0.1:{port}/", timeout=10, trust_env=False)
        assert (r.status_code, r.text) == (403, "RBAC: access denied")
    finally:
        close_stack(stack)


def test_internal_ingress_is_unreachable_from_outside(tmp_path: Path) -> None:
    stack = _stack(tmp_path, caller_ip=ALLOWED)
    try:
        label, main = _roll_candidate(stack, ingress="internal")
        assert label is not None
        for url in (label, main):
            with pytest.raises(httpx.TransportError):  # no HTTP answer at all
                _get(url, stack.cloud.ca_file)
    finally:
        close_stack(stack)


def test_caller_address_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIGW_LOCALCLOUD_CALLER_IP", raising=False)
    cloud = LocalCloud(tmp_path / "a")
    assert cloud.engine.caller_ip == DISALLOWED  # the default: outside any real allow list
    monkeypatch.setenv("AIGW_LOCALCLOUD_CALLER_IP", ALLOWED)
    cloud = LocalCloud(tmp_path / "b").start()
    try:
        assert cloud.engine.caller_ip == ALLOWED
        assert cloud.endpoint().caller_ip == ALLOWED  # aigw reads it from endpoint.json
    finally:
        cloud.stop()
    for bad in ("office", "10.0.0.0/8", "2001:db8::1"):
        monkeypatch.setenv("AIGW_LOCALCLOUD_CALLER_IP", bad)
        with pytest.raises(ValueError, match="AIGW_LOCALCLOUD_CALLER_IP"):
            LocalCloud(tmp_path / "c")


# ----------------------------------------------------------------------- aigw, through its CLI
def _cli_env(tmp_path: Path, gateway: str) -> dict[str, str]:
    """The shipped dev environment with `gateway` added, a private local cloud, no
    AIGW_LOCALCLOUD_CALLER_IP (the cloud's default caller address)."""
    env = cli_environ(tmp_path)
    dev = Path(env["AIGW_ENV_DIR"]) / "dev.yaml"
    dev.write_text(dev.read_text() + f"gateway:\n{gateway}\n")
    env.pop("AIGW_LOCALCLOUD_CALLER_IP", None)
    env.pop("AIGW_FROM_IP", None)
    return env


def _aigw(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "-m", "aigw", *args, "--env", "dev"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert GATEWAY_KEY_CANARY not in r.stdout + r.stderr
    return r


def _writes(env: dict[str, str]) -> list[str]:
    journal = Path(env["AIGW_LOCALCLOUD_DIR"]) / "journal.jsonl"
    return [f"{e.method} {e.path}" for e in read_journal(journal) if e.is_write]


@pytest.mark.parametrize(
    ("gateway", "expect"),
    [
        (f"  allowed_ips: ['{ALLOWED_BLOCK}']", [DISALLOWED, "gateway.allowed_ips", "--no-smoke"]),
        ("  ingress: internal", ["gateway.ingress", "internal", "--no-smoke"]),
    ],
)
def test_deploy_refuses_before_writing_when_its_smoke_test_would_be_refused(
    tmp_path: Path, gateway: str, expect: list[str]
) -> None:
    from aigw.engine import localcloud as daemon

    env = _cli_env(tmp_path, gateway)
    try:
        r = _aigw(env, "deploy", "--yes", "--cloud", "local")
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2, r.stderr[-2000:]
        assert len(lines) == 1 and "dev.yaml" in lines[0], r.stderr
        for word in expect:
            assert word in lines[0], lines[0]
        assert _writes(env) == []  # refused before the plan was applied
    finally:
        daemon.stop(Path(env["AIGW_LOCALCLOUD_DIR"]))


def test_from_ip_is_checked_and_must_agree_with_the_local_cloud(tmp_path: Path) -> None:
    from aigw.engine import localcloud as daemon

    env = _cli_env(tmp_path, f"  allowed_ips: ['{ALLOWED_BLOCK}']")
    try:
        r = _aigw(env, "deploy", "--yes", "--from-ip", "office")
        assert r.returncode == 2 and "--from-ip 'office'" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        r = _aigw(env, "deploy", "--yes", "--cloud", "local", "--from-ip", ALLOWED)
        line = r.stderr.strip()
        assert r.returncode == 2 and DISALLOWED in line and "--from-ip" in line, r.stderr
        assert len(line.splitlines()) == 1, r.stderr
        assert _writes(env) == []
    finally:
        daemon.stop(Path(env["AIGW_LOCALCLOUD_DIR"]))


def test_the_check_on_azure_says_what_it_cannot_know(tmp_path: Path) -> None:
    """Without --from-ip aigw cannot know its public address on Azure: a note, no refusal;
    with it, the same refusal as under the local cloud (pure: no Azure call)."""
    from aigw.azure.session import Target
    from aigw.config.load import load_env
    from aigw.engine import rollout
    from aigw.errors import ConfigError

    env = _cli_env(tmp_path, f"  allowed_ips: ['{ALLOWED_BLOCK}']")
    cfg = load_env("dev", Path(env["AIGW_ENV_DIR"])).config
    azure = Target(subscription_id="s", credential=None)
    note = rollout.check_smoke_reach(cfg, "dev.yaml", azure, None)
    assert note is not None and "cannot know" in note and "--from-ip" in note
    assert "inside" in str(rollout.check_smoke_reach(cfg, "dev.yaml", azure, ALLOWED))
    with pytest.raises(ConfigError) as info:
        rollout.check_smoke_reach(cfg, "dev.yaml", azure, "192.0.2.99")
    line = info.value.one_line()
    assert "192.0.2.99 (--from-ip)" in line and "403" in line and "--no-smoke" in line
    open_cfg = cfg.model_copy(
        update={"gateway": cfg.gateway.model_copy(update={"allowed_ips": []})}
    )
    assert rollout.check_smoke_reach(open_cfg, "dev.yaml", azure, None) is None
