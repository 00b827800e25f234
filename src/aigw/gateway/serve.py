"""`aigw serve`: the gateway on this machine, with exactly the config that would be deployed.

The rendered LiteLLM config (`render.render_gateway`: same YAML, same args) is written where the
container would mount it, the real LiteLLM of the image's version runs it on 127.0.0.1, and the
keys reach it the way the container gets them: the gateway key as the file `aigw_gateway_key`
beside the guard (0600, never in LiteLLM's environment), the upstream keys as
`LITELLM_AZURE_OPENAI_API_KEY` (and the other upstreams' variables). Nothing else of this
process's environment leaks in.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from aigw.config.model import EnvConfig
from aigw.errors import GatewayError, UserError
from aigw.gateway.process import GatewayProcess
from aigw.gateway.render import AZURE_OPENAI_KEY_VAR, render_gateway, write_files
from aigw.gateway.routes import key_var
from aigw.secrets import Secrets

Reporter = Callable[[str], None]


@dataclass
class Served:
    gateway: GatewayProcess
    litellm_version: str
    workdir: Path
    startup_s: float

    @property
    def url(self) -> str:
        return self.gateway.url


def workdir_for(config: EnvConfig) -> Path:
    """One folder per `aigw serve` process: two serves of one environment (two terminals, two
    test suites on one machine) wrote the same config and key files and one LiteLLM read the
    other's (its upstream URL and key: every call 401)."""
    import os

    from aigw.gateway.venv import cache_dir

    return cache_dir() / "serve" / f"{config.env}-{os.getpid()}"


def remove_files(served: Served) -> None:
    """The run's config volume (the gateway key among it) goes with the stopped gateway, as a
    stopped revision's does on the local cloud; its log stays."""
    import shutil

    shutil.rmtree(served.workdir / "files", ignore_errors=True)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def gateway_key(config: EnvConfig, secrets: Secrets) -> str:
    """The gateway key, for the config volume's key file (never the environment)."""
    if secrets.gateway_key is None:
        raise UserError(
            f"the gateway key is not set: ${config.gateway.key_env}",
            hint="without it the gateway would accept no key",
        )
    return secrets.gateway_key.reveal()


def gateway_environ(config: EnvConfig, secrets: Secrets) -> dict[str, str]:
    """The container's environment: the rendered plain values plus the upstream keys. The
    gateway key is not in it (`start` writes it as a file: gateway_key)."""
    aoai_key = secrets.azure_openai_key
    environ = dict(render_gateway(config).env)
    if aoai_key is not None:
        environ[AZURE_OPENAI_KEY_VAR] = aoai_key.reveal()
    for name, key in secrets.upstream_keys:  # the other upstreams' keys (auth: key)
        environ[key_var(name)] = key.reveal()
    return environ


def start(
    config: EnvConfig,
    environ: dict[str, str],
    *,
    gateway_key: str | None,
    port: int | None = None,
    workdir: Path | None = None,
    reporter: Reporter | None = None,
    startup_timeout: float = 90.0,
) -> Served:
    """Start LiteLLM with the rendered config and `environ`; return once it is live.

    `gateway_key` is written beside the guard as the container mounts it (None: no key file,
    the guard then refuses every gateway key). `port` None: the YAML's `gateway.port`; 0: any
    free port.
    """
    from aigw.gateway import venv as litellm_env
    from aigw.gateway.process import start_gateway

    if port is None:
        port = config.gateway.port
    if port and not _port_free(port):
        raise UserError(f"port {port} on 127.0.0.1 is in use", hint="pass --port 0 for a free one")
    version = litellm_env.litellm_version_from_image(config.gateway.image)
    env = litellm_env.ensure(version, reporter=reporter)
    rendered = render_gateway(config)
    workdir = workdir or workdir_for(config)
    args = write_files(rendered, workdir / "files", gateway_key=gateway_key)
    if reporter:
        reporter(f"starting LiteLLM {version} ({' '.join(rendered.args)})")
    t0 = time.perf_counter()
    gateway = start_gateway(
        env,
        args,
        environ,
        port=port or None,
        workdir=workdir,
        startup_timeout=startup_timeout,
        log_name="litellm.log",
        secrets=() if gateway_key is None else (gateway_key,),
    )
    return Served(gateway, version, workdir, time.perf_counter() - t0)


def check(served: Served, config: EnvConfig, key: str | None) -> list[Any]:
    """The deploy smoke test against the local gateway."""
    from aigw.gateway import smoke

    return smoke.run_smoke(served.url, key, config, timeout=60)


def run_until_stopped(served: Served, *, poll: float = 0.5) -> int:
    """Wait for SIGINT/SIGTERM (then stop LiteLLM cleanly, return its signal number) or for
    LiteLLM to exit on its own (GatewayError with its log tail)."""
    stop = threading.Event()
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(poll):
            if not served.gateway.running:
                code = served.gateway.process.poll()
                raise GatewayError(
                    f"LiteLLM exited with code {code}; last lines of {served.gateway.log_path}:\n"
                    f"{served.gateway.log_tail()}"
                )
    finally:
        served.gateway.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    return received[0] if received else 0


@contextlib.contextmanager
def shared_store(config: EnvConfig, cloud: str, reporter: Reporter) -> Iterator[dict[str, str]]:
    """The variables of `limits.store: redis` for a served gateway: the ones set here (an Azure
    Managed Redis you reach), else, with --cloud local, a real Redis server of this machine's
    (aigw_localcloud/cache/redis_server.py) for the run; {} without a store."""
    import os

    from aigw.config.limits import LimitStore
    from aigw.gateway.render import REDIS_HOST_VAR, REDIS_PASSWORD_VAR, REDIS_PORT_VAR

    if config.limits.store is not LimitStore.redis:
        yield {}
        return
    names = (REDIS_HOST_VAR, REDIS_PORT_VAR, REDIS_PASSWORD_VAR)
    given = {n: os.environ[n] for n in names if os.environ.get(n)}
    if len(given) == len(names):
        yield given
        return
    if cloud != "local":
        raise UserError(
            "limits.store is redis: serve needs the store's " + ", ".join(f"${n}" for n in names),
            hint="set them to your Redis (host, port, password), or serve with --cloud local "
            "(a Redis server of this machine), or set limits.store: none",
        )
    from aigw_localcloud.cache.redis_server import RedisServer, RedisServerError

    try:
        server = RedisServer(workdir_for(config) / "redis").start()
    except RedisServerError as err:
        raise UserError(str(err)) from None
    reporter(f"limits store: Redis on {server.host}:{server.port} for this run")
    try:
        yield {REDIS_HOST_VAR: server.host, REDIS_PORT_VAR: str(server.port),
               REDIS_PASSWORD_VAR: server.password}  # fmt: skip
    finally:
        server.stop()
