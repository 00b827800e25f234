"""Safe rollouts: test the new revision on its label's URL, then move the traffic to it; or
leave the traffic where it was, deactivate it and fail. And the way back (`aigw rollback`).

Deploy PUTs a template change as a new revision beside the live one with 0% of the traffic
and the label `candidate` (resources/revision_traffic.py). `finish` smoke-tests
`https://<app>---candidate.<domain>`; on success the candidate gets 100%, the revision it
replaces stays active with 0% and the label `previous` (the grace period: until the next
rollout, which deactivates every revision older than the one it replaces); on failure the
traffic is as before the rollout and the candidate is deactivated. The live gateway never
serves a revision that failed its test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aigw.errors import AigwError, ConfigError, UserError
from aigw.gateway.checks import Check
from aigw.resources import names_of
from aigw.state import Key

if TYPE_CHECKING:
    from collections.abc import Callable

    from aigw.azure.session import Target
    from aigw.config.model import EnvConfig
    from aigw.engine.session import Session


@dataclass
class Rollout:
    candidate: str  # the revision tested
    live_before: str | None  # the revision that served before (None: first revision)
    url: str | None  # the URL the test ran on
    checks: list[Check] = field(default_factory=list)
    promoted: bool = False
    deactivated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.promoted

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "live_before": self.live_before,
            "url": self.url,
            "promoted": self.promoted,
            "deactivated": self.deactivated,
            "checks": [c.to_json() for c in self.checks],
        }


# ------------------------------------------------------------- can the smoke test get in?
# Container Apps' ingress answers an address outside the app's Allow rules with 403 (envoy's
# "RBAC: access denied"), on the app's URL and on every label URL alike, and internal ingress
# only from inside the environment (learn.microsoft.com/azure/container-apps/ip-restrictions,
# .../ingress-overview; the local cloud enforces both: aigw_localcloud/arm/ingress_rules.py).
# The smoke test runs where aigw runs, so a deploy from outside the list would roll a
# candidate, see 403 and stop: aigw says so before it writes anything.
FROM_IP_ENV = "AIGW_FROM_IP"
CALLER_ENV = "AIGW_LOCALCLOUD_CALLER_IP"  # the local cloud's setting (ingress_rules.py)


def from_ip_option(value: str | None) -> str | None:
    """--from-ip (or AIGW_FROM_IP): one IPv4 address, else a one-line UserError."""
    if value is None or not value.strip():
        return None
    import ipaddress

    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise UserError(
            f"--from-ip {value!r} is not an IPv4 address",
            hint="give the public IPv4 address this machine reaches Azure from, e.g. "
            "203.0.113.7 (Container Apps IP rules take IPv4 only)",
        ) from None


def caller_address(target: Target, from_ip: str | None) -> tuple[str | None, str]:
    """(the address the gateway sees the smoke test come from, where aigw learnt it), or
    (None, "") when it cannot be known. On Azure aigw does not ask any service on the internet
    for this machine's public address (it sends nothing beyond Azure), so only --from-ip tells
    it. The local cloud knows: its caller address, which --from-ip must then agree with."""
    import os

    if not target.local:
        return (from_ip, "--from-ip") if from_ip else (None, "")
    cloud = target.local_caller_ip()
    if cloud is None:
        return (from_ip, "--from-ip") if from_ip else (None, "")
    wanted = os.environ.get(CALLER_ENV)
    if wanted and wanted.strip() != cloud:
        raise UserError(
            f"{CALLER_ENV} is {wanted.strip()!r} but the running local cloud took {cloud} "
            "when it started",
            hint="run aigw localcloud stop: the next command starts it with the new address",
        )
    if from_ip and from_ip != cloud:
        raise UserError(
            f"--from-ip {from_ip} is not where the local cloud sees you: its caller address is "
            f"{cloud} ({CALLER_ENV})",
            hint=f"leave --from-ip out with --cloud local, or set {CALLER_ENV}={from_ip} and "
            "run aigw localcloud stop",
        )
    return cloud, f"the local cloud's caller address, {CALLER_ENV}"


def check_smoke_reach(
    config: EnvConfig, file: str, target: Target, from_ip: str | None
) -> str | None:
    """Before a deploy that smoke-tests: ConfigError (exit 2, nothing written) when the
    gateway would refuse the smoke test (internal ingress; an address outside
    gateway.allowed_ips); else a line to show (the address checked, or that it cannot be
    known), or None when nothing restricts the gateway."""
    import ipaddress

    gw = config.gateway
    if gw.ingress == "internal":
        raise ConfigError(
            file,
            "gateway.ingress",
            "internal: the gateway answers only from inside its Container Apps environment, "
            "and the smoke test runs here, outside it: every rollout would stop on an "
            "unreachable candidate",
            hint="deploy with --no-smoke and test from inside the environment, or set "
            "gateway.ingress: external",
        )
    if not gw.allowed_ips:
        return None
    address, source = caller_address(target, from_ip)
    if address is None:
        return (
            "note: gateway.allowed_ips limits who reaches the gateway, and aigw cannot know "
            "this machine's public address (it asks no service on the internet): from "
            "outside the list the smoke test gets 403 and the new revision is not promoted; "
            f"pass --from-ip <address> (or {FROM_IP_ENV}) to check it before anything is "
            "written, run from a network in the list, or deploy with --no-smoke"
        )
    ip = ipaddress.IPv4Address(address)
    if any(ip in ipaddress.IPv4Network(block, strict=False) for block in gw.allowed_ips):
        return f"smoke test from {address} ({source}): inside gateway.allowed_ips"
    if target.local:
        fix = (
            f"add {address}/32 to the list, or set {CALLER_ENV} to an address inside it and "
            "run aigw localcloud stop, or deploy with --no-smoke"
        )
    else:
        fix = (
            f"add {address}/32 to the list, run aigw from a network in it (e.g. a runner with "
            "a fixed egress address), or deploy with --no-smoke"
        )
    raise ConfigError(
        file,
        "gateway.allowed_ips",
        f"the smoke test would call the gateway from {address} ({source}), outside every "
        "block listed: Azure's ingress answers it 403 and the rollout would stop half-way",
        hint=fix,
    )


def label_url(session: Session, label: str) -> str | None:
    from aigw.gateway.url import label_url as url_of

    fqdn = (session.ctx.outputs.get(Key.container_app) or {}).get("fqdn")
    app = names_of(session.config).container_app
    port = session.target.local_label_port(session.ctx.rg, app, label)
    return url_of(fqdn, app, label, local=session.target.local, local_port=port)


def smoke(
    session: Session,
    url: str | None,
    on_wait: Callable[[str], None] | None,
    *,
    served_only: bool = False,
) -> list[Check]:
    """The smoke test on `url`. `served_only` (rollback): an older revision serves an older
    config, so only the YAML's models it lists are called."""
    from aigw.gateway import smoke as smoke_mod

    if url is None:
        return [Check("label URL", False, 0, "the container app reports no FQDN")]
    key = session.ctx.secrets.gateway_key
    if key is None:
        from aigw.engine.vault_secrets import gateway_key_from_vault

        key = gateway_key_from_vault(session)
    config = session.config
    verify = smoke_mod.verify_for(session.target)
    if served_only and key is not None:
        listed = _listed_models(url, key.reveal(), verify)
        models = [m for m in config.models if m.alias in listed]
        if models:
            config = config.model_copy(update={"models": models})
    # Every model once: a new revision is proven whole before it serves (the default smoke
    # test calls at most 5, and a rollout's broken model may be the sixth).
    return smoke_mod.run_smoke(
        url,
        key.reveal() if key else None,
        config,
        verify=verify,
        on_wait=on_wait,
        max_models=None,
    )


