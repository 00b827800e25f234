"""Issue 11, behaviour 3: the app identity's Key Vault Secrets User role propagates later than
the deployer's. Azure checks Key Vault references when the container app is PUT and answers
400 InvalidParameterValueInContainerTemplate ("Unable to get value using Managed identity ...")
until it has (microsoft/azure-container-apps#930, #1174). aigw waits for exactly that, saying
what it waits for; the local cloud delays only the identities here, not the deployer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from aigw.azure.errors import KV_REFERENCE_WAIT, error_code, retry_budget, role_wait
from aigw.engine import workflow
from aigw.engine.apply import Step
from aigw.engine.plan import Action, Plan
from aigw.resources import container_app
from aigw.state import resolve

from .harness import Stack, close_stack, make_stack

DELAY = 6.0  # the identity lags the deployer (whose grants take the default 2 s) by 4 s

# The late forms (the PUT's operation Failed): Azure's wrapper around the check's text
# (microsoft/azure-container-apps#1061), and a late failure that is no role propagating.
LATE_KV = (
    "Failed to provision revision for container app 'ca'. Error details: The following "
    "field(s) are either invalid or missing. Field 'configuration.secrets' is invalid with "
    'details: \'Invalid value: "gateway-key": Unable to get value using Managed identity /x '
    "for secret gateway-key. Error: unable to fetch secret 'gateway-key' using Managed "
    "identity '/x'';.."
)
LATE_EXPIRED = (
    "Failed to provision revision for container app 'ca'. Error details: Operation expired."
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = make_stack(tmp_path, with_gateway=False)
    try:
        yield s
    finally:
        close_stack(s)


def _app_puts(stack: Stack, mark: int) -> list[int]:
    return [
        e.status
        for e in stack.since(mark)
        if e.method == "PUT" and "/containerApps/" in e.path and "/revisions" not in e.path
    ]


def _all_but_the_app(stack: Stack) -> workflow.Session:
    """Deploy everything the container app needs, but not the app; the session stays open."""
    session = stack.session()
    plan = workflow.make_plan(session)
    plan = Plan(plan.env, tuple(c for c in plan.changes if c.key != "container_app"))
    result = workflow.apply(session, plan)
    assert result.ok, [e.one_line() for e in result.errors]
    return session


def _put_app(session: workflow.Session) -> None:
    ctx = session.ctx
    res = session.desired.by_key()["container_app"]
    body = container_app.build_body(resolve(res.managed, ctx.outputs), session.desired.volume_files)
    apps = ctx.clients.apps().container_apps
    apps.begin_create_or_update(session.desired.resource_group, res.name, body).result()


def test_local_cloud_refuses_the_reference_until_the_identity_role_propagates(
    stack: Stack,
) -> None:
    """The emulated behaviour: the deployer's role acts at once, the identity's later, and the
    app PUT fails with Azure's code and message meanwhile; aigw classes it as worth waiting."""
    stack.cloud.set_propagation_delay(60.0, identities=True)
    session = _all_but_the_app(stack)
    try:
        with pytest.raises(HttpResponseError) as info:
            _put_app(session)
        err = info.value
        assert err.status_code == 400
        assert error_code(err) == "InvalidParameterValueInContainerTemplate"
        assert "Unable to get value using Managed identity" in str(err)
        assert retry_budget(err) is None  # retried until the (bounded) timeout
        stack.cloud.set_propagation_delay(0.0, identities=True)
        _put_app(session)  # propagated: accepted
    finally:
        session.close()


def test_deploy_waits_for_the_identity_role_and_says_so(stack: Stack) -> None:
    stack.cloud.set_propagation_delay(DELAY, identities=True)
    messages: list[str] = []

    def listen(step: Step) -> None:
        if step.message:
            messages.append(f"{step.change.key}: {step.message}")

    session = stack.session()
    mark = stack.mark()
    t0 = time.monotonic()
    plan = workflow.make_plan(session)
    result = workflow.apply(session, plan, listener=listen)
    seconds = time.monotonic() - t0
    session.close()
    assert result.ok, [e.one_line() for e in result.errors]
    puts = _app_puts(stack, mark)
    # Refused with Azure's 400 first, then accepted once the role took effect.
    assert puts[0] == 400 and puts[-1] in (200, 201), puts
    waits = [m for m in messages if m.startswith("container_app:")]
    assert waits and all("Key Vault Secrets User" in m for m in waits), messages
    assert seconds < DELAY + 20
    print(f"deploy with the identity's role propagating {DELAY}s: {seconds:.1f}s, app PUTs {puts}")
    # And nothing left to do afterwards.
    plan2 = workflow.make_plan(stack.session())
    assert not plan2.has_changes, [c.to_json() for c in plan2.writes]
    assert {c.key: c.action for c in plan.changes}["container_app"] is Action.create


