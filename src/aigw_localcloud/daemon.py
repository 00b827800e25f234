"""Run the local cloud as a background process shared by several commands and test runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .core.endpoint import LocalCloudEndpoint, read_endpoint
from .core.rbac import DEFAULT_PROPAGATION_DELAY

if TYPE_CHECKING:
    from .core.app_runner import AppRunner
    from .openai.aoai import AzureOpenAIEmulator

# Builds the runner of the container apps: (apps folder, (TLS cert, key), reporter) -> runner.
# aigw injects its LiteLLM runner (aigw.engine.localcloud); this package knows no app image.
RunnerFactory = Callable[[Path, tuple[Path, Path], Callable[[str], None]], "AppRunner"]

LOG = "daemon.log"
AOAI_PORT = "aoai.port"
# Files the local cloud owns in its state directory (reset removes exactly these).
OWNED = (
    "state.json",
    "state.lock",
    "journal.jsonl",
    "endpoint.json",
    "ca.pem",
    "server.pem",
    "server.key",
    LOG,
    AOAI_PORT,
    "ca-bundle.pem",
    "openai-world.json",
)


class LocalCloudError(Exception):
    """The local cloud could not be started, stopped or reset.

    The same shape as aigw.errors.AigwError (message, hint, exit_code, one_line), copied here
    because this package imports nothing from aigw; aigw.engine.localcloud translates it.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())


# The daemon outlives the command that starts it: it gets only what it needs, never that
# command's keys (a YAML may name any variable for them, so this is an allowlist).
_KEEP = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "NO_COLOR"}
_KEEP_PREFIXES = ("LC_", "XDG_", "PYTHON", "COVERAGE_")
_KEEP_AIGW = {
    "AIGW_CACHE_DIR",
    "AIGW_LITELLM_VENV",
    "AIGW_LOCALCLOUD_CAPTURE",
    "AIGW_LOCALCLOUD_DIR",
    "AIGW_DEBUG",
    "AIGW_LOCALCLOUD_CALLER_IP",  # the address its apps' ingress sees (arm/ingress_rules.py)
    "AIGW_LOCALCLOUD_INGESTION_DELAY",  # Log Analytics ingestion latency (arm/log_analytics.py)
}


