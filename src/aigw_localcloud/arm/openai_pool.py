"""More Azure OpenAI endpoints beside the cloud's first one: one emulator per named upstream
(aigw's `upstreams:`), each on its own port, each linked into the cloud as its own account
(listed by ARM, checking Entra ID tokens against its own role assignments).

The first emulator's admin API creates them (`PUT /_aigw/endpoints/{name}` answers the new
one's URL; the same name answers the same emulator). A name's port is kept in the state
directory (`aoai-<name>.port`), so a restarted cloud serves it at the same URL and a plan
against it stays empty.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

from ..openai.aoai import AzureOpenAIEmulator
from .openai_account import link

PORT_FILE_GLOB = "aoai-*.port"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


class OpenAIPool:
    """The cloud's extra endpoints by name."""

    def __init__(self, engine: Any, state_dir: Path) -> None:
        self._engine = engine
        self._state_dir = state_dir
        self._lock = threading.Lock()
        self._by_name: dict[str, AzureOpenAIEmulator] = {}

    def spawn(self, name: str) -> str:
        """The URL of the endpoint `name`, started on first use."""
        if not _NAME.fullmatch(name):
            raise ValueError(f"endpoint name {name!r}: use lowercase letters, digits and '-'")
        with self._lock:
            em = self._by_name.get(name)
            if em is None:
                em = self._start(name)
                link(self._engine, em)
                self._by_name[name] = em
            return em.url

    def _start(self, name: str) -> AzureOpenAIEmulator:
        port_file = self._state_dir / f"aoai-{name}.port"
        try:
            last = int(port_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            last = 0
        seed = f"{self._state_dir.resolve()}:{name}".encode()
        derived = 32000 + int.from_bytes(hashlib.sha256(seed).digest()[:4], "big") % 2000
        for port in [*dict.fromkeys(p for p in (last, derived) if p), 0]:  # 0: any free port
            try:
                em = AzureOpenAIEmulator(deployments={}, port=port).start()
            except OSError:
                continue  # taken: try the next
            port_file.write_text(em.url.rsplit(":", 1)[-1], encoding="utf-8")
            return em
        raise OSError("no port for another Azure OpenAI endpoint")

    def stop(self) -> None:
        with self._lock:
            for em in self._by_name.values():
                em.stop()
            self._by_name.clear()


def enable(engine: Any, primary: AzureOpenAIEmulator, state_dir: Path) -> OpenAIPool:
    """Let `primary`'s admin API start the cloud's other endpoints."""
    pool = OpenAIPool(engine, state_dir)
    primary.spawn = pool.spawn
    return pool
