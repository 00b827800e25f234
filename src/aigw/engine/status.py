"""`aigw status`: one row per resource, each kind's own status line (its adapter's
`status`), and the gateway's row held to whether the gateway answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aigw.resources import adapter
from aigw.state import Kind, Observed

if TYPE_CHECKING:
    from aigw.engine.session import Session


def health(session: Session, observed: dict[str, Observed]) -> list[dict[str, Any]]:
    """One row per resource: exists, and what Azure says of its state (each kind's `status`)."""
    rows = []
    for res in session.desired.resources:
        obs = observed.get(res.key)
        exists = bool(obs and obs.exists)
        state = "present" if exists else "missing"
        if obs is not None:
            line = adapter(res.kind).status(obs)
            if line is not None:
                exists, state = line
            elif obs.soft_deleted:
                state = "soft-deleted"
        name = res.display or res.name
        rows.append({"kind": res.kind.value, "name": name, "ok": exists, "state": state})
    return rows


def is_deployed(session: Session, observed: dict[str, Observed]) -> bool:
    """Whether anything of this environment exists (providers and soft-deleted vaults aside)."""
    for res in session.desired.resources:
        obs = observed.get(res.key)
        registration = adapter(res.kind).registration
        if not registration and obs and obs.exists and not obs.soft_deleted:
            return True
    return False


def not_running_unless_answering(
    rows: list[dict[str, Any]], gateway: dict[str, Any]
) -> list[dict[str, Any]]:
    """The gateway's row (its kind `serves_gateway`: the container app) says Running only if
    the gateway answers its liveness probe (a restarted local cloud, a crashed replica: Azure
    may still say Running)."""
    if gateway.get("ok"):
        return rows
    out = []
    for row in rows:
        if adapter(Kind(row["kind"])).serves_gateway and row["ok"]:
            state = str(row["state"]).replace("Running", "not answering")
            row = {**row, "ok": False, "state": state}
        out.append(row)
    return out
