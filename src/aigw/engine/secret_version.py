"""A new version of one Key Vault secret the container app references, rolled out as a plan run
by the engine's apply (its dependency order, retries, role-propagation waits, Ctrl-C handling):
the secret updated (unless the caller wrote it), then the app pointed at the new version, which
restarts every active revision (resources/container_app.restart_active). Shared by
`rotate-key` (engine.rotate) and `aigw keys` (engine.developer_keys)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aigw.errors import AigwError, AzureError
from aigw.gateway.checks import Check
from aigw.resources import adapter
from aigw.state import Key, Ref

if TYPE_CHECKING:
    from aigw.engine.session import Session


@dataclass(kw_only=True)
class SecretRollout:
    """What a secret's rollout did (`rotate-key`, `aigw keys`): the versions, the revisions it
    restarted, the URLs it proved on, timings and checks."""

    env: str
    key_vault: str
    secret: str
    container_app: str
    gateway_url: str | None = None
    old_version: str | None = None
    new_version: str | None = None
    restarted_revisions: list[str] = field(default_factory=list)
    urls: dict[str, str | None] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def rollout_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "key_vault": self.key_vault,
            "secret": self.secret,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "container_app": self.container_app,
            "restarted_revisions": self.restarted_revisions,
            "gateway_url": self.gateway_url,
            "urls": self.urls,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "checks": [c.to_json() for c in self.checks],
            "ok": self.ok,
        }


def observe_targets(session: Session) -> tuple[Any, Any]:
    """Before a secret's new version rolls out (rotate-key, `aigw keys`): read the vault, the
    identity and the container app (only those) with the engine's read (its retries and error
    translation), fill ctx.outputs, and refuse when the app differs from the YAML."""
    from aigw.engine.observe import observe_one

    ctx = session.ctx
    by_key = session.desired.by_key()
    found = {}
    # What else the app's fields name (an endpoint another resource reports, e.g. a cache's
    # host and port): read it too, so the app resolves as a deploy resolves it.
    fixed = (Key.key_vault, Key.identity, Key.container_app)
    for key in sorted(_refs(by_key[Key.container_app].managed) - set(fixed)):
        res = by_key.get(key)
        if res is not None and not adapter(res.kind).inside_vault:
            obs = observe_one(ctx, res)
            if obs.exists:
                ctx.set_outputs(key, obs.outputs)
    # The identity too: the app references its client id (azure_openai.auth: identity).
    for key in fixed:
        res = by_key[key]
        obs = observe_one(ctx, res)
        if not obs.exists or obs.soft_deleted:
            raise AigwError(
                f"{res.kind.value} {res.name} of {session.config.env} does not exist",
                hint=f"deploy first: aigw deploy --env {session.config.env}",
            )
        ctx.set_outputs(key, obs.outputs)
        found[key] = res
        if key == Key.container_app:
            refuse_drift(session, res, obs)
    return found[Key.key_vault], found[Key.container_app]


def _refs(value: Any) -> set[str]:
    """The resource keys the Refs in `value` name."""
    if isinstance(value, Ref):
        return {value.key}
    if isinstance(value, dict):
        return {k for v in value.values() for k in _refs(v)}
    if isinstance(value, list | tuple):
        return {k for v in value for k in _refs(v)}
    return set()


def refuse_drift(session: Session, res: Any, obs: Any) -> None:
    """rotate-key PUTs the container app (its gateway key reference names the new version):
    refuse when that would also roll out other changes the YAML has and Azure has not."""
    from aigw.engine.plan import field_diffs
    from aigw.state import resolve

    have = {**obs.fields, "tags": obs.tags or {}}
    diffs = field_diffs(resolve(res.managed, session.ctx.outputs), have)
    if diffs:
        paths = ", ".join(d.path for d in diffs[:4])
        raise AigwError(
            f"container app {res.name} differs from the environment file ({paths}): rotate-key "
            "would deploy that too",
            hint=f"run aigw deploy --env {session.config.env} first, then rotate-key",
        )


def pin_other_versions(session: Session, vault_uri: str, name: str) -> None:
    """Every other secret the app references keeps the version Key Vault holds now."""
    ctx = session.ctx
    for other in session.desired.resources:
        if adapter(other.kind).inside_vault and other.name != name:
            version = adapter(other.kind).current_version(ctx, vault_uri, other.name)
            ctx.set_outputs(other.key, {"version": version})


def roll_out(
    session: Session,
    name: str,
    old_version: str | None,
    *,
    write: bool,
    written: str,
    hint: str,
) -> dict[str, Any]:
    """Apply the plan; return its steps ("write" when `write`, "restart"). Raises AzureError
    naming the step that failed; `written` says what is already in Key Vault then."""
    from aigw.engine.apply import StepState, apply_plan
    from aigw.engine.plan import Action, Change, FieldDiff, Plan

    by_key = session.desired.by_key()
    secret = by_key[f"secret:{name}"]
    app = by_key[Key.container_app]
    changes = [
        Change(
            app.key,
            app.kind,
            app.name,
            Action.update,
            (FieldDiff(f"secrets.{name}.version", old_version, Ref(secret.key, "version")),),
            reason="reference the new version, reload the revision",
        )
    ]
    if write:
        changes.insert(0, Change(secret.key, secret.kind, secret.name, Action.update))
    result = apply_plan(session.ctx, Plan(session.config.env, tuple(changes)), workers=1)
    steps = {"restart": result.steps[app.key]}
    if write:
        steps = {"write": result.steps[secret.key], **steps}
    failed = {step: s for step, s in steps.items() if s.state is not StepState.done}
    if "write" in failed:
        raise AzureError(f"writing {name} to Key Vault: {failed['write'].message}")
    if "restart" in failed:
        raise AzureError(
            f"pointing the container app at the new version ({written}): "
            f"{failed['restart'].message}",
            hint=hint,
        )
    return steps