def _listed_models(url: str, key: str, verify: Any) -> set[str]:
    import httpx

    try:
        with httpx.Client(base_url=url, verify=verify, timeout=30, trust_env=False) as c:
            r = c.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
        return {str(m.get("id")) for m in r.json().get("data") or []} if r.is_success else set()
    except (httpx.HTTPError, ValueError):
        return set()


def _app(session: Session) -> tuple[str, str]:
    return names_of(session.config).container_app, session.config.location


def finish(
    session: Session, *, test: bool = True, on_wait: Callable[[str], None] | None = None
) -> Rollout | None:
    """After apply: None when no new revision was rolled; else test, then promote or abort."""
    from aigw.resources import revision_traffic as rt

    out = session.ctx.outputs.get(Key.container_app) or {}
    candidate = out.get("candidate")
    if not candidate:
        return None
    live = out.get("live_before")
    url = label_url(session, rt.CANDIDATE_LABEL)
    roll = Rollout(candidate, live, url)
    roll.checks = smoke(session, url, on_wait) if test else []
    name, location = _app(session)
    if all(c.ok for c in roll.checks):
        rt.set_traffic(session.ctx, name, location, rt.promoted(candidate, live))
        roll.promoted = True
        roll.deactivated = _deactivate_older(session, keep={candidate, live})
    elif live and rt.drop_candidate(session.ctx, name, location, candidate, out):
        roll.deactivated = [candidate]
    return roll


def _deactivate_older(session: Session, keep: set[str | None]) -> list[str]:
    """Every active revision but the live one and the previous one (the grace period ends at
    the next rollout); each only while no traffic is on it (revision_traffic.deactivate)."""
    from aigw.azure.rest import to_rest
    from aigw.resources import revision_traffic as rt

    ops = session.ctx.clients.apps().container_apps_revisions
    name = names_of(session.config).container_app
    done = []
    for rev in ops.list_revisions(session.ctx.rg, name):
        body = to_rest(rev)
        rev_name = body.get("name")
        if (body.get("properties") or {}).get("active") and rev_name not in keep:
            rt.deactivate(session.ctx, name, str(rev_name))
            done.append(str(rev_name))
    return done


def rollback(
    session: Session, *, on_wait: Callable[[str], None] | None = None
) -> tuple[Rollout, Callable[[], None]]:
    """The previous revision (label `previous`), tested on its label's URL; the returned
    function moves the traffic back to it (the caller confirms first)."""
    from aigw.engine.observe import observe_all
    from aigw.resources import revision_traffic as rt

    observed = observe_all(session.ctx)
    obs = observed.get(Key.container_app)
    if obs is None or not obs.exists:
        raise AigwError(
            f"no container app for {session.config.env}: nothing to roll back",
            hint=f"run aigw deploy --env {session.config.env}",
        )
    out = obs.outputs
    live, previous = rt.live_revision(out), rt.labelled(out, rt.PREVIOUS_LABEL)
    if not previous or not live or previous == live:
        raise AigwError(
            f"{session.config.env} has no previous revision to roll back to "
            f"(serving: {live or 'nothing'})",
            hint="a previous revision exists after a deploy that rolled a new one",
        )
    name, location = _app(session)
    # Before the smoke test: all traffic onto a revision that is not active is refused here
    # (Azure would accept it and answer every request 403: revision_traffic.py).
    rt.check_traffic(
        session.ctx, name, rt.promoted(previous, live), doing=f"rolling back to {previous}"
    )
    roll = Rollout(previous, live, label_url(session, rt.PREVIOUS_LABEL))
    roll.checks = smoke(session, roll.url, on_wait, served_only=True)

    def move() -> None:
        rt.set_traffic(session.ctx, name, location, rt.promoted(previous, live))
        roll.promoted = True

    return roll, move
