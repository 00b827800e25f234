"""`aigw serve`: the rendered config on the real LiteLLM, as a subprocess of the real CLI, the
gateway key as a file (never in LiteLLM's environment), and the smoke test's loud failure for a
gateway started without its key."""

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

import httpx
import pytest

from aigw.config.load import load_env
from aigw.gateway import serve, smoke
from aigw.secrets import Secret, Secrets
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY, REPO, as_world_account

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "aigw", *args]


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    from aigw.engine import localcloud as daemon

    cloud_dir = tmp_path / "localcloud"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "AIGW_LOCALCLOUD_DIR": str(cloud_dir),
        "AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY,
        "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    env.pop("AIGW_CLOUD", None)
    try:
        yield env
    finally:
        daemon.stop(cloud_dir)


def _no_canary(*texts: str) -> None:
    for t in texts:
        assert GATEWAY_KEY_CANARY not in t and AOAI_KEY_CANARY not in t


def test_serve_check_on_the_local_cloud(cli_env: dict[str, str]) -> None:
    t0 = time.perf_counter()
    r = subprocess.run(
        _cmd("serve", "--env", "dev", "--cloud", "local", "--port", "0", "--check"),
        capture_output=True,
        text=True,
        env=cli_env,
        cwd=REPO,
        timeout=300,
    )
    seconds = time.perf_counter() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    for row in (
        "liveliness",
        "no key is refused",
        "wrong key is refused",
        "models listed",
        "responses gpt-5.3-codex tool call",
        "embeddings text-embedding-3-large",
    ):
        assert row in r.stderr, r.stderr
    assert "FAIL" not in r.stderr
    assert "pass" in r.stdout
    _no_canary(r.stdout, r.stderr)
    print(f"serve --check --cloud local: {seconds:.1f}s")


def test_serve_json_runs_until_sigint_and_stops_litellm(cli_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        _cmd("serve", "-e", "dev", "--cloud", "local", "--port", "0", "-o", "json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
        data = json.loads("".join(lines))
        url = data["url"]
        assert data["litellm_version"] == "1.81.15"
        assert (
            "aigw client-config --env dev" in data["client_config"] and url in data["client_config"]
        )
        models = httpx.get(
            url + "/v1/models", headers={"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"}
        )
        assert {m["id"] for m in models.json()["data"]} == {
            "gpt-5.3-codex",
            "text-embedding-3-large",
        }
        assert httpx.get(url + "/v1/models").status_code == 401
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        stop_s = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped" in err
    # this run's own folder (two serves of dev must not share one); its key files went with it
    workdir = Path(data["log"]).parent
    assert workdir.name == f"dev-{proc.pid}", workdir
    assert not (workdir / "files").exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(url + "/health/liveliness", timeout=2)  # LiteLLM is gone too
    _no_canary("".join(lines), out, err)
    print(f"serve startup {data['startup_s']}s, stop after SIGINT {stop_s:.2f}s")


def test_serve_refuses_to_start_without_the_gateway_key(cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k not in ("AIGW_GATEWAY_KEY", "TF_VAR_gateway_key")}
    r = subprocess.run(
        _cmd("serve", "-e", "dev", "--port", "0", "--check"),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert r.returncode == 2 and "AIGW_GATEWAY_KEY" in r.stderr, r.stderr


def _serve(cfg: Any, workdir: Path, *, gateway_key: str | None) -> serve.Served:
    secrets = Secrets(
        gateway_key=Secret("AIGW_GATEWAY_KEY", GATEWAY_KEY_CANARY),
        azure_openai_key=Secret("AIGW_AZURE_OPENAI_API_KEY", AOAI_KEY_CANARY),
    )
    environ = serve.gateway_environ(cfg, secrets)
    return serve.start(cfg, environ, gateway_key=gateway_key, port=0, workdir=workdir)


def _emulated(aoai: AzureOpenAIEmulator) -> Any:
    cfg = load_env("dev", ENV_DIR).config
    as_world_account(aoai)  # the world's account and deployments, not the YAML's
    return cfg.with_endpoint(aoai.url)


def test_served_litellm_has_the_key_as_a_file_not_in_its_environment(tmp_path: Path) -> None:
    """LiteLLM resolves `os.environ/<NAME>` in settings: the key must not be a variable of its
    process (read from /proc/<pid>/environ), only the file beside the guard, and it works."""
    aoai = AzureOpenAIEmulator(api_key=AOAI_KEY_CANARY).start()
    try:
        cfg = _emulated(aoai)
        assert (
            GATEWAY_KEY_CANARY
            not in serve.gateway_environ(
                cfg, Secrets(gateway_key=Secret("AIGW_GATEWAY_KEY", GATEWAY_KEY_CANARY))
            ).values()
        )
        served = _serve(cfg, tmp_path / "gw", gateway_key=GATEWAY_KEY_CANARY)
        try:
            raw = Path(f"/proc/{served.gateway.pid}/environ").read_bytes().decode()
            assert "LITELLM_GATEWAY_KEY" not in raw and GATEWAY_KEY_CANARY not in raw
            key_file = tmp_path / "gw" / "files" / "etc" / "litellm" / "aigw_gateway_key"
            assert key_file.read_text() == GATEWAY_KEY_CANARY
            assert (key_file.stat().st_mode & 0o777) == 0o600
            headers = {"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"}
            r = httpx.get(served.url + "/v1/models", headers=headers, timeout=30)
            assert r.status_code == 200, r.text
            assert httpx.get(served.url + "/v1/models", timeout=30).status_code == 401
        finally:
            served.gateway.stop()
    finally:
        aoai.stop()


def test_gateway_without_its_key_file_fails_closed(tmp_path: Path) -> None:
    """The scaffold's defect: LiteLLM with its master key's variable unset serves everybody.
    With aigw's guard it refuses everybody instead (no key file and no master key: the guard
    refuses every key), and the smoke test fails: the right key is refused too."""
    aoai = AzureOpenAIEmulator(api_key=AOAI_KEY_CANARY).start()
    try:
        cfg = _emulated(aoai)
        # a key file left by an earlier run is removed too
        stale = tmp_path / "gw" / "files" / "etc" / "litellm" / "aigw_gateway_key"
        stale.parent.mkdir(parents=True)
        stale.write_text(GATEWAY_KEY_CANARY)
        served = _serve(cfg, tmp_path / "gw", gateway_key=None)
        assert not stale.exists()
        try:
            checks = smoke.run_smoke(served.url, GATEWAY_KEY_CANARY, cfg, timeout=30)
        finally:
            served.gateway.stop()
    finally:
        aoai.stop()
    by_name = {c.name: c for c in checks}
    assert by_name["no key is refused"].ok
    failed = [c for c in checks if not c.ok]
    assert "models listed" in {c.name for c in failed}
    assert any("HTTP 401" in c.details for c in failed), [c.to_json() for c in failed]
