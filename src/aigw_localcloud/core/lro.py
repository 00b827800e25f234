"""Long-running operations: durations per resource kind, operation records, completion.

An operation is recorded in the state with the time it becomes due (now + duration). Due
operations are "settled" by a background ticker and at the start of every request: a finisher
per kind (registered with `engine.finisher`) applies the side effect (resource Succeeded, group
deleted, app started...) and marks the operation Succeeded or Failed. Each record keeps
`completed` (server-side completion time) and `observed` (first time a client was told), so a
benchmark can measure notice latency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .state import State
from .util import guid, iso, now

# Seconds real Azure typically takes (measured orders of magnitude, not exact figures).
REALISTIC_SECONDS: dict[str, float] = {
    "resourcegroup.create": 1.0,
    "resourcegroup.delete": 15.0,
    "workspace.create": 10.0,
    "workspace.delete": 5.0,
    "environment.create": 240.0,
    "environment.delete": 60.0,
    "identity.create": 2.0,
    "roleassignment.create": 2.0,
    "vault.create": 20.0,
    "vault.purge": 10.0,
    "containerapp.create": 45.0,
    "containerapp.update": 30.0,
    "containerapp.delete": 10.0,
    "provider.register": 30.0,
}

LATENCIES = ("instant", "realistic")


@dataclass(frozen=True)
class Timing:
    latency: str = "instant"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.latency not in LATENCIES:
            raise ValueError(f"latency must be one of {LATENCIES}, not {self.latency!r}")
        if self.scale < 0:
            raise ValueError("scale must be >= 0")

    def seconds(self, kind: str) -> float:
        if self.latency == "instant":
            return 0.0
        return REALISTIC_SECONDS.get(kind, 1.0) * self.scale


def new_operation(
    st: State,
    timing: Timing,
    kind: str,
    resource_id: str,
    *,
    location: str = "eastus",
    args: dict[str, Any] | None = None,
) -> dict[str, Any]:
    t = now()
    op = {
        "id": guid(),
        "kind": kind,
        "resource_id": resource_id,
        "status": "InProgress",
        "start": t,
        "due": t + timing.seconds(kind),
        "claimed": False,
        "completed": None,
        "observed": None,
        "error": None,
        "location": location,
        "args": args or {},
    }
    st["operations"][op["id"]] = op
    return op


def finish(op: dict[str, Any], error: dict[str, Any] | None = None) -> None:
    op["status"] = "Failed" if error else "Succeeded"
    op["error"] = error
    op["completed"] = now()


def mark_observed(op: dict[str, Any]) -> None:
    if op["status"] != "InProgress" and op.get("observed") is None:
        op["observed"] = now()


def status_body(op: dict[str, Any], op_path: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": op_path,
        "name": op["id"],
        "status": op["status"],
        "startTime": iso(op["start"]),
    }
    if op["status"] != "InProgress":
        body["endTime"] = iso(op["completed"])
    if op["error"]:
        body["error"] = op["error"]
    return body
