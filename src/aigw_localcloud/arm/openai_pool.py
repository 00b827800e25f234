"""The cloud's Azure OpenAI accounts, as its world says (openai/world.py): one emulator per
account, each on its own port, each linked into the cloud as a Microsoft.CognitiveServices
account (listed by ARM, checking Entra ID tokens against its own role assignments).

The world's first account is served by the cloud's first emulator (its port in `aoai.port`);
every other account by an emulator of its own, its port kept in the state directory
(`aoai-<account>.port`), so a restarted cloud serves it at the same URL and a plan against it
stays empty. The world is kept in `openai-world.json` and applied again when the cloud starts.

The first emulator's admin API is the door (`GET/PUT /_aigw/world`, `GET /_aigw/accounts/
{name}`): what aigw's `localcloud seed` writes and how `--cloud local` finds the emulator that
stands for the host an environment names (as DNS would on Azure).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from ..openai import world as _world
from ..openai.aoai import AzureOpenAIEmulator
from .openai_account import link, unlink

PORT_FILE_GLOB = "aoai-*.port"


class OpenAIWorld:
    """The accounts of the world and the emulators serving them."""

    def __init__(self, engine: Any, primary: AzureOpenAIEmulator, state_dir: Path) -> None:
        self._engine = engine
        self._primary = primary
        self._state_dir = state_dir
        self._lock = threading.Lock()
        self._by_name: dict[str, AzureOpenAIEmulator] = {}
        self._owned: list[AzureOpenAIEmulator] = []  # started here (the primary is not)
        self.accounts: list[_world.Account] = []
        self._apply(_world.read_state(state_dir))

    def seed(self, accounts: list[_world.Account]) -> list[dict[str, Any]]:
        """Add these accounts (or replace those of the same name); persist; serve them."""
        with self._lock:
            merged = _world.merge(self.accounts, accounts)
            _world.write_state(self._state_dir, merged)
        self._apply(merged)
        return self.describe()

    def describe(self) -> list[dict[str, Any]]:
        """The world without its keys, each account with the URL serving it."""
        with self._lock:
            return [
                {**a.to_dict(keys=False), "url": self._by_name[a.name].url} for a in self.accounts
            ]

    def url_of(self, name: str) -> str | None:
        with self._lock:
            em = self._by_name.get(name.lower())
            return em.url if em is not None else None

    def _apply(self, accounts: list[_world.Account]) -> None:
        with self._lock:
            for i, acc in enumerate(accounts):
                em = self._by_name.get(acc.name)
                if em is None:
                    em = self._primary if i == 0 else self._start(acc.name)
                    self._by_name[acc.name] = em
                em.account.update(
                    {
                        "name": acc.name,
                        "resource_group": acc.resource_group,
                        "location": acc.location,
                        "disable_local_auth": acc.disable_local_auth,
                    }
                )
                em.set_deployments(acc.deployments)
                em.set_api_key(acc.api_key)
                if em not in self._engine.openai_accounts:
                    link(self._engine, em)
            self.accounts = list(accounts)

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
            self._owned.append(em)
            return em
        raise OSError(f"no port for the Azure OpenAI account {name}")

    def stop(self) -> None:
        with self._lock:
            for em in self._owned:
                unlink(self._engine, em)
                em.stop()
            self._owned.clear()
            self._by_name.clear()


def enable(engine: Any, primary: AzureOpenAIEmulator, state_dir: Path) -> OpenAIWorld:
    """Serve the world kept in `state_dir`, and let `primary`'s admin API seed and query it."""
    w = OpenAIWorld(engine, primary, state_dir)
    primary.world = w
    return w
