"""One check of the smoke test, and a timer for it (shared by smoke and surface)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass
class Check:
    name: str
    ok: bool
    ms: float
    details: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "ms": round(self.ms, 1), "details": self.details}


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ms = (time.perf_counter() - self.start) * 1000
