"""The ingress of a container app in multiple-revision mode, as a loopback TCP proxy.

On Azure the app's FQDN (`<app>.<env domain>`) splits requests between active revisions by
their `ingress.traffic` weights, and a label's FQDN (`<app>---<label>.<env domain>`) reaches the
labelled revision only (learn.microsoft.com/azure/container-apps/traffic-splitting and
.../revisions#labels). Here each active revision is its own LiteLLM process; a `Front` listens
on the app's stable port and hands each new connection to one revision, picked by weight (TLS
passes through untouched: the revisions serve the same certificate). A label gets a `Front` of
its own, on a port derived from the app and label names (`endpoint.predicted_label_port`), with
one backend. Connections already open stay on their revision when the weights change, as
keep-alive connections do on Azure's envoy until it drains them.

Who gets through: `set_gate` gives the front the app's ingress verdict (arm/ingress_rules.py:
IP restrictions against the cloud's caller address, internal ingress), asked once per
connection. "forbidden": the front answers Azure's 403 itself, with envoy's RBAC local reply
(`FORBIDDEN`, sources in ingress_rules.py), over TLS with the cloud's server certificate (the
one the revisions serve) or in clear text if the client does not start with a TLS handshake,
then closes the connection (envoy may keep it open: not emulated). "unreachable": closed
without a byte.
"""

from __future__ import annotations

import contextlib
import random
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from email.utils import formatdate
from pathlib import Path

Backend = tuple[int, int]  # (port on 127.0.0.1, weight)
# The port of a share that goes nowhere: traffic on an inactive revision (Azure accepts it and
# that share fails: arm/traffic.py). Its connections are closed.
NOWHERE = 0
Gate = Callable[[], str]  # "pass" | "forbidden" | "unreachable", asked per connection

# envoy's local reply of its RBAC filter (Http::Code::Forbidden, "RBAC: access denied"), as
# Container Apps' ingress sends it for an address its IP restrictions refuse.
FORBIDDEN_BODY = b"RBAC: access denied"
_TLS_HANDSHAKE = 0x16  # the first byte of a TLS record carrying a ClientHello
_MAX_HEAD = 65536


def forbidden_response() -> bytes:
    return (
        b"HTTP/1.1 403 Forbidden\r\n"
        + f"content-length: {len(FORBIDDEN_BODY)}\r\n".encode()
        + b"content-type: text/plain\r\n"
        + f"date: {formatdate(usegmt=True)}\r\n".encode()
        + b"connection: close\r\n\r\n"
        + FORBIDDEN_BODY
    )


class Front:
    def __init__(self, port: int | None, name: str) -> None:
        self.name = name
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port or 0))
        self._sock.listen(128)
        self.port: int = self._sock.getsockname()[1]
        self._backends: list[Backend] = []
        self._lock = threading.Lock()
        self._closed = False
        self._conns: set[socket.socket] = set()
        self._gate: Gate = lambda: "pass"
        self._tls: tuple[Path, Path] | None = None  # (cert, key) the 403 is served with
        threading.Thread(target=self._accept, daemon=True, name=f"front-{name}").start()

    def set_backends(self, backends: Sequence[Backend]) -> None:
        with self._lock:
            self._backends = [(p, w) for p, w in backends if w > 0]

    def set_gate(self, gate: Gate, tls: tuple[Path, Path] | None) -> None:
        with self._lock:
            self._gate, self._tls = gate, tls

    def backends(self) -> list[Backend]:
        with self._lock:
            return list(self._backends)

    def pick(self) -> int | None:
        with self._lock:
            backends = list(self._backends)
        if not backends:
            return None
        ports, weights = zip(*backends, strict=True)
        return random.choices(ports, weights=weights)[0]  # routing, not crypto

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            gate, tls = self._gate, self._tls
        verdict = gate()
        if verdict != "pass":
            with contextlib.suppress(OSError, ssl.SSLError, ValueError):
                if verdict == "forbidden":
                    _forbid(client, tls)
            with contextlib.suppress(OSError):
                client.close()
            return
        port = self.pick()
        if not port:  # no revision takes traffic (or this share's is inactive): closed
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._conns.update((client, upstream))
        t = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        t.start()
        _pump(client, upstream)
        t.join()
        with self._lock:
            self._conns.difference_update((client, upstream))
        for s in (client, upstream):
            with contextlib.suppress(OSError):
                s.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):  # wakes the accept() blocked in _accept (Linux):
            self._sock.shutdown(socket.SHUT_RDWR)  # close() alone leaves the port listening
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def _forbid(client: socket.socket, tls: tuple[Path, Path] | None) -> None:
    """Read the request's head and answer envoy's 403 (TLS if the client speaks it)."""
    client.settimeout(10)
    conn: socket.socket = client
    first = client.recv(1, socket.MSG_PEEK)
    if first and first[0] == _TLS_HANDSHAKE and tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        ctx.set_alpn_protocols(["http/1.1"])
        conn = ctx.wrap_socket(client, server_side=True)
    head = b""
    while b"\r\n\r\n" not in head and len(head) < _MAX_HEAD:
        data = conn.recv(4096)
        if not data:
            return
        head += data
    conn.sendall(forbidden_response())
    if isinstance(conn, ssl.SSLSocket):
        with contextlib.suppress(OSError, ssl.SSLError):
            conn.unwrap()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


# One registry per process: "<engine id>|<app key>" (or "...#<label>") -> Front.
_FRONTS: dict[str, Front] = {}
_LOCK = threading.Lock()


def ensure(key: str, port: int | None, name: str) -> Front:
    """The Front for `key`, opened on `port` (any free port when None or taken)."""
    with _LOCK:
        front = _FRONTS.get(key)
        if front is not None and (port is None or front.port == port):
            return front
        if front is not None:
            front.close()
        try:
            front = Front(port, name)
        except OSError:
            front = Front(None, name)
        _FRONTS[key] = front
        return front


def get(key: str) -> Front | None:
    with _LOCK:
        return _FRONTS.get(key)


def close(prefix: str) -> None:
    """Close the Fronts of an app (its key and its labels'), or of a whole engine ("<id>|")."""
    with _LOCK:
        keys = [
            k
            for k in _FRONTS
            if k == prefix
            or k.startswith(prefix + "#")
            or (prefix.endswith("|") and k.startswith(prefix))
        ]
        fronts = [_FRONTS.pop(k) for k in keys]
    for f in fronts:
        f.close()
