"""The local cloud's state: one JSON document in the state directory.

Every access goes through a lock that works across threads (RLock) and processes (flock), and
every write replaces the file atomically, so a second process or a restarted server sees a
consistent cloud. Reads re-parse the file only when it changed on disk.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

State = dict[str, Any]


def empty_state(
    subscription_id: str, tenant_id: str, deployer: str, namespaces: Iterable[str]
) -> State:
    """A new subscription: `namespaces` (those the route modules declare) start registered."""
    return {
        "version": 1,
        "subscription_id": subscription_id,
        "tenant_id": tenant_id,
        "deployer_principal_id": deployer,
        "providers": {ns.lower(): {"namespace": ns, "state": "Registered"} for ns in namespaces},
        "resource_groups": {},
        "resources": {},
        "role_assignments": {},
        "deleted_vaults": {},
        "taken_vault_names": [],
        "vault_ports": {},
        "secrets": {},
        "operations": {},
        "principals": {},
        "deny_deployer": False,
    }


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "state.json"
        self._lock_path = directory / "state.lock"
        self._rlock = threading.RLock()
        self._local = threading.local()
        self._cache: tuple[tuple[int, int, int], State] | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def initialize(self, initial: State) -> None:
        with self.write() as st:
            if not st:
                st.update(initial)

    def _stat_key(self) -> tuple[int, int, int] | None:
        try:
            s = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (s.st_mtime_ns, s.st_size, s.st_ino)

    def _load(self) -> State:
        k = self._stat_key()
        if k is None:
            return {}
        if self._cache is not None and self._cache[0] == k:
            return copy.deepcopy(self._cache[1])
        with open(self.path, encoding="utf-8") as f:
            data: State = json.load(f)
        self._cache = (k, data)
        return copy.deepcopy(data)

    def _save(self, st: State) -> None:
        tmp = self.path.with_name(f"state.json.{os.getpid()}.{threading.get_ident()}.tmp")
        # The state holds the emulated vaults' secret values: owner-only, like a key store.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            json.dump(st, f, separators=(",", ":"))
        os.replace(tmp, self.path)
        k = self._stat_key()
        if k is not None:
            self._cache = (k, copy.deepcopy(st))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._rlock:
            depth = getattr(self._local, "depth", 0)
            if depth:
                self._local.depth = depth + 1
                try:
                    yield
                finally:
                    self._local.depth -= 1
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._local.depth = 1
                try:
                    yield
                finally:
                    self._local.depth = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    @contextmanager
    def write(self) -> Iterator[State]:
        """Load, let the caller change, save atomically. Nested calls share one document."""
        with self._locked():
            outer = getattr(self._local, "doc", None)
            if outer is not None:
                yield outer
                self._local.dirty = True
                return
            doc = self._load()
            self._local.doc = doc
            self._local.dirty = False
            try:
                yield doc
                self._save(doc)
            finally:
                self._local.doc = None

    @contextmanager
    def read(self) -> Iterator[State]:
        """A consistent snapshot; changes made to it are not saved."""
        with self._locked():
            outer = getattr(self._local, "doc", None)
            if outer is not None:
                yield outer
                return
            yield self._load()
