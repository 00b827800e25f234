"""The plan (pure): desired + observed -> ordered changes, a checksum, and safety checks.

Like octoDNS, a Plan is a plain value; renderers (rich table, Markdown, JSON) live apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aigw.errors import UnsafePlanError
from aigw.owned import ENV_TAG, MANAGED_BY, MANAGER, PROJECT_TAG, removed_tags
from aigw.resources import adapter
from aigw.state import (
    ABSENT,
    SECRET_VALUE,
    Desired,
    Kind,
    Observed,
    Ref,
    Resource,
    resolve,
)

REMOVED = "(removed)"  # the "after" of a tag the plan removes
# Terminal provisioning states other than Succeeded: the resource needs another PUT
# (github.com/Azure/azure-resource-manager-rpc v1.0/async-api-reference.md).
BROKEN_STATES = ("Failed", "Canceled")


class Action(StrEnum):
    create = "create"
    update = "update"
    recover = "recover"
    register = "register"
    restart = "restart"
    repair = "repair"  # provisioningState Failed/Canceled: PUT the desired state again
    delete = "delete"
    purge = "purge"
    noop = "no-op"


@dataclass(frozen=True)
class FieldDiff:
    path: str
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": _show(self.before), "after": _show(self.after)}


@dataclass(frozen=True)
class Change:
    key: str
    kind: Kind
    name: str
    action: Action
    diffs: tuple[FieldDiff, ...] = ()
    reason: str = ""
    unsafe: str = ""  # why applying this would harm something aigw does not own

    @property
    def is_write(self) -> bool:
        return self.action is not Action.noop

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind.value,
            "name": self.name,
            "action": self.action.value,
        }
        if self.diffs:
            out["diffs"] = [d.to_json() for d in self.diffs]
        if self.reason:
            out["reason"] = self.reason
        if self.unsafe:
            out["unsafe"] = self.unsafe
        return out


@dataclass(frozen=True)
class Plan:
    env: str
    changes: tuple[Change, ...]
    destroy: bool = False

    @property
    def writes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.is_write)

    @property
    def has_changes(self) -> bool:
        return bool(self.writes)

    @property
    def checksum(self) -> str:
        """Stable digest of what would be written: review it in a PR, apply it on main."""
        body = json.dumps(
            {
                "env": self.env,
                "destroy": self.destroy,
                "changes": [c.to_json() for c in self.writes],
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.action.value] = out.get(c.action.value, 0) + 1
        return out

    def unsafe_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.unsafe)

    def raise_if_unsafe(self) -> None:
        bad = self.unsafe_changes()
        if bad:
            first = bad[0]
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise UnsafePlanError(
                f"refusing to {first.action.value} {first.kind.value} {first.name}: "
                f"{first.unsafe}{more}"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "destroy": self.destroy,
            "checksum": self.checksum,
            "has_changes": self.has_changes,
            "counts": self.counts(),
            "changes": [c.to_json() for c in self.changes],
        }


def _show(value: Any) -> Any:
    if isinstance(value, Ref):
        return str(value)
    return value


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for k in value:
            out.update(_flatten(value[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def field_diffs(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> tuple[FieldDiff, ...]:
    """Differences on managed fields only. Tags: aigw's keys must match, the ones it set and
    no longer wants go (aigw.owned.removed_tags); others are left alone."""
    want = _flatten({k: v for k, v in desired.items() if k != "tags"})
    have = _flatten({k: v for k, v in observed.items() if k != "tags"})
    diffs = [
        FieldDiff(path, have.get(path), value)
        for path, value in want.items()
        if not isinstance(value, Ref) and have.get(path) != value
    ]
    want_tags = desired.get("tags") or {}
    have_tags = observed.get("tags") or {}
    for k, v in want_tags.items():
        if have_tags.get(k) != v:
            diffs.append(FieldDiff(f"tags.{k}", have_tags.get(k), v))
    if "tags" in desired:  # tags aigw set from the YAML earlier and the YAML no longer has
        for k in removed_tags(want_tags, have_tags):
            diffs.append(FieldDiff(f"tags.{k}", have_tags[k], REMOVED))
    return tuple(sorted(diffs, key=lambda d: d.path))


def _ownership_problem(res: Resource, obs: Observed, env: str, project: str = "") -> str:
    if not res.owned or not obs.exists:
        return ""
    tags = obs.tags or {}
    if tags.get(MANAGED_BY) != MANAGER:
        return (
            f"it exists without the tag {MANAGED_BY}={MANAGER}, so aigw does not own it (choose "
            "other names with name_prefix or key_vault.name_suffix, or tag it "
            f"{MANAGED_BY}={MANAGER} to adopt)"
        )
    if tags.get(ENV_TAG) != env:
        return f"it belongs to aigw environment {tags.get(ENV_TAG)!r}, not {env!r}"
    if project and tags.get(PROJECT_TAG) != project:
        return f"it belongs to aigw project {tags.get(PROJECT_TAG)!r}, not {project!r}"
    return ""


def _order(resources: Iterable[Resource]) -> list[Resource]:
    """Topological order, ties broken by kind order then key: the same plan prints the same."""
    items = {r.key: r for r in resources}
    done: list[Resource] = []
    placed: set[str] = set()
    pending = sorted(items.values(), key=lambda r: (adapter(r.kind).order, r.key))
    while pending:
        for r in pending:
            if all(d in placed or d not in items for d in r.depends_on):
                done.append(r)
                placed.add(r.key)
                pending.remove(r)
                break
        else:
            raise ValueError(f"dependency cycle among {[r.key for r in pending]}")
    return done


def plan_deploy(desired: Desired, observed: Mapping[str, Observed]) -> Plan:
    """What deploy must do to make Azure match `desired`."""
    outputs = {k: o.outputs for k, o in observed.items() if o.exists}
    changes: list[Change] = []
    written: list[str] = []
    for res in _order(desired.resources):
        obs = observed.get(res.key, ABSENT)
        change = _plan_one(res, obs, outputs, desired.env, desired.tags.get(PROJECT_TAG, ""))
        if adapter(res.kind).inside_vault and change.action in (Action.create, Action.update):
            written.append(res.name)
            outputs.pop(res.key, None)  # its version is new: known once written
        changes.append(change)
    app = next((c for c in changes if adapter(c.kind).reads_vault_secrets), None)
    if app and written and app.action in (Action.noop, Action.update) and not app.unsafe:
        changes[changes.index(app)] = _reference_new_versions(
            app, written, observed.get(app.key, ABSENT)
        )
    return Plan(env=desired.env, changes=tuple(changes))


def _reference_new_versions(app: Change, written: list[str], obs: Observed) -> Change:
    """The app references each secret by version, so a secret written now changes the app: PUT
    it with the new version (and restart the revision if its template is unchanged)."""
    have = obs.fields.get("secrets") or {}
    diffs = {d.path: d for d in app.diffs}
    for name in written:
        path = f"secrets.{name}.version"
        diffs[path] = FieldDiff(
            path, (have.get(name) or {}).get("version"), Ref(f"secret:{name}", "version")
        )
    return Change(
        app.key,
        app.kind,
        app.name,
        Action.update,
        tuple(sorted(diffs.values(), key=lambda d: d.path)),
        reason=app.reason
        or "a Key Vault secret it reads gets a new version: reference it, reload the revision",
    )


def _plan_one(
    res: Resource,
    obs: Observed,
    outputs: Mapping[str, Mapping[str, Any]],
    env: str,
    project: str = "",
) -> Change:
    def change(
        action: Action, diffs: tuple[FieldDiff, ...] = (), reason: str = "", unsafe: str = ""
    ) -> Change:
        return Change(res.key, res.kind, res.display or res.name, action, diffs, reason, unsafe)

    ops = adapter(res.kind)
    if ops.registration:
        state = obs.fields.get("registrationState") if obs.exists else None
        if state == "Registered":
            return change(Action.noop)
        return change(Action.register, reason=f"provider is {state or 'NotRegistered'}")
    if not obs.exists:
        if ops.soft_delete and obs.soft_deleted:
            return change(
                Action.recover,
                reason="a soft-deleted vault of this name exists: recover it with its secrets",
            )
        return change(Action.create)
    unsafe = _ownership_problem(res, obs, env, project)
    if unsafe:
        return change(Action.update, unsafe=unsafe)
    state = obs.outputs.get("provisioning_state")
    if state in BROKEN_STATES:
        return change(Action.repair, reason=f"provisioningState is {state}: PUT it again")
    if ops.inside_vault:  # a Key Vault secret: only its value is compared
        if obs.value_matches is False:
            return change(
                Action.update, (FieldDiff("value", "(old value)", SECRET_VALUE),), "value changed"
            )
        return change(Action.noop)
    if ops.immutable:
        return change(Action.noop)
    desired_fields = resolve(res.managed, outputs)
    have = dict(obs.fields)
    if obs.tags is not None:
        have["tags"] = obs.tags
    diffs = field_diffs(desired_fields, have)
    fixed = ops.fixed_fields(obs)
    diffs = tuple(d for d in diffs if d.path not in fixed)
    if not diffs:
        return change(Action.noop)
    return change(Action.update, diffs)


def plan_destroy(
    desired: Desired, observed: Mapping[str, Observed], *, purge: bool = False
) -> Plan:
    """Delete what aigw owns for this environment, in reverse dependency order."""
    changes: list[Change] = []
    for res in reversed(_order(desired.resources)):
        obs = observed.get(res.key, ABSENT)
        ops = adapter(res.kind)
        if ops.registration or ops.inside_vault:
            continue  # providers stay registered; secrets go with their vault
        if ops.soft_delete and not obs.exists and obs.soft_deleted and purge:
            changes.append(_purge_change(res, obs))
            continue
        if not obs.exists:
            continue
        unsafe = _ownership_problem(res, obs, desired.env, desired.tags.get(PROJECT_TAG, ""))
        if obs.foreign_contents:  # only a resource group's observe lists contents
            changes.append(
                Change(
                    res.key,
                    res.kind,
                    res.name,
                    Action.noop,
                    reason=(
                        f"kept: it also holds {len(obs.foreign_contents)} resource(s) aigw does "
                        f"not own ({', '.join(obs.foreign_contents[:3])})"
                    ),
                )
            )
            continue
        changes.append(
            Change(res.key, res.kind, res.display or res.name, Action.delete, unsafe=unsafe)
        )
        if ops.soft_delete and purge:
            changes.append(_purge_change(res, obs))
    return Plan(env=desired.env, changes=tuple(changes), destroy=True)


def _purge_change(res: Resource, obs: Observed) -> Change:
    unsafe = ""
    if obs.purge_protected:
        unsafe = "purge protection is on: the vault can only expire after its retention period"
    return Change(res.key, res.kind, res.name, Action.purge, unsafe=unsafe)
