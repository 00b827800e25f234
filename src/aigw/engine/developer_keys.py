"""`aigw keys`: a key per developer (issue 14), without a database.

The hashes live in one Key Vault secret (DEVELOPER_KEYS_SECRET, format in
gateway/developer_keys.py), which the container app mounts beside the guard as a versioned Key
Vault reference. A change
writes a new version, points the app at it and restarts every active revision: on Azure an
updated secret does not reach running replicas without a new revision or a restart
(learn.microsoft.com/azure/container-apps/manage-secrets: secrets are app-scoped, a changed
secret makes no new revision, and replicas see it only after a restart of the revision or a new
revision; the same source as aigw_localcloud/kv_refs.py). That is what
resources/container_app.ensure does when a reference changed, as for rotate-key: the live
revision, the `previous` one (0% of the traffic, but public on its label URL and the one
`aigw rollback` returns to) and any `candidate` left active. Then the change is proven against
the gateway's main URL and every label URL (engine/serving_urls.py) before the command returns:

- add / rotate: the new key answers 200 (the gateway serves the new file);
- revoke: aigw holds no revoked key (only its hash), so the new version also carries a probe
  entry (PROBE_NAME, no model, expiring after PROBE_TTL) whose key only this process knows;
  the probe answering 200 several times in a row means the replicas serve the file without the
  revoked hash, so the revoked key gets 401. The probe key is then dropped from memory, and the
  next change removes the expired entry.

Every change also proves the gateway key still answers 200 on each URL. The new key leaves this
module only wrapped in a `Secret`, for the CLI to print once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from aigw import redact
from aigw.config.naming import DEVELOPER_KEYS_SECRET, FORMER_DEVELOPER_KEYS_SECRET
from aigw.engine.secret_version import SecretRollout, pin_other_versions, roll_out
from aigw.engine.serving_urls import serving_urls
from aigw.errors import AigwError, UserError
from aigw.gateway import developer_keys as fmt
from aigw.gateway.checks import Check
from aigw.gateway.url import gateway_url
from aigw.owned import MANAGED_BY, MANAGER
from aigw.resources import names_of
from aigw.secrets import Secret
from aigw.state import Key

if TYPE_CHECKING:
    from aigw.engine.session import Session

Reporter = Callable[[str], None]
PROBE_NAME = "aigw-probe"
PROBE_TTL = timedelta(minutes=15)
# Consecutive 200s of the proof key: requests spread over the replicas behind the ingress.
PROOF_STREAK = 3


def new_key() -> str:
    """A developer key: rotate-key's 32 random bytes, with a prefix that says what it is."""
    from aigw.engine.rotate import generate_key

    return fmt.KEY_PREFIX + generate_key().removeprefix("sk-")


@dataclass(kw_only=True)
class KeysChange(SecretRollout):
    action: str
    name: str
    secret: str = DEVELOPER_KEYS_SECRET
    record: dict[str, Any] | None = None
    new_key: Secret | None = None

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "name": self.name, "key": self.record, **self.rollout_json()}


def _vault_uri(session: Session) -> str:
    from aigw.engine.vault_secrets import deployed_vault_uri

    return deployed_vault_uri(session)


def _read(session: Session, vault_uri: str) -> tuple[dict[str, fmt.KeyRecord], str | None]:
    from aigw.engine.vault_secrets import read_required, read_secret

    names = names_of(session.config)
    where = f"Key Vault secret {names.key_vault}/{DEVELOPER_KEYS_SECRET}"
    missing = AigwError(
        f"{where} does not exist (deployed before developer keys)",
        hint=f"aigw deploy --env {session.config.env} creates it",
    )
    try:
        stored = read_required(
            session, vault_uri, DEVELOPER_KEYS_SECRET, missing=missing, secret=False
        )
    except AigwError as err:
        if err is missing and read_secret(
            session.ctx, vault_uri, FORMER_DEVELOPER_KEYS_SECRET, secret=False
        ):
            raise AigwError(  # deployed by an aigw before issue 25's renames
                f"{where} does not exist yet: the gateway serves its developer keys from "
                f"{FORMER_DEVELOPER_KEYS_SECRET}, their name before this version of aigw",
                hint=f"aigw deploy --env {session.config.env} moves them (every key kept)",
            ) from None
        raise
    return fmt.parse(stored.value, where), stored.version


