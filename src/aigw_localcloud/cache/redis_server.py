"""A real Redis server on 127.0.0.1: the engine behind the gateway's shared counters (developer
key limits, issue 26), as Azure Managed Redis is on Azure. Never a dict pretending to be one.

The server is the distribution's own `redis-server` (Debian: `apt-get install redis-server`;
`.ci/run` installs it): started on a free port, bound to 127.0.0.1 only, with a random
password (`requirepass`), no persistence (`save ""`, `appendonly no`: counters are
per-minute windows and a month's spend, and Azure Managed Redis without persistence loses
them on a restart too, learn.microsoft.com/azure/redis/how-to-persistence), protected mode
on. The password never reaches argv: the config is fed on stdin (`redis-server -` reads its
configuration from standard input, redis.io/docs/latest/operate/oss_and_stack/management/
config/), so `ps` shows no secret.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = (
    "install the distribution's Redis server (Debian/Ubuntu: apt-get install redis-server), "
    "or set AIGW_REDIS_SERVER to its path"
)


class RedisServerError(Exception):
    """The Redis server cannot be found or did not start (one line, with the fix)."""


def find_redis_server() -> str:
    """The `redis-server` binary: $AIGW_REDIS_SERVER, else on PATH, else /usr/bin or /usr/sbin."""
    explicit = os.environ.get("AIGW_REDIS_SERVER")
    candidates = [explicit] if explicit else []
    found = shutil.which("redis-server")
    candidates += [found] if found else []
    candidates += ["/usr/bin/redis-server", "/usr/sbin/redis-server"]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise RedisServerError(f"no redis-server found: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int, password: str, timeout: float = 0.5) -> bool:
    """RESP `AUTH` then `PING` over a raw socket (no client library needed here)."""

    def bulk(*parts: str) -> bytes:
        out = [f"*{len(parts)}\r\n".encode()]
        for p in parts:
            b = p.encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(bulk("AUTH", password) + bulk("PING"))
            data = b""
            deadline = time.monotonic() + timeout
            while data.count(b"\r\n") < 2 and time.monotonic() < deadline:
                chunk = s.recv(256)
                if not chunk:
                    break
                data += chunk
            return data.startswith(b"+OK\r\n+PONG\r\n")
    except OSError:
        return False


@dataclass
class RedisServer:
    """One running `redis-server`; `url` is what a client (LiteLLM's Redis cache) connects to
    without the password, which it takes from a variable."""

    workdir: Path
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self, timeout: float = 10.0) -> RedisServer:
        binary = find_redis_server()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or _free_port()
        config = "\n".join(
            [
                "bind 127.0.0.1",
                f"port {self.port}",
                "protected-mode yes",
                f"requirepass {self.password}",
                'save ""',
                "appendonly no",
                f"dir {self.workdir}",
                "daemonize no",
                "loglevel warning",
                "",
            ]
        )
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - the process keeps it
        try:
            self.process = subprocess.Popen(
                [binary, "-"], stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT
            )
        finally:
            log.close()
        assert self.process.stdin is not None
        self.process.stdin.write(config.encode())
        self.process.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.workdir / "redis.log").read_text(errors="replace")[-300:]
                raise RedisServerError(f"redis-server exited at start: {tail.strip()}")
            if _ping(self.port, self.password):
                return self
            time.sleep(0.05)
        self.stop()
        raise RedisServerError(f"redis-server did not answer on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
