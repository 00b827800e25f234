"""deploy / plan / destroy through aigw's workflow, the real SDKs and the local cloud, with the
real LiteLLM running the container app (its config from the secret volume, its keys from Key
Vault through the user-assigned identity)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from aigw.engine import rotate, workflow
from aigw.engine.plan import Action
from aigw.engine.serving_urls import serving_urls
from aigw.gateway import smoke
from aigw.gateway.render import GATEWAY_KEY_FILE_NAME
from aigw.resources import names_of
from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY

from .harness import Stack, close_stack, copy_envs, make_stack

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("flow")
    s = make_stack(root, with_gateway=True)
    s.env_dir = copy_envs(root / "environments")
    try:
        yield s
    finally:
        close_stack(s)


def _outputs(stack: Stack) -> dict[str, str]:
    session = stack.session()
    workflow.observe(session)
    return workflow.outputs(session)


def test_1_fresh_deploy_creates_everything_and_the_gateway_answers(stack: Stack) -> None:
    plan, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    created = {c.key for c in plan.changes if c.action is Action.create}
    assert {"resource_group", "key_vault", "container_app", "secret:gateway-key"} <= created
    out = _outputs(stack)
    assert out["fqdn"] and out["fqdn"].startswith("127.0.0.1:")
    checks = smoke.run_smoke(
        out["gateway_url"],
        GATEWAY_KEY_CANARY,
        stack.config(),
        verify=smoke.verify_for(stack.cloud),
        timeout=60,
    )
    failed = [c.to_json() for c in checks if not c.ok]
    assert not failed, failed
    names = {c.name for c in checks}
    assert {
        "no key is refused",
        "embeddings text-embedding-3-large",
        "responses gpt-5.3-codex tool call",
    } <= names
    # The gateway reached the Azure OpenAI emulator on the configured paths and versions.
    paths = {(e.path, e.query.get("api-version")) for e in stack.aoai.journal}
    assert ("/openai/deployments/text-embedding-3-large/embeddings", "2023-05-15") in paths
    assert ("/openai/responses", "2025-04-01-preview") in paths


def test_2_second_deploy_writes_nothing_and_plan_is_empty(stack: Stack) -> None:
    mark = stack.mark()
    plan, result = stack.deploy()
    assert result.ok and not plan.has_changes, plan.to_json()
    assert stack.writes_since(mark) == []
    reads = [e for e in stack.since(mark) if not e.is_write]
    assert reads  # it did look


def _revisions(stack: Stack) -> list[str]:
    session = stack.session()
    apps = session.ctx.clients.apps()
    names = names_of(session.config)
    return sorted(
        r.name
        for r in apps.container_apps_revisions.list_revisions(
            names.resource_group, names.container_app
        )
    )


def test_3_model_added_updates_only_the_app_with_one_new_revision(stack: Stack) -> None:
    before = _revisions(stack)
    stack.add_deployment("gpt-4.1-mini")  # made on the account first, as on Azure
    base = (stack.env_dir / "dev.yaml").read_text()
    (stack.env_dir / "dev.yaml").write_text(
        base + "models:\n  - alias: gpt-4.1-mini\n    kind: chat\n    api_version: '2024-10-21'\n"
    )
    try:
        mark = stack.mark()
        plan, result = stack.deploy()
        assert result.ok, [e.one_line() for e in result.errors]
        assert [c.key for c in plan.writes] == ["container_app"]
        writes = stack.writes_since(mark)
        # one PUT of the app (its new revision beside the live one), then the promotion: one
        # PATCH of its traffic (resources/revision_traffic.py)
        assert [(w.method, "/containerApps/" in w.path) for w in writes] == [
            ("PUT", True),
            ("PATCH", True),
        ], writes
        after = _revisions(stack)
        assert len(set(after) - set(before)) == 1
        r = httpx.get(
            _outputs(stack)["gateway_url"] + "/v1/models",
            headers={"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"},
            verify=smoke.verify_for(stack.cloud),
            timeout=30,
        )
        assert "gpt-4.1-mini" in {m["id"] for m in r.json()["data"]}
    finally:
        (stack.env_dir / "dev.yaml").write_text(base)
    plan, result = stack.deploy()  # back to the file as shipped
    assert result.ok and [c.key for c in plan.writes] == ["container_app"]


def test_4_rotated_key_makes_one_version_one_reference_and_one_restart(stack: Stack) -> None:
    old = stack.gateway_key
    stack.gateway_key = "sk-rotated-gateway-key-5e6f7a8b9c"
    mark = stack.mark()
    plan, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    assert {c.key: c.action for c in plan.writes} == {
        "secret:gateway-key": Action.update,
        "container_app": Action.update,  # its reference names the new version
    }
    writes = stack.writes_since(mark)
    assert sum(1 for w in writes if w.method == "PUT" and "/secrets/gateway-key" in w.path) == 1
    assert sum(1 for w in writes if w.method == "PUT" and "/containerApps/" in w.path) == 1
    # Every active revision restarted: the live one and the `previous` one test_3's rollout
    # left (secrets are app-scoped; a revision keeps the old key until it restarts).
    assert sum(1 for w in writes if w.path.endswith("/restart")) == 2
    assert len(writes) == 4
    session = stack.session()
    try:
        urls = serving_urls(session)
    finally:
        session.close()
    assert set(urls) == {"main", "previous"} and urls["main"] == _outputs(stack)["gateway_url"]
    verify = smoke.verify_for(stack.cloud)
    # The restart is asynchronous: wait until the new key is served and the old one refused,
    # on the main URL and on the previous revision's label URL.
    switched = rotate.wait_for_switch(urls, stack.gateway_key, old, verify=verify, timeout=60)
    assert switched.ok, switched.to_json()
    plan, _ = stack.deploy()
    assert not plan.has_changes, [c.to_json() for c in plan.writes]


def test_5_destroy_then_deploy_recovers_the_soft_deleted_vault(stack: Stack) -> None:
    session = stack.session()
    plan = workflow.make_plan(session, destroy=True)
    assert plan.has_changes and all(c.action is Action.delete for c in plan.writes)
    result = workflow.apply(session, plan)
    assert result.ok, [e.one_line() for e in result.errors]
    after = workflow.make_plan(stack.session(), destroy=True)
    assert not after.has_changes  # nothing of ours is left
    redeploy_plan, result = stack.deploy()
    assert result.ok, [e.one_line() for e in result.errors]
    assert {c.key: c.action for c in redeploy_plan.changes}["key_vault"] is Action.recover
    plan, _ = stack.deploy()
    assert not plan.has_changes


def test_6_no_canary_in_journals_logs_or_app_files(stack: Stack) -> None:
    checked = 0
    for base in (stack.root / "cloud", stack.root / "apps"):
        for path in base.rglob("*"):
            if not path.is_file() or path.name in {"state.json", "server.key"}:
                continue
            if path.name == GATEWAY_KEY_FILE_NAME:  # the mounted key of a running revision
                assert path.stat().st_mode & 0o077 == 0
                assert GATEWAY_KEY_CANARY not in path.read_text()  # the current one (rotated)
                continue
            text = path.read_text(errors="replace")
            assert GATEWAY_KEY_CANARY not in text and AOAI_KEY_CANARY not in text, path
            checked += 1
    assert checked >= 3  # journal, config file, gateway logs
    for entry in stack.aoai.journal:
        assert AOAI_KEY_CANARY not in str(entry.to_dict())
    # The emulated vaults' storage holds the values, like Key Vault itself: owner-only.
    assert (stack.root / "cloud" / "state.json").stat().st_mode & 0o077 == 0
