"""`aigw rotate-key`: a new gateway key, written as a new Key Vault version, the container app
pointed at that version and its active revision restarted so the container reads it, then
proven: the new key works, the old one is refused.

Only the verdicts leave this module; the new key's value is returned wrapped in a `Secret`.
"""

from __future__ import annotations

import secrets as _secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from aigw import clients, redact
from aigw.config.naming import GATEWAY_KEY_SECRET
from aigw.engine.secret_version import pin_other_versions, roll_out
from aigw.errors import AigwError, UserError
from aigw.gateway.smoke import Check
from aigw.gateway.url import gateway_url
from aigw.model import Key
from aigw.secrets import Secret

if TYPE_CHECKING:
    from aigw.engine.workflow import Session

Reporter = Callable[[str], None]


def generate_key() -> str:
    """A strong gateway key: 32 random bytes, URL-safe, with LiteLLM's customary `sk-`."""
    return "sk-" + _secrets.token_urlsafe(32)


def check_new_key(value: str) -> str:
    from aigw.gateway.key_strength import weakness

    value = value.strip()
    why = weakness(value)
    if why:
        raise UserError(
            f"the new gateway key is too weak: {why}",
            hint="leave out --new-key-env and aigw generates a strong one",
        )
    return value


@dataclass
class Rotation:
    env: str
    key_vault: str
    secret: str
    container_app: str
    key_env: str
    new_key: Secret
    gateway_url: str | None = None
    old_version: str | None = None
    new_version: str | None = None
    restarted_revision: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "key_vault": self.key_vault,
            "secret": self.secret,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "container_app": self.container_app,
            "restarted_revision": self.restarted_revision,
            "gateway_url": self.gateway_url,
            "key_env": self.key_env,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "checks": [c.to_json() for c in self.checks],
            "ok": self.ok,
            "update": where_to_update(self.env, self.key_env),
        }


def where_to_update(env: str, key_env: str) -> list[str]:
    return [
        f"your shell / secret store: ${key_env}",
        f"GitHub: environment '{env}' secret AIGW_GATEWAY_KEY "
        f"(gh secret set AIGW_GATEWAY_KEY --env {env}); a deploy with the old value "
        "writes the old key back",
        f"coding clients: aigw client-config --env {env} --client {clients.choices()}",
    ]


def _observe_targets(session: Session) -> tuple[Any, Any]:
    """Read the vault, the identity and the container app (only those) with the engine's read
    (its retries and error translation), and fill ctx.outputs."""
    from aigw.engine.observe import observe_one

    ctx = session.ctx
    by_key = session.desired.by_key()
    found = {}
    # The identity too: the app references its client id (azure_openai.auth: identity).
    for key in (Key.key_vault, Key.identity, Key.container_app):
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
            _refuse_drift(session, res, obs)
    return found[Key.key_vault], found[Key.container_app]


def _refuse_drift(session: Session, res: Any, obs: Any) -> None:
    """rotate-key PUTs the container app (its gateway key reference names the new version):
    refuse when that would also roll out other changes the YAML has and Azure has not."""
    from aigw.engine.plan import field_diffs
    from aigw.model import resolve

    have = {**obs.fields, "tags": obs.tags or {}}
    diffs = field_diffs(resolve(res.managed, session.ctx.outputs), have)
    if diffs:
        paths = ", ".join(d.path for d in diffs[:4])
        raise AigwError(
            f"container app {res.name} differs from the environment file ({paths}): rotate-key "
            "would deploy that too",
            hint=f"run aigw deploy --env {session.config.env} first, then rotate-key",
        )


