"""Run the real LiteLLM proxy as a local process, the way its container image would.

The process gets a clean environment: PATH, HOME, locale, `LITELLM_LOCAL_MODEL_COST_MAP=True`
(stops LiteLLM fetching its price list from GitHub) and exactly the variables the caller gives;
nothing else of the parent's environment (no secrets, no proxy settings) leaks in.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import httpx

from aigw.errors import GatewayError
from aigw.gateway.url import LIVENESS_PATH
from aigw.gateway.venv import LiteLLMEnv
from aigw.redact import redact

LOG_TAIL_LINES = 30

# Options start_gateway sets itself; any copy of them in the caller's args is dropped.
_OWN_OPTIONS = ("--port", "--host")
_TLS_OPTIONS = ("--ssl_keyfile_path", "--ssl_certfile_path")


# Set by tests/conftest.py while a test that is not marked `litellm` runs (inherited by the
# local-cloud daemons it starts): starting LiteLLM then fails, so `-m "not litellm"` means it.
NO_LITELLM_VAR = "AIGW_TEST_NO_LITELLM"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def gateway_environment(environ: Mapping[str, str], *, env: LiteLLMEnv) -> dict[str, str]:
    """The complete environment the LiteLLM process gets."""
    clean = {
        "PATH": f"{env.root / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME") or str(Path.home()),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    if os.environ.get("TMPDIR"):
        clean["TMPDIR"] = os.environ["TMPDIR"]
    clean.update(environ)
    clean["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    return clean


def strip_options(args: Sequence[str], names: Iterable[str]) -> list[str]:
    """Drop `--name value` and `--name=value` for each name from a litellm argument list."""
    names = tuple(names)
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in names:
            skip = True
            continue
        if arg.startswith(tuple(f"{n}=" for n in names)):
            continue
        out.append(arg)
    return out


def log_tail(path: Path, secrets: Iterable[str] = (), lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    tail = "\n".join(text.rstrip().splitlines()[-lines:])
    return redact(tail, secrets)  # every secret, whatever its length (issue 17 S3)


class GatewayProcess:
    """A running LiteLLM proxy. `stop()` terminates it (then kills it)."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        *,
        url: str,
        port: int,
        log_path: Path,
        secrets: Sequence[str] = (),
    ) -> None:
        self.process = process
        self.url = url
        self.port = port
        self.log_path = log_path
        self._secrets = tuple(secrets)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the log, with the secret values given at start redacted."""
        return log_tail(self.log_path, self._secrets, lines)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def _signal(self, sig: int) -> None:
        # The proxy runs in its own session (process group == its pid): signal the group so
        # worker processes go too; fall back to the process alone.
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    def __enter__(self) -> GatewayProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"GatewayProcess(url={self.url!r}, pid={self.pid}, running={self.running})"


def start_gateway(
    env: LiteLLMEnv,
    args: Sequence[str],
    environ: Mapping[str, str],
    *,
    port: int | None,
    workdir: Path,
    tls: tuple[Path, Path] | None = None,
    startup_timeout: float = 60.0,
    health_path: str = LIVENESS_PATH,
    log_name: str = "litellm.log",
    on_spawn: Callable[[int], None] | None = None,
    secrets: Iterable[str] = (),
) -> GatewayProcess:
    """Start `litellm <args> --port <port> --host 127.0.0.1` and wait until it is live.
    `on_spawn(pid)` is called as soon as the process exists (before it is live).

    `tls` is (certificate, key) in PEM: the proxy then serves HTTPS. Every value of `environ`
    and of `secrets` (those given in files, e.g. the gateway key) is treated as a secret and
    redacted from log tails in errors. Raises GatewayError with the
    log tail if the process exits or does not answer `health_path` with 200 in time.
    """
    if os.environ.get(NO_LITELLM_VAR):  # the test suite's marker check (tests/conftest.py)
        raise GatewayError(
            f"{os.environ[NO_LITELLM_VAR]} starts LiteLLM but is not marked litellm",
            hint="mark the test (or its module) with @pytest.mark.litellm",
        )
    workdir.mkdir(parents=True, exist_ok=True)
    if not env.litellm_bin.is_file():
        raise GatewayError(
            f"{env.litellm_bin} does not exist",
            hint=f"run 'aigw litellm ensure' to create the LiteLLM {env.version} environment",
        )
    port = port or free_port()
    cmd = [str(env.litellm_bin), *strip_options(args, _OWN_OPTIONS)]
    scheme = "http"
    if tls is not None:
        cert, key = tls
        cmd = strip_options(cmd, _TLS_OPTIONS)
        cmd += ["--ssl_certfile_path", str(cert), "--ssl_keyfile_path", str(key)]
        scheme = "https"
    cmd += ["--port", str(port), "--host", "127.0.0.1"]
    log_path = workdir / log_name
    redacted = (*environ.values(), *secrets)
    with open(log_path, "ab") as log:
        log.write(f"--- aigw: starting {' '.join(cmd)}\n".encode())
        log.flush()
        log_start = log.tell()
        try:
            process = subprocess.Popen(
                cmd,
                cwd=workdir,
                env=gateway_environment(environ, env=env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise GatewayError(f"cannot run {env.litellm_bin}: {exc}") from None
    gateway = GatewayProcess(
        process, url=f"{scheme}://127.0.0.1:{port}", port=port, log_path=log_path, secrets=redacted
    )
    try:
        if on_spawn is not None:
            on_spawn(process.pid)
        _wait_live(gateway, health_path, startup_timeout, log_start)
    except BaseException:
        gateway.stop(timeout=5)
        raise
    return gateway


class PortTakenError(GatewayError):
    """The port was free when chosen and taken before LiteLLM bound it (another process)."""


def _bound(gateway: GatewayProcess, log_start: int) -> bool:
    """Whether this process itself says it listens on its URL: uvicorn prints "Uvicorn running
    on <url>" only after its bind succeeded. Until then an answer on the port may come from
    another process (a second local cloud, another suite) that holds it."""
    try:
        with open(gateway.log_path, "rb") as f:
            f.seek(log_start)
            text = f.read().decode(errors="replace")
    except OSError:
        return False
    return f"Uvicorn running on {gateway.url} " in text


def _wait_live(gateway: GatewayProcess, health_path: str, timeout: float, log_start: int) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    # verify=False: a liveness probe of a process we just started on loopback.
    with httpx.Client(verify=False, timeout=2.0, trust_env=False) as client:  # noqa: S501
        while True:
            code = gateway.process.poll()
            if code is not None:
                tail = gateway.log_tail()
                error = PortTakenError if "address already in use" in tail else GatewayError
                raise error(
                    f"LiteLLM exited with code {code} before {health_path} answered; "
                    f"last lines of {gateway.log_path}:\n{tail}",
                    hint="check the LiteLLM config and arguments shown in the log",
                )
            try:
                if not _bound(gateway, log_start):
                    raise httpx.ConnectError("not bound by this process yet")
                response = client.get(gateway.url + health_path)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            if time.monotonic() > deadline:
                raise GatewayError(
                    f"LiteLLM did not answer {health_path} with 200 within {timeout:.0f} s "
                    f"(last: {last}); last lines of {gateway.log_path}:\n{gateway.log_tail()}",
                    hint="raise the startup timeout or check the log",
                )
            time.sleep(0.2)
