"""HTTPS listeners: one for ARM, one per Key Vault (a vault URL must be a host root).

stdlib ThreadingHTTPServer; the TLS handshake happens in the per-connection thread so a slow
client cannot stall the accept loop. Faults and the journal are applied here, around dispatch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import select
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .engine import Engine
from .errors import CloudError
from .http import Request, Response
from .journal import JournalEntry, is_write

log = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, port: int, ctx: ssl.SSLContext, engine: Engine, listener: str) -> None:
        self.ssl_ctx = ctx
        self.engine = engine
        self.listener = listener
        super().__init__(("127.0.0.1", port), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(30)
            # Headers and body go out in separate writes: without NODELAY, Nagle plus the
            # client's delayed ACK adds ~40-200 ms to every answer.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        started = time.time()
        engine = self.server.engine
        request_id = self.headers.get("x-ms-client-request-id") or str(uuid.uuid4())
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        raw_path = unquote(parts.path)
        while "//" in raw_path:
            raw_path = raw_path.replace("//", "/")
        path = raw_path.rstrip("/") or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(
            method=self.command.upper(),
            path=path,
            query=query,
            headers=headers,
            body=body,
            listener=self.server.listener,
            host=headers.get("host", ""),
        )
        fault_kind: str | None = None
        resp: Response | None = None
        for fault in engine.faults.pick(req.method, path):
            if fault.kind == "latency":
                time.sleep(fault.latency)
                continue
            fault_kind = fault.kind
            if fault.kind in ("lost", "failed"):
                break
            if fault.kind == "drop":
                self._journal(req, 0, request_id, started, fault_kind)
                self._hang_up()
                return
            status = int(fault.kind)
            code = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}
            err = CloudError(
                status,
                code[status],
                "The request is being throttled." if status == 429 else "Injected failure.",
                headers={"Retry-After": _fmt_seconds(fault.retry_after)}
                if status in (429, 503)
                else {},
            )
            resp = Response(err.status, err.body(), err.headers)
        if resp is None:
            if fault_kind == "failed":  # accepted as usual; its operation will end Failed
                engine.fail_next_operation(path)
            try:
                resp = engine.dispatch(req)
            except CloudError as e:
                resp = Response(e.status, e.body(), e.headers)
            except Exception as e:
                log.exception("unhandled error for %s %s", req.method, path)
                resp = Response(500, {"error": {"code": "InternalServerError", "message": str(e)}})
            if fault_kind == "lost":  # handled, but the answer never reaches the client
                self._journal(req, resp.status, request_id, started, fault_kind)
                self._hang_up()
                return
        # Journal before answering: once the client has its answer, the entry is there (a test
        # that marks the journal right after a call must not see that call's entry late).
        self._journal(req, resp.status, request_id, started, fault_kind)
        self._send(req, resp, request_id)

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, req: Request, resp: Response, request_id: str) -> None:
        if resp.stream is not None:
            self._send_stream(resp)
            return
        payload = b""
        if resp.body is not None:
            payload = json.dumps(resp.body).encode()
        self.send_response(resp.status)
        headers = {
            "x-ms-request-id": request_id,
            "x-ms-correlation-request-id": request_id,
            "x-ms-client-request-id": request_id,
            "Cache-Control": "no-cache",
        }
        if resp.body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        headers.update(resp.headers)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if req.method != "HEAD" and payload:
            self.wfile.write(payload)
        capture = self.server.engine.capture
        if capture is not None:
            scheme_host = f"https://{req.host}" if req.host else ""
            capture.record(
                method=req.method,
                url=scheme_host + self.path,
                request_headers=dict(req.headers),
                request_body=req.body,
                status=resp.status,
                response_headers=headers,
                response_body=payload,
            )

    def _send_stream(self, resp: Response) -> None:
        """A body of unknown length (the log stream): no Content-Length, ends with the
        connection; a client that goes away ends the stream."""
        assert resp.stream is not None
        self.close_connection = True
        self.send_response(resp.status)
        for k, v in {"Connection": "close", "Cache-Control": "no-cache", **resp.headers}.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            for chunk in resp.stream:
                if not chunk:
                    # Idle: the client sends nothing more on this connection, so anything to
                    # read (its close or TLS close_notify) means it has gone.
                    if select.select([self.connection], [], [], 0)[0]:
                        break
                    continue
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:
            pass
        finally:
            close = getattr(resp.stream, "close", None)
            if close is not None:
                close()

    def _journal(
        self, req: Request, status: int, request_id: str, started: float, fault: str | None
    ) -> None:
        self.server.engine.journal.record(
            JournalEntry(
                time=started,
                method=req.method,
                host=req.host,
                path=req.path,
                api_version=req.api_version,
                status=status,
                is_write=is_write(req.method, req.path),
                request_id=request_id,
                duration_ms=round((time.time() - started) * 1000, 3),
                principal=req.principal,
                fault=fault,
            )
        )


def _fmt_seconds(s: float) -> str:
    return str(int(s)) if float(s).is_integer() else f"{s:g}"


class Listener:
    """One HTTPS listener running in a background thread."""

    def __init__(self, port: int, ctx: ssl.SSLContext, engine: Engine, listener: str) -> None:
        self.server = _Server(port, ctx, engine, listener)
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"localcloud-{listener}",
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
