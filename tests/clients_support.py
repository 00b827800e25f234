"""The real coding clients the tests run (clients/package.json, installed by `npm ci --prefix
clients`), and a loopback egress sink that records any request a client tries to send anywhere
but the gateway."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO

CLIENTS_DIR = REPO / "clients"
INSTALL_HINT = "npm ci --prefix clients"

# `codex exec` options for a test: no telemetry, no update check, no feedback upload; without
# `--disable plugins` codex clones the curated plugin marketplace from github.com and asks
# chatgpt.com (seen with strace, codex 0.169.0).
CODEX_OFF = (
    "-c",
    "analytics.enabled=false",
    "-c",
    "check_for_update_on_startup=false",
    "-c",
    "feedback.enabled=false",
    "--disable",
    "plugins",
)


def pinned_version(package: str) -> str:
    """The exact version clients/package.json pins for `package`."""
    deps = json.loads((CLIENTS_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    return str(deps[package])


def client_bin(name: str, package: str) -> Path:
    """The installed binary `name` of `package` at its pinned version; FAILS (never skips) when
    it is missing or another version: the clients are part of the test run (.ci/run)."""
    path = CLIENTS_DIR / "node_modules" / ".bin" / name
    manifest = CLIENTS_DIR / "node_modules" / package / "package.json"
    if not path.exists() or not manifest.exists():
        pytest.fail(f"{package} ({name}) is not installed: {INSTALL_HINT}", pytrace=False)
    installed = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    if installed != pinned_version(package):
        pytest.fail(
            f"{package} {installed} installed, {pinned_version(package)} pinned: {INSTALL_HINT}",
            pytrace=False,
        )
    return path


@dataclass
class EgressSink:
    """An HTTP(S) proxy on 127.0.0.1 that forwards nothing: every request (CONNECT host:port or
    an absolute URL) is recorded and refused with 403. Clients get it as HTTP(S)_PROXY/ALL_PROXY
    with NO_PROXY=127.0.0.1,localhost, so a call to anything but the gateway lands here."""

    seen: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> EgressSink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                sink.seen.append(f"{self.command} {self.path}")
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()

            do_CONNECT = do_GET = do_POST = do_PUT = do_HEAD = _refuse

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environ(self) -> dict[str, str]:
        env = {}
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env[name] = env[name.lower()] = self.url
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        return env

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