def daemon_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the local-cloud daemon starts with (issue 17 S7)."""
    return {
        k: v
        for k, v in environ.items()
        if k in _KEEP or k in _KEEP_AIGW or k.startswith(_KEEP_PREFIXES)
    }


def serve(
    state_dir: Path,
    *,
    latency: str = "instant",
    scale: float = 1.0,
    propagation_delay: float = DEFAULT_PROPAGATION_DELAY,
    runner_factory: RunnerFactory | None = None,
) -> None:
    """Run in the foreground until SIGTERM/SIGINT: the ARM and Key Vault emulators, the Azure
    OpenAI emulator, and the apps through `runner_factory`'s runner (none: apps do not run)."""
    from .apps.app_pids import reap_orphans
    from .arm.openai_pool import enable as enable_pool
    from .cloud import LocalCloud
    from .core.ca_bundle import write_bundle
    from .core.tls import ensure_certificates

    done = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    tls = ensure_certificates(state_dir)
    reap_orphans(state_dir / "apps")  # LiteLLM left by a cloud that was killed: frees ports
    write_bundle(state_dir)  # the CA may be new (reset): keep the shells' bundle in step
    runner = (
        runner_factory(
            state_dir / "apps",
            (tls.cert_file, tls.key_file),
            lambda msg: print(msg, flush=True),
        )
        if runner_factory is not None
        else None
    )
    # The Azure OpenAI endpoint is in the gateway's config: keep its port across restarts so
    # a restarted cloud's plan stays empty (its port file, else one derived from the folder).
    aoai = _start_aoai(state_dir)
    cloud = LocalCloud(
        state_dir,
        latency=latency,
        scale=scale,
        propagation_delay=propagation_delay,
        app_runner=runner,
    )
    cloud.aoai_url = aoai.url
    # the world's accounts (openai/world.py): the first served by `aoai`, each linked as an
    # account in ARM whose Entra ID tokens are checked by RBAC
    pool = enable_pool(cloud.engine, aoai, state_dir)
    cloud.start()
    print(f"localcloud listening on {cloud.arm_url}, Azure OpenAI on {aoai.url}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        cloud.stop()
        if runner is not None:
            runner.stop_all()
        pool.stop()
        aoai.stop()


def _start_aoai(state_dir: Path) -> AzureOpenAIEmulator:
    import hashlib

    from .openai.aoai import AzureOpenAIEmulator

    port_file = state_dir / AOAI_PORT
    try:
        last = int(port_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        last = 0
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).digest()
    derived = 30000 + int.from_bytes(digest[:4], "big") % 2000
    for port in dict.fromkeys(p for p in (last, derived) if p):
        try:
            return _remember(AzureOpenAIEmulator(deployments={}, port=port).start(), port_file)
        except OSError:
            continue  # taken: try the next
    return _remember(AzureOpenAIEmulator(deployments={}).start(), port_file)


def _remember(aoai: AzureOpenAIEmulator, port_file: Path) -> AzureOpenAIEmulator:
    port_file.write_text(aoai.url.rsplit(":", 1)[-1], encoding="utf-8")
    return aoai


def seed_world(state_dir: Path, accounts: list[dict[str, object]]) -> list[dict[str, object]]:
    """Add these Azure OpenAI accounts to the running cloud's world (openai/world.py; the
    same-named ones replaced) and return the world, without keys."""
    return _put_world(ensure_running(state_dir), accounts)


def _put_world(
    ep: LocalCloudEndpoint, accounts: list[dict[str, object]]
) -> list[dict[str, object]]:
    import httpx

    with httpx.Client(base_url=_aoai_url(ep), timeout=30, trust_env=False) as client:
        r = client.put("/_aigw/world", json={"openai_accounts": accounts})
    if r.status_code != 200:
        raise LocalCloudError(f"the local cloud refused the world: {r.text[:300]}")
    world: list[dict[str, object]] = r.json()["openai_accounts"]
    return world


def read_world(state_dir: Path) -> list[dict[str, object]]:
    """The running cloud's Azure OpenAI accounts (no keys), each with the URL serving it."""
    import httpx

    ep = ensure_running(state_dir)
    with httpx.Client(base_url=_aoai_url(ep), timeout=10, trust_env=False) as client:
        r = client.get("/_aigw/world")
    if r.status_code != 200:
        raise LocalCloudError(f"the local cloud did not say its world: {r.text[:300]}")
    world: list[dict[str, object]] = r.json()["openai_accounts"]
    return world


def openai_account_url(state_dir: Path, name: str) -> str | None:
    """The URL of the emulator serving the Azure OpenAI account `name` (the first label of an
    endpoint's host), None when the cloud's world has no such account: on Azure that host
    would not resolve."""
    import httpx

    ep = ensure_running(state_dir)
    with httpx.Client(base_url=_aoai_url(ep), timeout=10, trust_env=False) as client:
        r = client.get(f"/_aigw/accounts/{name}")
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return str(r.json()["url"])


def _aoai_url(ep: LocalCloudEndpoint) -> str:
    if not ep.aoai_url:
        raise LocalCloudError(
            "the local cloud runs no Azure OpenAI emulator", hint="aigw localcloud stop, then retry"
        )
    return ep.aoai_url


def ensure_running(
    state_dir: Path,
    *,
    latency: str = "instant",
    scale: float = 1.0,
    propagation_delay: float = DEFAULT_PROPAGATION_DELAY,
    timeout: float = 30.0,
    module: str = "aigw_localcloud",
) -> LocalCloudEndpoint:
    """Return the running cloud's endpoint, starting a detached one first if needed:
    `python -m <module> serve ...` (aigw passes the module that injects its app runner)."""
    state_dir = Path(state_dir).expanduser()
    ep = read_endpoint(state_dir)
    if ep is not None:
        return ep
    state_dir.mkdir(parents=True, exist_ok=True)
    env = daemon_environment(os.environ)
    src = str(Path(__file__).resolve().parents[1])  # the folder holding this package
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    cmd = [
        sys.executable,
        "-m",
        module,
        "serve",
        "--state-dir",
        str(state_dir),
        "--latency",
        latency,
        "--scale",
        str(scale),
        "--propagation-delay",
        str(propagation_delay),
    ]
    with open(state_dir / LOG, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,  # survives the command that started it
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ep = read_endpoint(state_dir)
        if ep is not None and ep.pid == proc.pid:
            _seed_from_environ(state_dir, ep)
            return ep
        if proc.poll() is not None:
            raise LocalCloudError(
                f"the local cloud exited at start (code {proc.returncode})",
                hint=f"see {state_dir / LOG}: {_tail(state_dir / LOG)}",
            )
        time.sleep(0.05)
    proc.terminate()
    raise LocalCloudError(
        f"the local cloud did not answer within {timeout:.0f} s", hint=f"see {state_dir / LOG}"
    )


def _seed_from_environ(state_dir: Path, ep: LocalCloudEndpoint) -> None:
    """A cloud started with `AIGW_LOCALCLOUD_WORLD=FILE` and no world yet: seed it from that
    file (what `aigw localcloud seed FILE` does), keys read from this process's environment."""
    from .openai import world

    file = os.environ.get(world.WORLD_ENV)
    if not file or (state_dir / world.WORLD_FILE).exists():
        return
    try:
        accounts = world.load_file(Path(file).expanduser(), os.environ)
    except world.WorldError as exc:
        raise LocalCloudError(f"{world.WORLD_ENV}: {exc}") from None
    _put_world(ep, [a.to_dict() for a in accounts])


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def status(state_dir: Path) -> LocalCloudEndpoint | None:
    return read_endpoint(Path(state_dir).expanduser())


def stop(state_dir: Path, timeout: float = 15.0) -> bool:
    """Stop the running cloud and the LiteLLM processes it started (also those of a cloud
    that died without stopping them); False if no cloud was running."""
    from .apps.app_pids import reap_orphans

    state_dir = Path(state_dir).expanduser()
    try:
        return _stop_daemon(state_dir, timeout)
    finally:
        reap_orphans(state_dir / "apps")


def _stop_daemon(state_dir: Path, timeout: float) -> bool:
    ep = read_endpoint(state_dir)
    if ep is None:
        return False
    try:
        os.kill(ep.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(ep.pid, 0)
        except ProcessLookupError:
            return True
        try:  # reap it if it is our child (tests start and stop in one process)  # noqa: SIM105
            os.waitpid(ep.pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    raise LocalCloudError(f"the local cloud (pid {ep.pid}) did not stop within {timeout:.0f} s")


def reset(state_dir: Path) -> None:
    """Stop the cloud and forget everything it held (resources, secrets, journal, CA)."""
    state_dir = Path(state_dir).expanduser()
    stop(state_dir)
    for name in OWNED:
        (state_dir / name).unlink(missing_ok=True)
    for port_file in state_dir.glob("aoai-*.port"):  # the other endpoints' (arm/openai_pool)
        port_file.unlink(missing_ok=True)
    shutil.rmtree(state_dir / "captures", ignore_errors=True)
