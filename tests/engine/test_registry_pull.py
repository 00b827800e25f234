"""Issue 11, behaviour 6: the image from a private mirror (Azure Container Registry), pulled with
the app's identity. Azure checks the pull when the container app is PUT and answers 400
InvalidParameterValueInContainerTemplate ("... UNAUTHORIZED: authentication required ...") when
the identity has no AcrPull on the registry, or not yet (localcloud/registries.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.engine import workflow
from aigw.engine.apply import Step, raise_on_failure
from aigw.errors import AigwError
from aigw.resources import names_of
from helpers import key_mode

from .harness import Stack, close_stack, make_stack

REGISTRY = "aigwmirror"
SERVER = f"{REGISTRY}.azurecr.io"
DIGEST = "sha256:d104dae60f1a0c8fc93f837ec30ec4e6430ee70b0d3636874c26bc9920ae34a7"
MIRRORED = f"{SERVER}/litellm/litellm:v1.81.15@{DIGEST}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = make_stack(tmp_path, with_gateway=False)
    try:
        yield s
    finally:
        close_stack(s)


def _config(stack: Stack, *, registry: bool) -> EnvConfig:
    stack.config()  # gives the Azure OpenAI emulator its deployments
    cfg = key_mode(load_env("dev", stack.env_dir).config)
    data = cfg.model_dump(mode="json")
    data["gateway"]["image"] = MIRRORED
    if registry:
        data["gateway"]["registry"] = {"server": SERVER, "identity": "app"}
    return type(cfg).model_validate(data).with_endpoint(stack.aoai.url)


def _app_puts(stack: Stack, mark: int) -> list[int]:
    return [
        e.status for e in stack.since(mark) if e.method == "PUT" and "/containerApps/" in e.path
    ]


def _deploy(stack: Stack, cfg: EnvConfig, messages: list[str]) -> tuple[object, object]:
    def listen(step: Step) -> None:
        if step.message:
            messages.append(f"{step.change.key}: {step.message}")

    session = stack.session(config=cfg)
    try:
        plan = workflow.make_plan(session)
        return plan, workflow.apply(session, plan, listener=listen)
    finally:
        session.close()


def test_private_image_without_a_registry_identity_is_refused_at_once(stack: Stack) -> None:
    stack.cloud.add_registry("shared-rg", REGISTRY)
    mark = stack.mark()
    t0 = time.monotonic()
    _, result = _deploy(stack, _config(stack, registry=False), [])
    with pytest.raises(AigwError) as info:
        raise_on_failure(result)  # type: ignore[arg-type]
    assert time.monotonic() - t0 < 15  # no waiting for a role nobody was given
    line = info.value.one_line()
    assert "gateway.registry" in line and "\n" not in line, line
    puts = [
        e.status for e in stack.since(mark) if e.method == "PUT" and "/containerApps/" in e.path
    ]
    assert puts == [400]


def test_registry_pull_with_the_app_identity_waits_for_acrpull(stack: Stack) -> None:
    registry_id = stack.cloud.add_registry("shared-rg", REGISTRY)
    stack.cloud.set_propagation_delay(6.0, identities=True)  # 4 s behind the deployer
    messages: list[str] = []
    mark = stack.mark()
    plan, result = _deploy(stack, _config(stack, registry=True), messages)
    assert result.ok, [e.one_line() for e in result.errors]  # type: ignore[attr-defined]
    actions = {c.key: c.action.value for c in plan.changes}  # type: ignore[attr-defined]
    assert actions["role:app-acr-pull"] == "create"
    # The AcrPull assignment was made on the registry, for the app's identity.
    ra_puts = [e for e in stack.since(mark) if e.method == "PUT" and "/roleAssignments/" in e.path]
    assert any(e.path.lower().startswith(registry_id.lower()) for e in ra_puts), ra_puts
    puts = [
        e.status for e in stack.since(mark) if e.method == "PUT" and "/containerApps/" in e.path
    ]
    assert puts[0] == 400 and puts[-1] in (200, 201), puts
    waits = [m for m in messages if m.startswith("container_app:")]
    assert waits and any("AcrPull" in m or "Key Vault" in m for m in waits), messages
    session = stack.session(config=_config(stack, registry=True))
    try:
        app = session.ctx.clients.apps().container_apps.get(
            session.desired.resource_group, names_of(session.config).container_app
        )
        regs = [(r.server, r.identity.lower()) for r in app.configuration.registries]
        assert regs == [(SERVER, session.desired.by_key()["container_app"].managed["identity"])]
        again = workflow.make_plan(session)
        assert not again.has_changes, [c.to_json() for c in again.writes]
        # destroy removes the AcrPull assignment, never the registry (not aigw's).
        gone = workflow.make_plan(session, destroy=True)
        assert {c.key: c.action.value for c in gone.writes}["role:app-acr-pull"] == "delete"
        assert workflow.apply(session, gone).ok
        auth = session.ctx.clients.authorization().role_assignments
        assert list(auth.list_for_scope(registry_id)) == []
        query = f"resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq '{REGISTRY}'"
        left = session.ctx.clients.resources().resources.list(filter=query)
        assert [r.id for r in left] == [registry_id]
    finally:
        session.close()


def test_registry_not_in_the_subscription_is_one_line(stack: Stack) -> None:
    session = stack.session(config=_config(stack, registry=True))
    try:
        with pytest.raises(AigwError) as info:
            workflow.make_plan(session)
    finally:
        session.close()
    line = info.value.one_line()
    assert SERVER in line and "gateway.registry.server" in line and "\n" not in line
