"""Seeded fault injection: throttling, server errors, dropped connections and added latency.

Kinds: "429", "500", "503" (an error answer, nothing done), "drop" (the connection closes
before the request is handled: nothing done), "lost" (the request is handled, then the
connection closes before the answer: done, but the client cannot know), "latency".
"failed": the PUT is accepted as usual, then its long-running operation ends Failed and the
resource stays in provisioningState Failed (ARM: Succeeded, Failed and Canceled are the
terminal provisioning states, and a failed async operation reports status Failed with an
error: github.com/Azure/azure-resource-manager-rpc v1.0/async-api-reference.md); a later PUT
provisions it again.

Rules match "METHOD path-glob" (fnmatch, case-insensitive, e.g. "PUT */vaults/*" or
"* */secrets/*"). The same seed and the same request sequence give the same faults.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field

KINDS = ("429", "500", "503", "drop", "lost", "latency", "failed")


@dataclass
class FaultRule:
    route: str
    kind: str
    rate: float = 1.0
    retry_after: int = 1
    latency: float = 0.0
    limit: int | None = None  # at most this many injections
    hits: int = field(default=0)

    def matches(self, method: str, path: str) -> bool:
        pattern = self.route.strip()
        if " " in pattern:
            m_pat, p_pat = pattern.split(None, 1)
        else:
            m_pat, p_pat = "*", pattern
        if m_pat != "*" and m_pat.upper() != method.upper():
            return False
        return fnmatch.fnmatch(path.split("?", 1)[0].lower(), p_pat.lower())


@dataclass(frozen=True)
class Fault:
    kind: str
    retry_after: int
    latency: float


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: list[tuple[str, str, str]] = []  # (kind, method, path)

    def seed(self, n: int) -> None:
        with self._lock:
            self._rng = random.Random(n)

    def add(
        self,
        route: str,
        kind: str,
        rate: float = 1.0,
        *,
        retry_after: int = 1,
        latency: float = 0.0,
        limit: int | None = None,
    ) -> FaultRule:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        rule = FaultRule(route, kind, rate, retry_after, latency, limit)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self.injected.clear()

    def pick(self, method: str, path: str) -> list[Fault]:
        """Faults to apply to this request: any latency first, then at most one failure."""
        out: list[Fault] = []
        with self._lock:
            failed = False
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.limit is not None and rule.hits >= rule.limit:
                    continue
                if rule.kind != "latency" and failed:
                    continue
                if self._rng.random() >= rule.rate:
                    continue
                rule.hits += 1
                out.append(Fault(rule.kind, rule.retry_after, rule.latency))
                self.injected.append((rule.kind, method, path))
                if rule.kind != "latency":
                    failed = True
        out.sort(key=lambda f: f.kind != "latency")
        return out
