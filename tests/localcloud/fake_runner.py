"""A stand-in AppRunner for tests: a stdlib HTTP server answering the probe paths."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aigw_localcloud.core.app_runner import AppStartError, ContainerSpec


class _Quiet(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeRunner:
    def __init__(self) -> None:
        self.started: list[ContainerSpec] = []
        self.stopped: list[str] = []
        self.running: dict[str, ThreadingHTTPServer] = {}
        self.fail_images: set[str] = set()
        self._lock = threading.Lock()

    def start(self, spec: ContainerSpec) -> str:
        self.stop(spec.app_key)
        if spec.image in self.fail_images:
            raise AppStartError(f"container {spec.image} exited with code 1")
        srv = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        with self._lock:
            self.started.append(spec)
            self.running[spec.app_key] = srv
        return f"http://127.0.0.1:{srv.server_address[1]}"

    def stop(self, app_key: str) -> None:
        with self._lock:
            srv = self.running.pop(app_key, None)
        if srv is not None:
            self.stopped.append(app_key)
            srv.shutdown()
            srv.server_close()

    def stop_all(self) -> None:
        for k in list(self.running):
            self.stop(k)
