"""A journal of every request the local cloud answered: in memory and as JSON lines on disk.

Only request metadata is kept (never bodies), so secret values can never land in it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# POSTs that only read (ARM lists them as actions, but they change nothing).
READ_ONLY_POST_SUFFIXES = (
    "/listsecrets",
    "/sharedkeys",
    "/checknameavailability",
    "/listkeys",
)


def is_write(method: str, path: str) -> bool:
    m = method.upper()
    if m in ("PUT", "PATCH", "DELETE"):
        return True
    if m == "POST":
        p = path.split("?", 1)[0].rstrip("/").lower()
        return not p.endswith(READ_ONLY_POST_SUFFIXES)
    return False


@dataclass(frozen=True)
class JournalEntry:
    time: float
    method: str
    host: str
    path: str
    api_version: str | None
    status: int
    is_write: bool
    request_id: str
    duration_ms: float
    principal: str | None = None
    fault: str | None = None


class Journal:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: list[JournalEntry] = []
        self._lock = threading.Lock()

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            if self.path is not None:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(asdict(entry), separators=(",", ":")) + "\n")

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def read_journal(path: Path) -> list[JournalEntry]:
    """Entries written by any process sharing the state directory."""
    out: list[JournalEntry] = []
    if not path.exists():
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            data: dict[str, Any] = json.loads(line)
            out.append(JournalEntry(**data))
    return out
