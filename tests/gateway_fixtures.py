"""Helpers for tests that run the real LiteLLM proxy (import from test modules; not a conftest).

CI creates the LiteLLM environment before the tests (`aigw litellm ensure --env dev`, into the
default cache dir); `litellm_env_for_tests()` finds it there, or creates it on first use.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from aigw.config.model import EnvConfig
from aigw.gateway.process import GatewayProcess, start_gateway
from aigw.gateway.render import AZURE_OPENAI_KEY_VAR, render_gateway, write_files
from aigw.gateway.venv import LiteLLMEnv, ensure
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment

LITELLM_VERSION = "1.81.15"
IMAGE = f"litellm/litellm:v{LITELLM_VERSION}"

GATEWAY_KEY = "sk-aigw-test-gateway-key-0123456789"
AZURE_KEY = "azure-openai-test-key-abcdef0123456789"
EMBEDDING_DEPLOYMENT = "text-embedding-3-large"
CODEX_DEPLOYMENT = "gpt-5-codex"
EMBEDDING_API_VERSION = "2023-05-15"
RESPONSES_API_VERSION = "2025-04-01-preview"


@functools.cache
def litellm_env_for_tests() -> LiteLLMEnv:
    """The LiteLLM 1.81.15 environment in the default cache location (created if missing)."""
    return ensure(LITELLM_VERSION, reporter=lambda msg: print(f"[litellm env] {msg}"))


def litellm_config(aoai_url: str) -> str:
    """A minimal hand-written LiteLLM config: one embeddings model, one Responses model."""
    return f"""\
model_list:
  - model_name: embeddings
    litellm_params:
      model: azure/{EMBEDDING_DEPLOYMENT}
      api_base: {aoai_url}
      api_key: os.environ/LITELLM_AZURE_OPENAI_API_KEY
      api_version: "{EMBEDDING_API_VERSION}"
    model_info:
      base_model: azure/{EMBEDDING_DEPLOYMENT}
  - model_name: codex
    litellm_params:
      model: azure/{CODEX_DEPLOYMENT}
      api_base: {aoai_url}
      api_key: os.environ/LITELLM_AZURE_OPENAI_API_KEY
      api_version: "{RESPONSES_API_VERSION}"
    model_info:
      mode: responses
general_settings:
  master_key: os.environ/LITELLM_GATEWAY_KEY
"""


@dataclass
class RenderedGateway:
    config: EnvConfig  # pointed at the emulator
    process: GatewayProcess
    aoai: AzureOpenAIEmulator


@contextlib.contextmanager
def rendered_gateway(
    cfg: EnvConfig,
    workdir: Path,
    *,
    gateway_key: str,
    aoai_key: str,
    mutate: Callable[[str], str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[RenderedGateway]:
    """The real LiteLLM serving aigw's rendered config (and guard) for `cfg`, in front of an
    Azure OpenAI emulator that knows its deployments; `mutate` rewrites the config text."""
    if cfg.azure_openai.auth != "key":  # these tests pass a key (identity: test_keyless_*)
        upstream = cfg.azure_openai.model_copy(
            update={"auth": "key", "api_key_env": "AIGW_AZURE_OPENAI_API_KEY"}
        )
        cfg = cfg.model_copy(update={"azure_openai": upstream})
    aoai = AzureOpenAIEmulator(api_key=aoai_key).start()
    try:
        aoai.set_deployments(
            [Deployment(m.deployment_name, m.kind.value, m.dimensions) for m in cfg.models]
        )
        cfg = cfg.with_endpoint(aoai.url)
        rendered = render_gateway(cfg)
        # the gateway key as the container gets it: a file beside the guard, not a variable
        args = write_files(rendered, workdir / "files", gateway_key=gateway_key)
        if mutate is not None:
            config_file = Path(args[args.index("--config") + 1])
            config_file.write_text(mutate(rendered.config_yaml))
        env = {**rendered.env, **(environ or {}), AZURE_OPENAI_KEY_VAR: aoai_key}
        process = start_gateway(
            litellm_env_for_tests(), args, env, port=None, workdir=workdir, secrets=[gateway_key]
        )
        try:
            yield RenderedGateway(cfg, process, aoai)
        finally:
            process.stop()
    finally:
        aoai.stop()


# -- watching a process's network connections -----------------------------------------------


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            m = re.fullmatch(r"socket:\[(\d+)\]", target)
            if m:
                inodes.add(m.group(1))
    except OSError:
        pass
    return inodes


def _decode_addr(hex_addr: str) -> tuple[str, int]:
    ip_hex, port_hex = hex_addr.split(":")
    raw = bytes.fromhex(ip_hex)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # IPv6: four little-endian 32-bit words
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        ip = socket.inet_ntop(socket.AF_INET6, words)
    return ip, int(port_hex, 16)


def remote_peers(pid: int) -> set[tuple[str, str, int]]:
    """(protocol, remote ip, remote port) of every connected socket the process holds now."""
    inodes = _socket_inodes(pid)
    peers = set()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[9] not in inodes:
                continue
            ip, port = _decode_addr(fields[2])
            if port == 0:  # listening / unconnected
                continue
            peers.add((proto, ip, port))
    return peers


def is_loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    mapped = getattr(addr, "ipv4_mapped", None)
    return (mapped or addr).is_loopback


class ConnectionWatcher:
    """Samples a process's connected sockets every 20 ms until stopped (a connection to a host
    outside takes longer than that to set up; a sample costs ~1 ms of CPU)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.seen: set[tuple[str, str, int]] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.seen |= remote_peers(self.pid)
            self.samples += 1
            self._stop.wait(self.interval)

    def start(self) -> ConnectionWatcher:
        self._thread.start()
        return self

    def stop(self) -> set[tuple[str, str, int]]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.seen

    def non_loopback(self) -> set[tuple[str, str, int]]:
        return {p for p in self.seen if not is_loopback(p[1])}


class ProxyTrap:
    """A fake HTTP(S) proxy on 127.0.0.1 that records every request line and answers 502.

    Point HTTP_PROXY/HTTPS_PROXY/ALL_PROXY of a process at it: any attempt of that process to
    reach a host through its proxy settings shows up in `requests`.
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
                    self.requests.append(line or "<empty>")
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    self.requests.append("<connection>")

    def start(self) -> ProxyTrap:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def environ(self) -> dict[str, str]:
        """Proxy variables (both cases) pointing at the trap, loopback exempted."""
        out = {}
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            out[name] = out[name.lower()] = self.url
        out["NO_PROXY"] = out["no_proxy"] = "127.0.0.1,localhost"
        return out
