"""Issue 23, item 8: traffic only on active revisions is aigw's own invariant, not the cloud's.

Azure accepts deactivating a revision that still has traffic and a traffic list naming an
inactive revision (microsoft/azure-container-apps#1345); that share then fails (Azure answers
"Error 403 - This Container App is stopped or does not exist": #755, #301). The local cloud
now does the same (its share's connections are closed), so aigw checks before every traffic
write and every deactivation of its rollout and rollback code and refuses with one line.
The revisions run in a stand-in runner (tests/localcloud/fake_runner.py), no LiteLLM.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aigw.azure.rest import to_rest
from aigw.engine import rollout, workflow
from aigw.errors import AigwError
from aigw.resources import names_of
from aigw.resources import revision_traffic as rt
from aigw_localcloud.arm.openai_account import link
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.tls import ensure_certificates
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment
from helpers import AOAI_KEY_CANARY
from localcloud.fake_runner import FakeRunner

from .harness import Stack, close_stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    ensure_certificates(tmp_path / "cloud")
    runner = FakeRunner()
    cloud = LocalCloud(tmp_path / "cloud", app_runner=runner).start()
    aoai = AzureOpenAIEmulator(api_key=AOAI_KEY_CANARY).start()
    link(cloud.engine, aoai)
    s = Stack(root=tmp_path, cloud=cloud, aoai=aoai, runner=runner)
    models = s.config().models
    aoai.set_deployments(
        [Deployment(m.deployment_name, m.kind.value, m.dimensions) for m in models]
    )
    try:
        yield s
    finally:
        close_stack(s)


def _deploy(stack: Stack, max_replicas: int) -> None:
    """A deploy whose template differs by max_replicas: a new revision, promoted untested."""
    cfg = stack.config()
    cfg = cfg.model_copy(
        update={"gateway": cfg.gateway.model_copy(update={"max_replicas": max_replicas})}
    )
    _, result = stack.deploy(config=cfg)
    assert result.ok, [e.one_line() for e in result.errors]


def _app(session: workflow.Session) -> dict[str, Any]:
    name = names_of(session.config).container_app
    return to_rest(session.ctx.clients.apps().container_apps.get(session.ctx.rg, name))


def _revisions(session: workflow.Session) -> dict[str, bool]:
    ops = session.ctx.clients.apps().container_apps_revisions
    name = names_of(session.config).container_app
    return {
        str(b["name"]): bool(b["properties"]["active"])
        for b in (to_rest(r) for r in ops.list_revisions(session.ctx.rg, name))
    }


def _traffic(session: workflow.Session) -> list[dict[str, Any]]:
    return list(_app(session)["properties"]["configuration"]["ingress"]["traffic"])


def _answers(session: workflow.Session) -> bool:
    """Does a request to the app's URL get an answer (the runner's plain HTTP 200)?"""
    host, _, port = str(_app(session)["properties"]["configuration"]["ingress"]["fqdn"]).rpartition(
        ":"
    )
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.settimeout(5)
        s.sendall(b"GET /health/liveliness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try:
            return s.recv(64).startswith(b"HTTP/1.0 200")
        except OSError:
            return False


@pytest.fixture
def two(stack: Stack) -> Iterator[tuple[workflow.Session, str, str]]:
    """Two rollouts: (session, previous revision A, live revision B with 100%)."""
    _deploy(stack, 4)
    _deploy(stack, 5)
    session = stack.session()
    try:
        out = to_rest(
            session.ctx.clients.apps().container_apps.get(
                session.ctx.rg, names_of(session.config).container_app
            )
        )
        traffic = out["properties"]["configuration"]["ingress"]["traffic"]
        live = next(e["revisionName"] for e in traffic if e["weight"] == 100)
        previous = next(e["revisionName"] for e in traffic if e.get("label") == "previous")
        assert _revisions(session) == {previous: True, live: True}
        yield session, previous, live
    finally:
        session.close()


def test_local_cloud_accepts_both_as_azure_does_and_the_share_then_fails(
    two: tuple[workflow.Session, str, str],
) -> None:
    """The emulated behaviour: deactivating the revision with 100% is accepted (200) and the
    app's URL then answers nothing; a traffic list naming an inactive revision is accepted."""
    session, previous, live = two
    name = names_of(session.config).container_app
    ops = session.ctx.clients.apps().container_apps_revisions
    assert _answers(session)
    ops.deactivate_revision(session.ctx.rg, name, live)  # 100% on it: accepted, as on Azure
    assert _revisions(session)[live] is False
    assert not _answers(session)  # that share (all of it) fails
    ops.deactivate_revision(session.ctx.rg, name, previous)
    body = {
        "location": session.config.location,
        "properties": {
            "configuration": {"ingress": {"traffic": [{"revisionName": previous, "weight": 100}]}}
        },
    }
    session.ctx.clients.apps().container_apps.begin_update(session.ctx.rg, name, body).result()
    assert _traffic(session) == [{"revisionName": previous, "weight": 100}]


