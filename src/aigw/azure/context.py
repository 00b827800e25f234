"""What every adapter call gets: clients, the desired state, secret values and a reporter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aigw.azure.session import Clients
from aigw.secrets import Secret, Secrets
from aigw.state import Desired, Resource

T = TypeVar("T")


@dataclass
class Ctx:
    clients: Clients
    desired: Desired
    secrets: Secrets
    report: Callable[[str, str], None] = lambda key, message: None  # (resource key, message)
    role_wait_timeout: float = 600.0
    poll_interval: float = 2.0
    # aigw's own retries of transient errors (azure.errors.RETRYABLE), around each adapter call
    retry_base: float = 1.0
    retry_cap: float = 15.0
    retry_timeout: float = 300.0
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Secret values this run replaced, by `aigw.secrets.SecretName`, in memory only: proof the
    # old is refused
    replaced: dict[str, Secret] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remember_replaced(self, source: str, old: Secret) -> None:
        from aigw import redact

        redact.register(old.reveal())
        with self._lock:
            self.replaced.setdefault(source, old)  # a retried write keeps the first old value

    @property
    def rg(self) -> str:
        return self.desired.resource_group

    @property
    def sub(self) -> str:
        return self.desired.subscription_id

    def set_outputs(self, key: str, values: dict[str, Any]) -> None:
        with self._lock:
            self.outputs[key] = {**self.outputs.get(key, {}), **values}

    def managed(self, res: Resource) -> dict[str, Any]:
        """`res.managed` with the tags others set on the resource added (observe records them
        as `other_tags`): a PUT replaces the whole tag set, and aigw owns only its own tags."""
        other = self.outputs.get(res.key, {}).get("other_tags")
        if not other or "tags" not in res.managed:
            return res.managed
        return {**res.managed, "tags": {**other, **res.managed["tags"]}}

    def output(self, key: str, attr: str) -> Any:
        with self._lock:
            value = self.outputs.get(key, {}).get(attr)
        if value is None:
            raise RuntimeError(f"{key}.{attr} is not known yet (dependency order broken?)")
        return value

    def retry(
        self, call: Callable[[], T], *, key: str, what: str, timeout: float | None = None
    ) -> T:
        """`call` until it succeeds or fails for good: the one policy aigw adds on top of
        azure-core for transient errors (azure.errors.RETRYABLE), bounded and jittered."""
        from aigw import interrupt
        from aigw.azure import local_gone
        from aigw.azure.errors import is_retryable, retry_budget, with_retries

        def guarded() -> T:
            try:
                return call()
            except Exception as err:
                local_gone.check(self.clients.target, err)  # a dead local cloud: say so now
                raise

        return with_retries(
            guarded,
            what=what,
            timeout=self.retry_timeout if timeout is None else timeout,
            base=self.retry_base,
            cap=self.retry_cap,
            retryable=is_retryable,
            budget=retry_budget,
            on_wait=lambda message: self.report(key, message),
            sleep=interrupt.sleep,  # Ctrl-C ends the wait at once
        )