def _app_operations(stack: Stack) -> list[dict[str, Any]]:
    return [
        op
        for op in stack.cloud.operations()
        if op["kind"] in ("containerapp.create", "containerapp.update")
    ]


def test_local_cloud_fails_the_revision_late_when_the_put_does_not_read_the_reference(
    stack: Stack,
) -> None:
    """Issue 23, item 3, the emulated behaviour: with the PUT's own read off, the PUT is
    accepted and the revision's provisioning fails the operation with Azure's wrapper around
    the same text (microsoft/azure-container-apps#1061 for the wrapper); aigw classes it as
    the role still propagating."""
    stack.cloud.set_propagation_delay(60.0, identities=True)
    stack.cloud.set_kv_put_check(False)
    session = _all_but_the_app(stack)
    try:
        with pytest.raises(HttpResponseError) as info:
            _put_app(session)  # accepted (201), then the operation ends Failed
        err = info.value
        assert error_code(err) == "ContainerAppOperationError", error_code(err)
        message = str(err)
        assert "Failed to provision revision for container app" in message
        assert "Unable to get value using Managed identity" in message
        assert retry_budget(err) is None  # waited for, like the synchronous 400
        assert [op["status"] for op in _app_operations(stack)] == ["Failed"]
        stack.cloud.set_propagation_delay(0.0, identities=True)
        _put_app(session)  # the same PUT again: the failed revision provisions
        assert [op["status"] for op in _app_operations(stack)] == ["Failed", "Succeeded"]
    finally:
        session.close()


def test_first_deploy_waits_through_the_late_key_vault_reference_failure(stack: Stack) -> None:
    """Issue 23, item 3: the first deploy's app PUT is accepted and its operation fails late
    (the revision could not read a Key Vault reference: the identity's role still
    propagating). Deploy recognises it, says what it waits for, PUTs the app again and
    succeeds, instead of failing on the first answer."""
    stack.cloud.set_propagation_delay(DELAY, identities=True)
    stack.cloud.set_kv_put_check(False)
    messages: list[str] = []

    def listen(step: Step) -> None:
        if step.message:
            messages.append(f"{step.change.key}: {step.message}")

    session = stack.session()
    mark = stack.mark()
    t0 = time.monotonic()
    plan = workflow.make_plan(session)
    result = workflow.apply(session, plan, listener=listen)
    seconds = time.monotonic() - t0
    session.close()
    assert result.ok, [e.one_line() for e in result.errors]
    puts = _app_puts(stack, mark)
    assert 400 not in puts and len(puts) >= 2, puts  # accepted each time; the LRO failed
    statuses = [op["status"] for op in _app_operations(stack)]
    assert statuses[0] == "Failed" and statuses[-1] == "Succeeded", statuses
    waits = [m for m in messages if m.startswith("container_app:")]
    assert waits and all("Key Vault Secrets User" in m for m in waits), messages
    assert seconds < DELAY + 20
    plan2 = workflow.make_plan(stack.session())
    assert not plan2.has_changes, [c.to_json() for c in plan2.writes]


@pytest.mark.parametrize(
    ("code", "message", "waited"),
    [
        ("ContainerAppOperationError", LATE_KV, True),
        ("InvalidParameterValueInContainerTemplate", LATE_KV, True),
        # A late failure for another reason is not a role propagating: reported at once.
        ("ContainerAppOperationError", LATE_EXPIRED, False),
        ("SomethingElse", LATE_KV, False),
    ],
)
def test_which_late_failures_are_waited_for(code: str, message: str, waited: bool) -> None:
    err = SimpleNamespace(error=SimpleNamespace(code=code, message=message), status_code=0)
    assert (role_wait(err) == KV_REFERENCE_WAIT) is waited