def test_rollback_onto_an_inactive_previous_revision_is_refused_by_aigw(
    two: tuple[workflow.Session, str, str],
) -> None:
    """The previous revision was deactivated outside aigw (Azure allows it). Rolling back to
    it (rollback's move: all traffic to `previous`) would send every request to nothing; aigw
    refuses with one line and the traffic stays where it was."""
    session, previous, live = two
    name = names_of(session.config).container_app
    session.ctx.clients.apps().container_apps_revisions.deactivate_revision(
        session.ctx.rg, name, previous
    )
    before = _traffic(session)
    with pytest.raises(AigwError) as info:
        rt.set_traffic(session.ctx, name, session.config.location, rt.promoted(previous, live))
    line = info.value.one_line()
    assert previous in line and "not active" in line and "activate" in line, line
    assert _traffic(session) == before
    assert _answers(session)
    with pytest.raises(AigwError, match="not active"):
        rollout.rollback(session)  # refused before its smoke test, nothing moved
    assert _traffic(session) == before


def test_rollout_cleanup_does_not_deactivate_a_revision_that_has_traffic(
    two: tuple[workflow.Session, str, str],
) -> None:
    """Someone split the traffic outside aigw (az containerapp ingress traffic set) between
    the promotion and the cleanup of a rollout: the cleanup (deactivate every revision but the
    live one) would deactivate a revision serving half the requests; aigw refuses."""
    session, previous, live = two
    name = names_of(session.config).container_app
    body = {
        "location": session.config.location,
        "properties": {
            "configuration": {
                "ingress": {
                    "traffic": [
                        {"revisionName": live, "weight": 50},
                        {"revisionName": previous, "weight": 50},
                    ]
                }
            }
        },
    }
    session.ctx.clients.apps().container_apps.begin_update(session.ctx.rg, name, body).result()
    with pytest.raises(AigwError) as info:
        rollout._deactivate_older(session, keep={live})
    assert previous in info.value.one_line() and "50%" in info.value.one_line()
    assert _revisions(session) == {previous: True, live: True}


def test_deploy_keeping_traffic_on_an_inactive_revision_is_refused(
    stack: Stack, two: tuple[workflow.Session, str, str]
) -> None:
    """The live revision was deactivated outside aigw: the next deploy's PUT would keep 100%
    of the traffic on it (Azure accepts it). aigw refuses before writing anything."""
    session, previous, live = two
    name = names_of(session.config).container_app
    session.ctx.clients.apps().container_apps_revisions.deactivate_revision(
        session.ctx.rg, name, live
    )
    cfg = stack.config()
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"max_replicas": 6})})
    mark = stack.mark()
    _, result = stack.deploy(config=cfg)
    assert not result.ok
    line = " ".join(e.one_line() for e in result.errors)
    assert live in line and "not active" in line, line
    puts = [e for e in stack.writes_since(mark) if "/containerApps/" in e.path]
    assert puts == [], [(e.method, e.path) for e in puts]
    assert set(_revisions(session)) == {previous, live}  # no new revision
