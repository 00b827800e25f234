"""A key change is in force on every revision that serves, not only the latest: through the
real CLI on the local cloud with the real LiteLLM. After a rollout the revision it replaced
stays active with 0% of the traffic and the label `previous`, reachable on its own label URL
(`https://<app>---previous.<domain>`, public on Azure). Secrets are app-scoped: a running
revision keeps the old value until it restarts (learn.microsoft.com/azure/container-apps/
manage-secrets). So `keys revoke`, `rotate-key` and `rollback` after them must leave no URL
that accepts a revoked or replaced key.

Order: deploy, `keys add alice`, a deployed config change (the revision that knows alice
becomes `previous`), `keys add bob` (accepted on both URLs), `keys revoke alice` (401 on both
URLs), `rotate-key` (the old gateway key 401 on both URLs), `rollback` (alice still 401 on
the main URL; rotate-key comes first: after a rollback the app differs from the YAML)."""

from __future__ import annotations

import json
import secrets
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigw.config.load import load_env
from aigw.engine import workflow
from aigw.gateway.url import label_url
from aigw.resources import names_of
from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY, REPO

from .harness import cli_environ
from .rollout_load import add_model

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

LOCAL = ("--env", "dev", "--cloud", "local")
PROBES = 3  # requests spread over the replicas behind each URL


class Stack:
    def __init__(self, root: Path) -> None:
        self.env = cli_environ(root)
        self.keys: dict[str, str] = {}
        self.gateway_key = GATEWAY_KEY_CANARY
        self.url = ""
        self.previous_url = ""
        self.verify: Any = True

    def __call__(self, *args: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
        env = {**self.env, "AIGW_GATEWAY_KEY": self.gateway_key, **(extra or {})}
        r = subprocess.run(
            [sys.executable, "-m", "aigw", *args, *LOCAL, "--yes", "-o", "json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=600,
        )
        out = r.stdout + r.stderr
        assert GATEWAY_KEY_CANARY not in out and AOAI_KEY_CANARY not in out, args
        assert r.returncode == 0, (args, r.stdout[-3000:], r.stderr[-3000:])
        data: dict[str, Any] = json.loads(r.stdout)
        return data

    def statuses(self, url: str, key: str) -> list[int]:
        with httpx.Client(base_url=url, verify=self.verify, timeout=30, trust_env=False) as c:
            return [
                c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code
                for _ in range(PROBES)
            ]

    def urls(self) -> dict[str, str]:
        return {"main": self.url, "previous": self.previous_url}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("keyrevisions")
    s = Stack(root)
    try:
        yield s
    finally:
        daemon.stop(root / "localcloud")


def test_1_deploy_add_alice_then_roll_a_new_revision(stack: Stack) -> None:
    first = stack("deploy")
    stack.url = first["outputs"]["gateway_url"]
    ca = Path(stack.env["AIGW_LOCALCLOUD_DIR"]) / "ca.pem"
    stack.verify = ssl.create_default_context(cafile=str(ca))
    added = stack("keys", "add", "alice")
    assert added["ok"], added["checks"]
    stack.keys["alice"] = added["new_key"]
    env_dir = Path(stack.env["AIGW_ENV_DIR"])
    add_model(env_dir / "dev.yaml", "gpt-5.3-codex-b", "2025-04-01-preview")
    second = stack("deploy")
    assert second["rollout"]["promoted"] and second["rollout"]["live_before"]
    names = names_of(load_env("dev", env_dir).config)
    target = workflow.local_target(Path(stack.env["AIGW_LOCALCLOUD_DIR"]))
    port = target.local_label_port(names.resource_group, names.container_app, "previous")
    url = label_url(None, names.container_app, "previous", local=True, local_port=port)
    assert url
    stack.previous_url = url
    for where, u in stack.urls().items():  # the previous revision knows alice
        assert stack.statuses(u, stack.keys["alice"]) == [200] * PROBES, where


def test_2_add_bob_is_accepted_on_every_url(stack: Stack) -> None:
    added = stack("keys", "add", "bob")
    assert added["ok"], added["checks"]
    stack.keys["bob"] = added["new_key"]
    for where, u in stack.urls().items():
        assert stack.statuses(u, stack.keys["bob"]) == [200] * PROBES, where
    assert len(added["restarted_revisions"]) == 2, added["restarted_revisions"]


def test_3_revoke_alice_is_refused_on_the_main_and_the_previous_url(stack: Stack) -> None:
    revoked = stack("keys", "revoke", "alice")
    assert revoked["ok"], revoked["checks"]
    for where, u in stack.urls().items():
        assert stack.statuses(u, stack.keys["alice"]) == [401] * PROBES, where
        assert stack.statuses(u, stack.keys["bob"]) == [200] * PROBES, where
    assert len(revoked["restarted_revisions"]) == 2, revoked["restarted_revisions"]


def test_4_rotate_key_refuses_the_old_gateway_key_on_every_url(stack: Stack) -> None:
    old = stack.gateway_key
    new = f"sk-rotated-{secrets.token_hex(20)}"
    rotated = stack(
        "rotate-key", "--new-key-env", "AIGW_NEW_GATEWAY_KEY", extra={"AIGW_NEW_GATEWAY_KEY": new}
    )
    assert rotated["ok"], rotated["checks"]
    stack.gateway_key = new
    for where, u in stack.urls().items():
        assert stack.statuses(u, old) == [401] * PROBES, where
        assert stack.statuses(u, new) == [200] * PROBES, where
    assert len(rotated["restarted_revisions"]) == 2, rotated["restarted_revisions"]


def test_5_rollback_after_revoke_does_not_bring_alice_back(stack: Stack) -> None:
    back = stack("rollback")
    assert back["promoted"], back
    assert stack.statuses(stack.url, stack.keys["alice"]) == [401] * PROBES
    assert stack.statuses(stack.url, stack.keys["bob"]) == [200] * PROBES
    # The revision rolled back from is the previous one now: alice refused there too.
    assert stack.statuses(stack.previous_url, stack.keys["alice"]) == [401] * PROBES
