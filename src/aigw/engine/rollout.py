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

from aigw.errors import AigwError
from aigw.gateway.checks import Check
from aigw.model import Key

if TYPE_CHECKING:
    from collections.abc import Callable

    from aigw.engine.workflow import Session


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


def label_url(session: Session, label: str) -> str | None:
    from aigw.gateway.url import label_url as url_of

    fqdn = (session.ctx.outputs.get(Key.container_app) or {}).get("fqdn")
    app = session.config.names().container_app
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
        from aigw.engine.workflow import gateway_key_from_vault

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
    return session.config.names().container_app, session.config.location


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
    elif live:
        rt.drop_candidate(session.ctx, name, location, candidate, out)
        roll.deactivated = [candidate]
    return roll


def _deactivate(session: Session, ops: Any, app: str, revision: str) -> None:
    session.ctx.retry(
        lambda: ops.deactivate_revision(session.ctx.rg, app, revision),
        key="container_app",
        what=f"deactivate revision {revision}",
    )


def _deactivate_older(session: Session, keep: set[str | None]) -> list[str]:
    """Every active revision but the live one and the previous one (the grace period ends at
    the next rollout)."""
    from aigw.azure.rest import to_rest

    ops = session.ctx.clients.apps().container_apps_revisions
    name = session.config.names().container_app
    done = []
    for rev in ops.list_revisions(session.ctx.rg, name):
        body = to_rest(rev)
        rev_name = body.get("name")
        if (body.get("properties") or {}).get("active") and rev_name not in keep:
            _deactivate(session, ops, name, str(rev_name))
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
    roll = Rollout(previous, live, label_url(session, rt.PREVIOUS_LABEL))
    roll.checks = smoke(session, roll.url, on_wait, served_only=True)
    name, location = _app(session)

    def move() -> None:
        rt.set_traffic(session.ctx, name, location, rt.promoted(previous, live))
        roll.promoted = True

    return roll, move
