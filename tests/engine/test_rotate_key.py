"""rotate-key on the local cloud with the real LiteLLM running the container app: one new Key
Vault version, the app's reference moved to it, one restart, the new key accepted, the old one
refused, the key never shown."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from aigw.engine import rotate
from aigw.errors import AigwError, UserError
from aigw.gateway import smoke
from aigw.secrets import Secret
from helpers import GATEWAY_KEY_CANARY

from .harness import Stack, close_stack, copy_envs, make_stack

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("rotate")
    s = make_stack(root, with_gateway=True)
    s.env_dir = copy_envs(root / "environments")
    try:
        _, result = s.deploy()
        assert result.ok, [e.one_line() for e in result.errors]
        yield s
    finally:
        close_stack(s)


def _status(stack: Stack, url: str, key: str) -> int:
    r = httpx.get(
        url + "/v1/models",
        headers={"Authorization": f"Bearer {key}"},
        verify=smoke.verify_for(stack.cloud),
        timeout=30,
    )
    return r.status_code


def test_generated_keys_are_strong_and_distinct() -> None:
    keys = {rotate.generate_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(k.startswith("sk-") and len(k) >= 46 for k in keys)
    assert all(rotate.check_new_key(k) == k for k in keys)
    with pytest.raises(UserError, match="too weak: 8 characters"):
        rotate.check_new_key("sk-short")


def test_rotation_writes_a_version_references_it_restarts_and_switches(stack: Stack) -> None:
    session = stack.session()
    new = Secret("generated", rotate.generate_key())
    mark = stack.mark()
    t0 = time.perf_counter()
    steps: list[str] = []
    try:
        result = rotate.rotate_gateway_key(
            session, new, wait_timeout=90, smoke_timeout=60, on_step=steps.append
        )
    finally:
        session.close()
    seconds = time.perf_counter() - t0
    assert result.ok, [c.to_json() for c in result.checks if not c.ok]
    writes = stack.writes_since(mark)
    puts = [w for w in writes if w.method == "PUT" and "/secrets/gateway-key" in w.path]
    app_puts = [w for w in writes if w.method == "PUT" and "/containerApps/" in w.path]
    restarts = [w for w in writes if w.path.endswith("/restart")]
    assert len(puts) == 1 and len(app_puts) == 1 and len(restarts) == 1 and len(writes) == 3, [
        (w.method, w.path) for w in writes
    ]
    assert result.old_version and result.new_version and result.old_version != result.new_version
    assert len(result.restarted_revisions) == 1  # the one active revision
    names = {c.name for c in result.checks}
    assert {"gateway switched to the new key", "old key is refused", "no key is refused"} <= names
    assert "responses gpt-5.3-codex tool call" in names
    url = result.gateway_url
    assert url
    assert _status(stack, url, new.reveal()) == 200
    assert 400 <= _status(stack, url, GATEWAY_KEY_CANARY) < 500
    # The key never leaves as a value: not in the result, the steps, or the journal.
    text = json.dumps(result.to_json()) + "\n".join(steps)
    assert new.reveal() not in text and GATEWAY_KEY_CANARY not in text
    assert all(new.reveal() not in repr(e) for e in stack.since(mark))
    print(f"rotate-key on the local cloud: {seconds:.1f}s {result.seconds}")
    stack.gateway_key = new.reveal()  # what the vault now holds, for the next test


def test_rotating_to_the_current_key_writes_nothing(stack: Stack) -> None:
    session = stack.session()
    mark = stack.mark()
    try:
        with pytest.raises(UserError, match="current one"):
            rotate.rotate_gateway_key(session, Secret("X", stack.gateway_key), wait_timeout=5)
    finally:
        session.close()
    assert stack.writes_since(mark) == []


def test_rotation_refuses_when_the_app_differs_from_the_yaml(stack: Stack) -> None:
    """rotate-key PUTs the container app: it must not roll out an undeployed YAML change."""
    base = (stack.env_dir / "dev.yaml").read_text()
    (stack.env_dir / "dev.yaml").write_text(base + "gateway:\n  max_replicas: 5\n")
    try:
        session = stack.session()
        mark = stack.mark()
        try:
            with pytest.raises(AigwError, match="differs from the environment file"):
                rotate.rotate_gateway_key(
                    session, Secret("generated", rotate.generate_key()), wait_timeout=5
                )
        finally:
            session.close()
        assert stack.writes_since(mark) == []
    finally:
        (stack.env_dir / "dev.yaml").write_text(base)
