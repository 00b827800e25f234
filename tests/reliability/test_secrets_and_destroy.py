"""Secrets never leak (every command, with --debug, successes and failures), and destroy
never touches what aigw does not own. The CLI runs as a subprocess against an in-process
local cloud (no LiteLLM), found through AIGW_LOCALCLOUD_DIR."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.resources import names_of
from aigw_localcloud.core.endpoint import write_endpoint
from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY

from .cli_support import Ran, aigw
from .scenarios import FastStack, fresh_stack

CANARIES = (GATEWAY_KEY_CANARY, AOAI_KEY_CANARY)
KEYS = {"AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY, "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[FastStack]:
    with fresh_stack(tmp_path / "stack") as s:
        s.cloud.aoai_url = s.aoai.url  # `--cloud local` configures this emulator
        write_endpoint(s.cloud.state_dir, s.cloud.endpoint())
        yield s


def _run(
    stack: FastStack,
    summary: Path,
    *args: str,
    env: dict[str, str] | None = None,
    debug: bool = True,
) -> Ran:
    extra = {**KEYS, "GITHUB_STEP_SUMMARY": str(summary), **(env or {})}
    flags = ("--debug",) if debug else ()
    return aigw(*flags, *args, cloud_dir=stack.cloud.state_dir, env=extra)


def test_no_canary_anywhere_across_every_command(stack: FastStack, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    local = ("--env", "prod", "--cloud", "local")
    runs: list[tuple[str, Ran]] = []

    def run(*args: str, expect: int) -> Ran:
        ran = _run(stack, summary, *args)
        assert ran.code == expect, (args, ran.code, ran.stderr[-2000:])
        runs.append((" ".join(args), ran))
        return ran

    run("validate", "--env", "prod", expect=0)
    run("render", "--env", "prod", expect=0)
    run("render", "--env", "prod", "--json", expect=0)
    run("plan", *local, expect=0)
    run("deploy", *local, "--yes", "--no-smoke", expect=0)
    run("status", *local, "--output", "json", expect=0)
    run("plan", *local, "--output", "json", expect=0)
    # A failure: a server error on the secret write that outlasts every retry (azure-core's,
    # then aigw's bounded ones); --debug prints the traceback, redacted.
    stack.cloud.faults.add("PUT */secrets/*", "500", 1.0)
    another_key = {"AIGW_GATEWAY_KEY": "sk-rotated-again-canary-1234abcd"}
    ran = _run(stack, summary, "deploy", *local, "--yes", "--no-smoke", env=another_key)
    assert ran.code == 1 and "Traceback" in ran.stderr, ran.stderr[-2000:]  # --debug: traceback
    runs.append(("deploy 500", ran))
    stack.cloud.faults.clear()
    run("destroy", *local, "--yes", "--confirm-env", "prod", expect=0)
    assert any("debug: azure" in r.stderr for _, r in runs)  # --debug did log HTTP
    for what, ran in runs:
        for c in CANARIES:
            assert c not in ran.stdout and c not in ran.stderr, what
    assert summary.exists()
    texts = {"summary": summary.read_text()}
    for path in stack.root.rglob("*"):
        if path.is_file() and path.name not in {"state.json", "server.key"}:
            texts[str(path)] = path.read_text(errors="replace")
    for where, text in texts.items():
        for c in CANARIES:
            assert c not in text, where
    assert any("journal" in k for k in texts)


def test_destroy_leaves_foreign_and_untagged_resources(stack: FastStack, tmp_path: Path) -> None:
    from aigw.engine import workflow
    from aigw.engine.plan import Action

    _, result = stack.deploy()
    assert result.ok
    session = stack.session()
    names = names_of(session.config)
    clients = session.ctx.clients
    # A foreign workspace in our resource group, and our identity stripped of our tags.
    clients.loganalytics().workspaces.begin_create_or_update(
        names.resource_group, "someone-elses-law", {"location": "southafricanorth"}
    ).result()
    ids = clients.msi().user_assigned_identities
    ids.create_or_update(
        names.resource_group, names.identity, {"location": "southafricanorth", "tags": {}}
    )
    plan = workflow.make_plan(stack.session(), destroy=True)
    actions = {c.key: c for c in plan.changes}
    assert actions["resource_group"].action is Action.noop  # kept: it holds a foreign resource
    assert actions["identity"].unsafe  # no managed-by tag: aigw does not own it
    ran = _run(
        stack,
        tmp_path / "s.md",
        "destroy",
        "--env",
        "prod",
        "--cloud",
        "local",
        "--yes",
        "--confirm-env",
        "prod",
        debug=False,
    )
    errors = [line for line in ran.error_lines if line.startswith("error:")]
    assert ran.code != 0 and len(errors) == 1, ran.stderr
    assert "refusing" in errors[0] and "managed-by" in errors[0]
    # Nothing was deleted: the refusal came before any write.
    assert not [e for e in stack.cloud.journal.entries() if e.method == "DELETE"]
    # Give the identity back its tags: destroy removes ours and keeps the group and the workspace.
    ids.create_or_update(
        names.resource_group,
        names.identity,
        {"location": "southafricanorth", "tags": session.config.all_tags()},
    )
    ran = _run(
        stack,
        tmp_path / "s.md",
        "destroy",
        "--env",
        "prod",
        "--cloud",
        "local",
        "--yes",
        "--confirm-env",
        "prod",
        debug=False,
    )
    assert ran.code == 0, ran.stderr
    assert clients.resources().resource_groups.get(names.resource_group)
    assert clients.loganalytics().workspaces.get(names.resource_group, "someone-elses-law")
    left = [
        r.name for r in clients.resources().resources.list_by_resource_group(names.resource_group)
    ]
    assert left == ["someone-elses-law"]


def test_prod_destroy_needs_the_typed_confirmation(stack: FastStack, tmp_path: Path) -> None:
    _, result = stack.deploy()
    assert result.ok
    mark = stack.mark()
    local = ("destroy", "--env", "prod", "--cloud", "local")
    for args in ((*local, "--yes"), (*local, "--yes", "--confirm-env", "dev"), local):
        ran = _run(stack, tmp_path / "s.md", *args, debug=False)
        errors = [line for line in ran.error_lines if line.startswith("error:")]
        assert ran.code == 2 and len(errors) == 1, (args, ran.stderr)
        assert "Traceback" not in ran.stderr
    assert stack.writes_since(mark) == []
