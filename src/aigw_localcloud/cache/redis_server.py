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

For an Azure Managed Redis database of the local cloud (arm/redis_enterprise.py) the same
server also speaks TLS only (`tls_files`: `port 0`, `tls-port`, the local cloud's certificate;
redis.io/docs/latest/operate/oss_and_stack/management/security/encryption/) and takes either
of the database's two access keys (`passwords`: the `default` user with two passwords,
redis.io/docs/latest/operate/oss_and_stack/management/security/acl/), or none (`passwords=()`:
the user is off, as access keys authentication Disabled refuses every key).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTALL_HINT = (
    "install the distribution's Redis server (Debian/Ubuntu: apt-get install redis-server), "
    "or set AIGW_REDIS_SERVER to its path"
)


# The running server's pid, in its workdir (the local cloud ends one a dead cloud left behind).
PID_FILE = "redis.pid"


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


def free_port() -> int:
    """A port of 127.0.0.1 free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bulk(*parts: str) -> bytes:
    out = [f"*{len(parts)}\r\n".encode()]
    for p in parts:
        b = p.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def _reply(f: Any) -> Any:
    """One RESP2 reply read from the file `f` (errors come back as RedisReplyError)."""
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisReplyError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_reply(f) for _ in range(n)]
    raise OSError(f"not a RESP reply: {line[:20]!r}")


class RedisReplyError(Exception):
    """The server answered with an error (e.g. WRONGPASS)."""


def command(
    host: str,
    port: int,
    password: str,
    *args: str,
    ca_file: Path | None = None,
    timeout: float = 2.0,
) -> Any:
    """`AUTH password` then one command over RESP (TLS verified against `ca_file` when given):
    its reply. No client library needed (tests, the local cloud's liveness check)."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock: socket.socket = raw
        if ca_file is not None:
            ctx = ssl.create_default_context(cafile=str(ca_file))
            sock = ctx.wrap_socket(raw, server_hostname=host)
        with sock.makefile("rb") as f:
            sock.sendall(_bulk("AUTH", password) + _bulk(*args))
            _reply(f)
            return _reply(f)


def _ping(port: int, password: str, timeout: float = 0.5, ca_file: Path | None = None) -> bool:
    """RESP `AUTH` then `PING` over a raw socket (no client library needed here)."""
    try:
        return command("127.0.0.1", port, password, "PING", ca_file=ca_file, timeout=timeout) == (
            "PONG"
        )
    except (OSError, RedisReplyError, ssl.SSLError):
        return False


@dataclass(frozen=True)
class TlsFiles:
    """The server's certificate chain and key (PEM), and the CA a client verifies them with."""

    cert_file: Path
    key_file: Path
    ca_file: Path


@dataclass
class RedisServer:
    """One running `redis-server`; `url` is what a client (LiteLLM's Redis cache) connects to
    without the password, which it takes from a variable."""

    workdir: Path
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # TLS only (no plaintext port) with these files; None: plaintext.
    tls_files: TlsFiles | None = None
    # The passwords of the `default` user (None: `password` alone; (): the user is off).
    passwords: tuple[str, ...] | None = field(default=None, repr=False)
    settings: tuple[str, ...] = ()  # more redis.conf lines (e.g. maxmemory-policy)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self, timeout: float = 10.0) -> RedisServer:
        binary = find_redis_server()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        lines = ["bind 127.0.0.1", "protected-mode yes"]
        if self.tls_files is not None:
            lines += [
                "port 0",  # TLS only, as clientProtocol Encrypted
                f"tls-port {self.port}",
                f"tls-cert-file {self.tls_files.cert_file}",
                f"tls-key-file {self.tls_files.key_file}",
                f"tls-ca-cert-file {self.tls_files.ca_file}",
                "tls-auth-clients no",  # clients present no certificate (Azure asks none)
            ]
        else:
            lines.append(f"port {self.port}")
        if self.passwords is None:
            lines.append(f"requirepass {self.password}")
        elif self.passwords:
            keys = " ".join(f">{p}" for p in self.passwords)
            lines.append(f"user default on {keys} ~* &* +@all")
        else:
            lines.append("user default off")
        lines += [
            *self.settings,
            'save ""',
            "appendonly no",
            f"dir {self.workdir}",
            "daemonize no",
            "loglevel warning",
            "",
        ]
        config = "\n".join(lines)
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
            if self._answers():
                (self.workdir / PID_FILE).write_text(str(self.process.pid), encoding="utf-8")
                return self
            time.sleep(0.05)
        self.stop()
        raise RedisServerError(f"redis-server did not answer on 127.0.0.1:{self.port}")

    def _answers(self) -> bool:
        ca = self.tls_files.ca_file if self.tls_files is not None else None
        if self.passwords == ():  # nobody may log in: a refused AUTH still answers
            try:
                command("127.0.0.1", self.port, "x", "PING", ca_file=ca, timeout=0.5)
            except RedisReplyError:
                return True
            except (OSError, ssl.SSLError):
                return False
            return True
        password = self.passwords[0] if self.passwords else self.password
        return _ping(self.port, password, ca_file=ca)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        (self.workdir / PID_FILE).unlink(missing_ok=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