def list_keys(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """The developer keys as `keys list` shows them (never a key, nor a hash). Reads only."""
    now = now or datetime.now(UTC)
    records, _ = _read(session, _vault_uri(session))
    return [r.public(now) for n, r in sorted(records.items()) if not n.startswith("aigw-")]


def _check_models(session: Session, models: tuple[str, ...] | None) -> None:
    if models is None:
        return
    aliases = [m.alias for m in session.config.models]
    unknown = [m for m in models if m not in aliases]
    if unknown or not models:
        raise UserError(
            f"--models {','.join(unknown) or '(empty)'}: not a model alias of {session.config.env}",
            hint=f"choose among {', '.join(aliases)} (comma-separated), or leave out --models",
        )


def _with_limits(record: fmt.KeyRecord, limits: Mapping[str, int | float | None]) -> fmt.KeyRecord:
    """The record with the given limits (a name left out keeps its value)."""

    def whole(name: str, current: int | None) -> int | None:
        value = limits.get(name, current)
        return int(value) if value is not None else None

    budget = limits.get("budget", record.budget)
    return dataclasses.replace(
        record,
        tpm=whole("tpm", record.tpm),
        rpm=whole("rpm", record.rpm),
        budget=float(budget) if budget is not None else None,
    )


def _check_limits(session: Session, limits: Mapping[str, int | float | None]) -> None:
    """A budget is counted in money: every model needs a price (before any Azure call)."""
    if limits.get("budget") is None:
        return
    unpriced = [m.alias for m in session.config.models if m.price is None]
    if unpriced:
        raise UserError(
            f"--budget needs a price on every model of {session.config.env}; "
            f"{unpriced[0]} has none",
            hint="add models[].price (USD per million tokens: input, output) to the "
            "environment file and deploy",
        )


def _status(client: httpx.Client, key: str) -> int:
    try:
        return client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code
    except httpx.HTTPError:
        return 0


def wait_until_served(
    urls: str | Mapping[str, str | None],
    proof_key: str,
    gateway_key: str | None,
    *,
    verify: Any,
    timeout: float,
    what: str,
    on_wait: Reporter | None = None,
) -> Check:
    """Poll until the proof key answers 200 PROOF_STREAK rounds in a row on every URL (the main
    one and each revision label's: a revision behind a label serves too, and `aigw rollback`
    returns to it), and the gateway key 200: every revision's replicas serve the new keys file.
    A failure names each URL that still serves the previous file (for a revoke: it may still
    accept the revoked key)."""
    targets = {"main": urls} if isinstance(urls, str) else dict(urls)
    unknown = [n for n, u in targets.items() if not u]
    if unknown:  # a URL that cannot be called cannot be proven
        return Check(
            what, False, 0, "not proven: " + ", ".join(f"{n}: URL unknown" for n in unknown)
        )
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    next_note = time.monotonic() + 10.0
    streak = 0
    state: dict[str, tuple[int, int]] = {}
    with contextlib.ExitStack() as stack:
        clients = {
            name: stack.enter_context(
                httpx.Client(base_url=str(url), verify=verify, timeout=10, trust_env=False)
            )
            for name, url in targets.items()
        }
        while True:
            for name, client in clients.items():
                proof = _status(client, proof_key)
                state[name] = (proof, _status(client, gateway_key) if gateway_key else 200)
            pending = [n for n, (p, m) in state.items() if p != 200 or m != 200]
            streak = 0 if pending else streak + 1
            secs = time.perf_counter() - start
            if streak >= PROOF_STREAK:
                where = ", ".join(f"{n} {u}" for n, u in targets.items())
                return Check(what, True, secs * 1000, f"after {secs:.1f}s on {where}")
            if time.monotonic() > deadline:
                return Check(
                    what, False, secs * 1000, f"after {timeout:.0f}s: " + _detail(targets, state)
                )
            if on_wait and time.monotonic() >= next_note:
                on_wait(
                    f"waiting until every URL of the gateway serves the new keys ({secs:.0f}s of "
                    f"at most {timeout:.0f}s): {_detail(targets, state)}"
                )
                next_note = time.monotonic() + 10.0
            time.sleep(0.2 if streak else 0.5)


def _detail(targets: Mapping[str, str | None], state: dict[str, tuple[int, int]]) -> str:
    parts = [
        f"{name} {targets[name]} still serves the previous keys (proof key HTTP "
        f"{proof or 'no answer'}, gateway key HTTP {gateway or 'no answer'})"
        for name, (proof, gateway) in state.items()
        if proof != 200 or gateway != 200
    ]
    return "; ".join(parts) or "every URL serves the new keys"


def change_keys(
    session: Session,
    action: str,
    name: str,
    *,
    expires: timedelta | None = None,
    models: tuple[str, ...] | None = None,
    limits: Mapping[str, int | float | None] | None = None,
    wait_timeout: float = 300.0,
    on_step: Reporter | None = None,
) -> KeysChange:
    """add / rotate / revoke / limit one developer key: write, roll the app, prove. `limits`:
    the key's own tpm, rpm or budget to set (None: back to the YAML's default; a name left
    out: unchanged). Raises AigwError if a write fails; failed proofs are in `checks`."""
    from aigw.engine.gateway_key import read_gateway_key
    from aigw.engine.secret_version import observe_targets
    from aigw.gateway import smoke

    say = on_step or (lambda message: None)
    fmt.check_name(name)
    _check_models(session, models)
    _check_limits(session, limits or {})
    cfg = session.config
    names = names_of(cfg)
    change = KeysChange(
        env=cfg.env,
        action=action,
        name=name,
        key_vault=names.key_vault,
        container_app=names.container_app,
    )
    t0 = time.perf_counter()
    observe_targets(session)  # refuses when the app differs from the YAML
    ctx = session.ctx
    vault_uri = ctx.output(Key.key_vault, "vault_uri")
    change.gateway_url = gateway_url(
        ctx.outputs.get(Key.container_app, {}).get("fqdn"), local=session.target.local
    )
    records, change.old_version = _read(session, vault_uri)
    now = datetime.now(UTC)
    records = {  # expired probes go
        n: r
        for n, r in records.items()
        if not (n == PROBE_NAME and r.expires and datetime.fromisoformat(r.expires) <= now)
    }
    if action == "add" and name in records:
        raise UserError(
            f"a key named {name} exists in {cfg.env}",
            hint=f"aigw keys rotate {name} --env {cfg.env} replaces it; or choose another name",
        )
    if action in ("rotate", "revoke", "limit") and name not in records:
        raise UserError(f"no key named {name} in {cfg.env}", hint=f"aigw keys list --env {cfg.env}")
    proof = new_key()
    redact.register(proof)
    if action in ("revoke", "limit"):
        # no new key to prove the switch with: a short-lived probe key in the same file
        if action == "revoke":
            del records[name]
        else:
            records[name] = _with_limits(records[name], limits or {})
            change.record = records[name].public(now)
        records[PROBE_NAME] = fmt.new_record(PROBE_NAME, proof, now, PROBE_TTL, ())
    else:
        old = records.get(name)
        own: dict[str, int | float | None] = {}
        if old is not None:  # rotate keeps the expiry span, the models and limits unless given
            if expires is None and old.expires:
                expires = datetime.fromisoformat(old.expires) - datetime.fromisoformat(old.created)
            models = models if models is not None else old.models
            own = {"tpm": old.tpm, "rpm": old.rpm, "budget": old.budget}
        own.update(limits or {})
        records[name] = _with_limits(fmt.new_record(name, proof, now, expires, models), own)
        change.new_key = Secret(f"new key {name}", proof)
        change.record = records[name].public(now)
    change.seconds["read"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    say(f"writing a new version of Key Vault secret {DEVELOPER_KEYS_SECRET} in {names.key_vault}")
    try:
        written = ctx.clients.secrets(vault_uri).set_secret(
            DEVELOPER_KEYS_SECRET,
            fmt.dump(records),
            content_type="application/json",
            tags={MANAGED_BY: MANAGER},
            retry_total=0,  # a lost answer is not sent again blindly (see resources/secrets)
        )
    except Exception as err:
        raise _write_error(err, f"writing {DEVELOPER_KEYS_SECRET} to Key Vault") from None
    change.new_version = written.properties.version
    change.seconds["write"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    say(f"pointing {names.container_app} at the new version and restarting its active revisions")
    ctx.set_outputs(f"secret:{DEVELOPER_KEYS_SECRET}", {"version": change.new_version})
    pin_other_versions(session, vault_uri, DEVELOPER_KEYS_SECRET)
    roll_out(  # the engine's apply: its retries, role waits and Ctrl-C handling
        session,
        DEVELOPER_KEYS_SECRET,
        change.old_version,
        write=False,
        written=f"the change IS in Key Vault, version {change.new_version}; the gateway still "
        "serves the previous keys",
        hint=f"aigw deploy --env {cfg.env} points the app at it",
    )
    change.restarted_revisions = list(ctx.outputs.get(Key.container_app, {}).get("restarted") or [])
    change.seconds["restart"] = time.perf_counter() - t2

    url = change.gateway_url
    if not url:
        change.checks.append(Check("gateway URL", False, 0, "the container app has no FQDN"))
        return change
    gateway_key = read_gateway_key(session).key.reveal()
    change.urls = serving_urls(session)  # main and every label: each revision that answers
    what = {
        "add": f"the new key of {name} is accepted",
        "rotate": f"the new key of {name} is accepted (the old one is gone)",
        "revoke": f"the gateway serves the keys without {name} (its key gets 401)",
        "limit": f"the gateway serves the new limits of {name}",
    }[action]
    switched = wait_until_served(
        change.urls,
        proof,
        gateway_key,
        verify=smoke.verify_for(session.target),
        timeout=wait_timeout,
        what=what,
        on_wait=say,
    )
    change.checks.append(switched)
    verify = smoke.verify_for(session.target)
    t3 = time.perf_counter()
    statuses: dict[str, int] = {}
    for where, each in change.urls.items():
        if each:
            with httpx.Client(base_url=each, verify=verify, timeout=10, trust_env=False) as c:
                statuses[where] = _status(c, gateway_key)
    ms = (time.perf_counter() - t3) * 1000
    bad = {w: st for w, st in statuses.items() if st != 200}
    detail = "; ".join(f"{w}: HTTP {st or 'no answer'}" for w, st in bad.items())
    change.checks.append(
        Check(
            "the gateway key still works",
            bool(statuses) and not bad,
            ms,
            detail or f"HTTP 200 on {len(statuses)} URL(s)",
        )
    )
    change.seconds["switch"] = time.perf_counter() - t1  # from the write to the proof
    change.seconds["total"] = time.perf_counter() - t0
    return change


def _write_error(err: Exception, what: str, hint: str | None = None) -> AigwError:
    if isinstance(err, AigwError):
        return AigwError(f"{what}: {err.one_line()}", hint=hint)
    from aigw.azure.errors import translate
    from aigw.errors import AzureError

    if hasattr(err, "status_code") or type(err).__module__.startswith("azure"):
        t = translate(err, kind="keys", name=DEVELOPER_KEYS_SECRET)
        return AzureError(f"{what}: {t.one_line()}", hint=hint)
    raise err