def _current(session: Session, vault_uri: str) -> tuple[str | None, str | None]:
    """(value, version) of the gateway key in Key Vault; (None, None) if unreadable."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    client = session.ctx.clients.secrets(vault_uri)
    try:
        s = client.get_secret(GATEWAY_KEY_SECRET)
    except ResourceNotFoundError:
        return None, None
    except HttpResponseError as err:
        if err.status_code in (401, 403):
            return None, None
        raise
    return s.value, s.properties.version


def _status(client: httpx.Client, key: str) -> int:
    try:
        return client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code
    except httpx.HTTPError:
        return 0


def wait_for_switch(
    url: str,
    new_key: str,
    old_key: str | None,
    *,
    verify: Any,
    timeout: float,
    on_wait: Reporter | None = None,
) -> Check:
    """Poll until the gateway accepts the new key and refuses the old one (the restart is
    asynchronous on Azure: old replicas answer with the old key for a while)."""
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    next_note = time.monotonic()
    new_status = old_status = 0
    with httpx.Client(base_url=url, verify=verify, timeout=10, trust_env=False) as client:
        while True:
            new_status = _status(client, new_key)
            old_status = _status(client, old_key) if old_key else 401
            if new_status == 200 and 400 <= old_status < 500:
                ms = (time.perf_counter() - start) * 1000
                return Check("gateway switched to the new key", True, ms, f"after {ms / 1000:.1f}s")
            if time.monotonic() > deadline:
                ms = (time.perf_counter() - start) * 1000
                return Check(
                    "gateway switched to the new key",
                    False,
                    ms,
                    f"after {timeout:.0f}s: new key HTTP {new_status or 'no answer'}, old key "
                    f"HTTP {old_status or 'no answer'}",
                )
            if on_wait and time.monotonic() >= next_note:
                waited = time.perf_counter() - start
                on_wait(
                    "waiting until the gateway accepts the new key and refuses the old one "
                    f"(the revision restarts to load it; {waited:.0f}s of at most {timeout:.0f}s"
                    f"): new key HTTP {new_status or 'no answer'}, old key HTTP "
                    f"{old_status or 'no answer'}"
                )
                next_note = time.monotonic() + 10.0
            time.sleep(1.0)


def old_key_check(url: str, old_key: str | None, *, verify: Any) -> Check:
    if not old_key:
        return Check("old key is refused", False, 0, "the old key could not be read: not proven")
    with httpx.Client(base_url=url, verify=verify, timeout=10, trust_env=False) as client:
        t0 = time.perf_counter()
        status = _status(client, old_key)
        ms = (time.perf_counter() - t0) * 1000
    return Check("old key is refused", 400 <= status < 500, ms, f"HTTP {status or 'no answer'}")


def rotate_gateway_key(
    session: Session,
    new_key: Secret,
    *,
    wait_timeout: float = 300.0,
    on_step: Reporter | None = None,
    smoke_timeout: float = 180.0,
) -> Rotation:
    """Write `new_key` as a new version of the gateway key, restart the active revision, then
    verify. Raises AigwError if a write fails; failed verifications are in `checks`."""
    from aigw.gateway import smoke

    say = on_step or (lambda message: None)
    redact.register(new_key.reveal())
    cfg = session.config
    names = cfg.names()
    rotation = Rotation(
        env=cfg.env,
        key_vault=names.key_vault,
        secret=GATEWAY_KEY_SECRET,
        container_app=names.container_app,
        key_env=cfg.gateway.key_env,
        new_key=new_key,
    )
    t0 = time.perf_counter()
    _observe_targets(session)
    ctx = session.ctx
    vault_uri = ctx.output(Key.key_vault, "vault_uri")
    fqdn = ctx.outputs.get(Key.container_app, {}).get("fqdn")
    rotation.gateway_url = gateway_url(fqdn, local=session.target.local)
    old_value, rotation.old_version = _current(session, vault_uri)
    if old_value is None:
        given = ctx.secrets.gateway_key
        old_value = given.reveal() if given else None
    if old_value is not None and old_value == new_key.reveal():
        raise UserError("the new gateway key is the current one: nothing to rotate")
    rotation.seconds["read"] = time.perf_counter() - t0

    say(
        f"writing a new version of Key Vault secret {GATEWAY_KEY_SECRET} in {names.key_vault}, "
        f"then pointing {names.container_app} at it and restarting its active revision"
    )
    ctx.secrets = ctx.secrets.with_gateway_key(new_key)
    pin_other_versions(session, vault_uri, GATEWAY_KEY_SECRET)
    steps = roll_out(
        session,
        GATEWAY_KEY_SECRET,
        rotation.old_version,
        write=True,
        written="the new key IS in Key Vault; the gateway still uses the old one until then",
        hint=f"rerun aigw deploy --env {cfg.env} with the new key in ${cfg.gateway.key_env}; "
        f"read it with az keyvault secret show --vault-name {names.key_vault} "
        f"-n {GATEWAY_KEY_SECRET}",
    )
    rotation.new_version = ctx.outputs.get(f"secret:{GATEWAY_KEY_SECRET}", {}).get("version")
    rotation.restarted_revision = ctx.outputs.get(Key.container_app, {}).get("restarted")
    for name, step in steps.items():
        if step.started is not None and step.finished is not None:
            rotation.seconds[name] = step.finished - step.started

    url = rotation.gateway_url
    if not url:
        rotation.checks.append(Check("gateway URL", False, 0, "the container app has no FQDN"))
        return rotation
    verify = smoke.verify_for(session.target)
    t3 = time.perf_counter()
    switched = wait_for_switch(
        url, new_key.reveal(), old_value, verify=verify, timeout=wait_timeout, on_wait=say
    )
    rotation.seconds["switch"] = time.perf_counter() - t3
    rotation.checks.append(switched)
    if switched.ok:
        t4 = time.perf_counter()
        rotation.checks += smoke.run_smoke(
            url, new_key.reveal(), cfg, verify=verify, timeout=smoke_timeout, on_wait=say
        )
        rotation.checks.append(old_key_check(url, old_value, verify=verify))
        rotation.seconds["verify"] = time.perf_counter() - t4
    rotation.seconds["total"] = time.perf_counter() - t0
    return rotation
