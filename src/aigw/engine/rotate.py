"""`aigw rotate-key`: a new gateway key, written as a new Key Vault version, the container app
pointed at that version and every active revision restarted so each reads it, then proven on
the main URL and every label URL: the new key works, the old one is refused.

Only the verdicts leave this module; the new key's value is returned wrapped in a `Secret`.
"""

from __future__ import annotations

import contextlib
import secrets as _secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from aigw import clients, redact
from aigw.config.naming import GATEWAY_KEY_SECRET
from aigw.engine.secret_version import (
    SecretRollout,
    observe_targets,
    pin_other_versions,
    roll_out,
)
from aigw.engine.serving_urls import serving_urls
from aigw.engine.vault_secrets import current_gateway_key
from aigw.errors import UserError
from aigw.gateway.smoke import Check
from aigw.gateway.url import gateway_url
from aigw.resources import names_of
from aigw.secrets import Secret
from aigw.state import Key

if TYPE_CHECKING:
    from aigw.engine.session import Session

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


@dataclass(kw_only=True)
class Rotation(SecretRollout):
    key_env: str
    new_key: Secret

    def to_json(self) -> dict[str, Any]:
        return {
            **self.rollout_json(),
            "key_env": self.key_env,
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


def _status(client: httpx.Client, key: str) -> int:
    try:
        return client.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code
    except httpx.HTTPError:
        return 0


URLs = Mapping[str, str | None]  # "main" or a revision label -> its URL (engine/serving_urls)
# Consecutive rounds in which every URL accepts the new key and refuses the old one: requests
# spread over the replicas behind each URL, and a restart replaces them one by one.
SWITCH_STREAK = 3


def _as_urls(urls: str | URLs) -> dict[str, str | None]:
    return {"main": urls} if isinstance(urls, str) else dict(urls)


def _where(name: str, url: str | None) -> str:
    return f"{name} {url}" if url else f"{name} (no URL)"


def wait_for_switch(
    urls: str | URLs,
    new_key: str,
    old_key: str | None,
    *,
    verify: Any,
    timeout: float,
    on_wait: Reporter | None = None,
) -> Check:
    """Poll until every URL (the main one and each label's: a revision behind a label serves
    too, and `aigw rollback` returns to it) accepts the new key and refuses the old one with
    401, SWITCH_STREAK rounds in a row (the restart is asynchronous on Azure: old replicas
    answer with the old key for a while). A failure names each URL not switched."""
    targets = _as_urls(urls)
    unknown = [n for n, u in targets.items() if not u]
    if unknown:  # a URL that cannot be called cannot be proven: fail at once, say which
        detail = ", ".join(f"{n}: its URL is unknown" for n in unknown)
        return Check("gateway switched to the new key", False, 0, f"not proven: {detail}")
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    next_note = time.monotonic()
    streak = 0
    state: dict[str, tuple[int, int]] = {}
    with contextlib.ExitStack() as stack:
        by_name = {
            name: stack.enter_context(
                httpx.Client(base_url=url, verify=verify, timeout=10, trust_env=False)
            )
            for name, url in targets.items()
            if url
        }
        while True:
            for name, client in by_name.items():
                new_status = _status(client, new_key)
                state[name] = (new_status, _status(client, old_key) if old_key else 401)
            pending = [
                n for n in targets if n not in by_name or state[n][0] != 200 or state[n][1] != 401
            ]
            streak = 0 if pending else streak + 1
            ms = (time.perf_counter() - start) * 1000
            if streak >= SWITCH_STREAK:
                return Check(
                    "gateway switched to the new key",
                    True,
                    ms,
                    f"after {ms / 1000:.1f}s on {len(targets)} URL(s): "
                    + ", ".join(_where(n, u) for n, u in targets.items()),
                )
            if time.monotonic() > deadline:
                return Check(
                    "gateway switched to the new key",
                    False,
                    ms,
                    f"after {timeout:.0f}s: " + _switch_detail(targets, state, pending),
                )
            if on_wait and time.monotonic() >= next_note:
                waited = time.perf_counter() - start
                on_wait(
                    "waiting until the gateway accepts the new key and refuses the old one on "
                    f"every URL (the revisions restart to load it; {waited:.0f}s of at most "
                    f"{timeout:.0f}s): " + _switch_detail(targets, state, pending)
                )
                next_note = time.monotonic() + 10.0
            time.sleep(0.3 if streak else 1.0)


def _switch_detail(
    targets: dict[str, str | None], state: dict[str, tuple[int, int]], pending: list[str]
) -> str:
    parts = []
    for name in pending:
        if name not in state:
            parts.append(f"{_where(name, targets[name])}: its URL is unknown, not proven")
            continue
        new_status, old_status = state[name]
        accepts = " STILL ACCEPTS THE OLD KEY" if old_status == 200 else ""
        parts.append(
            f"{_where(name, targets[name])}:{accepts} new key HTTP {new_status or 'no answer'}, "
            f"old key HTTP {old_status or 'no answer'}"
        )
    return "; ".join(parts) or "every URL switched"


def old_key_check(urls: str | URLs, old_key: str | None, *, verify: Any) -> Check:
    """The old key gets 401 on every URL; a failure names each URL that does not refuse it."""
    if not old_key:
        return Check("old key is refused", False, 0, "the old key could not be read: not proven")
    targets = _as_urls(urls)
    t0 = time.perf_counter()
    statuses: dict[str, int | None] = {}
    for name, url in targets.items():
        if not url:
            statuses[name] = None
            continue
        with httpx.Client(base_url=url, verify=verify, timeout=10, trust_env=False) as client:
            statuses[name] = _status(client, old_key)
    ms = (time.perf_counter() - t0) * 1000
    bad = {n: st for n, st in statuses.items() if st != 401}
    if not bad:
        return Check("old key is refused", True, ms, f"HTTP 401 on {len(targets)} URL(s)")
    detail = "; ".join(
        f"{_where(n, targets[n])}: "
        + ("URL unknown, not proven" if st is None else f"HTTP {st or 'no answer'}")
        + (" (STILL ACCEPTS THE OLD KEY)" if st == 200 else "")
        for n, st in bad.items()
    )
    return Check("old key is refused", False, ms, detail)


def rotate_gateway_key(
    session: Session,
    new_key: Secret,
    *,
    wait_timeout: float = 300.0,
    on_step: Reporter | None = None,
    smoke_timeout: float = 180.0,
) -> Rotation:
    """Write `new_key` as a new version of the gateway key, restart every active revision,
    then verify on every URL that serves. Raises AigwError if a write fails; failed
    verifications are in `checks`."""
    from aigw.gateway import smoke

    say = on_step or (lambda message: None)
    redact.register(new_key.reveal())
    cfg = session.config
    names = names_of(cfg)
    rotation = Rotation(
        env=cfg.env,
        key_vault=names.key_vault,
        secret=GATEWAY_KEY_SECRET,
        container_app=names.container_app,
        key_env=cfg.gateway.key_env,
        new_key=new_key,
    )
    t0 = time.perf_counter()
    observe_targets(session)
    ctx = session.ctx
    vault_uri = ctx.output(Key.key_vault, "vault_uri")
    fqdn = ctx.outputs.get(Key.container_app, {}).get("fqdn")
    rotation.gateway_url = gateway_url(fqdn, local=session.target.local)
    current = current_gateway_key(session, vault_uri)
    old_value, rotation.old_version = current.value, current.version
    if old_value is None:
        given = ctx.secrets.gateway_key
        old_value = given.reveal() if given else None
    if old_value is not None and old_value == new_key.reveal():
        raise UserError("the new gateway key is the current one: nothing to rotate")
    rotation.seconds["read"] = time.perf_counter() - t0

    say(
        f"writing a new version of Key Vault secret {GATEWAY_KEY_SECRET} in {names.key_vault}, "
        f"then pointing {names.container_app} at it and restarting its active revisions"
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
    rotation.restarted_revisions = list(
        ctx.outputs.get(Key.container_app, {}).get("restarted") or []
    )
    for name, step in steps.items():
        if step.started is not None and step.finished is not None:
            rotation.seconds[name] = step.finished - step.started

    url = rotation.gateway_url
    if not url:
        rotation.checks.append(Check("gateway URL", False, 0, "the container app has no FQDN"))
        return rotation
    verify = smoke.verify_for(session.target)
    t3 = time.perf_counter()
    rotation.urls = serving_urls(session)  # main and every label: each revision that answers
    switched = wait_for_switch(
        rotation.urls, new_key.reveal(), old_value, verify=verify, timeout=wait_timeout, on_wait=say
    )
    rotation.seconds["switch"] = time.perf_counter() - t3
    rotation.checks.append(switched)
    if switched.ok:
        t4 = time.perf_counter()
        rotation.checks += smoke.run_smoke(
            url, new_key.reveal(), cfg, verify=verify, timeout=smoke_timeout, on_wait=say
        )
        rotation.checks.append(old_key_check(rotation.urls, old_value, verify=verify))
        rotation.seconds["verify"] = time.perf_counter() - t4
    rotation.seconds["total"] = time.perf_counter() - t0
    return rotation
