"""Upgrading a gateway deployed by the previous aigw, whose developer keys lived in the Key Vault
secret `aigw-dev-keys` mounted as `aigw_keys.json` (issue 25 renamed them `aigw-developer-keys`
and `aigw_developer_keys.json`): through the real CLIs on the local cloud with the real
LiteLLM 1.81.15.

The previous aigw is the source tree of PREVIOUS (`git archive`), run as a subprocess against a
local cloud this checkout started. It deploys, adds alice and bob and revokes bob. This aigw
then deploys: every developer key stays valid and every revoked key revoked, on the main URL
while the deploy runs (polled all along: every request answered, none without the developer
keys: the move restarts no revision) and after it on the main URL and on the `previous`
label (the revision the previous aigw made, which mounts the former name). Then `aigw keys` of
this aigw changes keys and the change is in force on both revisions, and a second plan has
nothing to do."""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from io import BytesIO
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

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

# The last aigw that named the developer keys `aigw-dev-keys` (before issue 25's renames).
PREVIOUS = "05b47595f9effeb3836a4865ecb62a5859215a3d"
LOCAL = ("--env", "dev", "--cloud", "local")
PROBES = 3  # requests spread over the replicas behind each URL


def _export_previous(into: Path) -> Path:
    """PREVIOUS's src/ under `into` (from this clone's history; a shallow clone fetches that
    one commit from its origin first)."""
    have = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{PREVIOUS}^{{commit}}"],
        capture_output=True,
        timeout=60,
    )
    if have.returncode != 0:
        subprocess.run(
            ["git", "-C", str(REPO), "fetch", "--quiet", "--depth=1", "origin", PREVIOUS],
            capture_output=True,
            timeout=300,
        )
    r = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", PREVIOUS, "src"],
        capture_output=True,
        timeout=120,
    )
    assert r.returncode == 0, f"git archive {PREVIOUS} (needs the clone's history): {r.stderr!r}"
    with tarfile.open(fileobj=BytesIO(r.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


class Stack:
    def __init__(self, root: Path) -> None:
        self.env = cli_environ(root)
        self.previous_src = _export_previous(root / "previous")
        self.keys: dict[str, str] = {}
        self.url = ""
        self.previous_url = ""
        self.verify: Any = True

    def __call__(self, *args: str, previous: bool = False, ok: bool = True) -> dict[str, Any]:
        env = dict(self.env)
        if previous:  # the previous aigw's code first on the path (before this checkout's)
            env["PYTHONPATH"] = str(self.previous_src)
        r = subprocess.run(
            [sys.executable, "-m", "aigw", *args, *LOCAL, "-o", "json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=600,
        )
        out = r.stdout + r.stderr
        assert GATEWAY_KEY_CANARY not in out and AOAI_KEY_CANARY not in out, args
        if ok:
            assert r.returncode == 0, (args, r.stdout[-3000:], r.stderr[-3000:])
        try:
            data: dict[str, Any] = json.loads(r.stdout)
        except ValueError:
            assert not ok, (args, r.stdout[-3000:])
            data = {}
        data["_returncode"] = r.returncode
        return data

    def status(self, url: str, key: str) -> int:
        with httpx.Client(base_url=url, verify=self.verify, timeout=30, trust_env=False) as c:
            return c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code

    def statuses(self, url: str, key: str) -> list[int]:
        return [self.status(url, key) for _ in range(PROBES)]

    def urls(self) -> dict[str, str]:
        return {"main": self.url, "previous": self.previous_url}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from aigw.engine import localcloud as daemon

    root = tmp_path_factory.mktemp("keysmigration")
    s = Stack(root)
    try:
        yield s
    finally:
        if not os.environ.get("KEEP_CLOUD"):
            daemon.stop(root / "localcloud")


def _vault_secret(stack: Stack, name: str) -> str | None:
    """The current value of `name` in the environment's vault (None: no such secret)."""
    from aigw.engine.vault_secrets import deployed_vault_uri, read_secret
    from aigw.secrets import Secrets

    config = load_env("dev", Path(stack.env["AIGW_ENV_DIR"])).config
    target = workflow.local_target(Path(stack.env["AIGW_LOCALCLOUD_DIR"]))
    session = workflow.open_session(config, target, secrets=Secrets())
    try:
        stored = read_secret(session.ctx, deployed_vault_uri(session), name, secret=False)
    finally:
        session.close()
    return stored.value if stored is not None else None


def test_1_the_previous_aigw_deploys_adds_alice_and_bob_revokes_bob(stack: Stack) -> None:
    # this checkout starts the local cloud (its emulator is the one under test, not PREVIOUS's)
    stack("plan", ok=False)
    first = stack("deploy", "--yes", previous=True)
    stack.url = first["outputs"]["gateway_url"]
    ca = Path(stack.env["AIGW_LOCALCLOUD_DIR"]) / "ca.pem"
    stack.verify = ssl.create_default_context(cafile=str(ca))
    for name in ("alice", "bob"):
        added = stack("keys", "add", name, "--yes", previous=True)
        assert added["ok"], added["checks"]
        stack.keys[name] = added["new_key"]
    revoked = stack("keys", "revoke", "bob", "--yes", previous=True)
    assert revoked["ok"], revoked["checks"]
    assert stack.statuses(stack.url, stack.keys["alice"]) == [200] * PROBES
    assert stack.statuses(stack.url, stack.keys["bob"]) == [401] * PROBES
    assert _vault_secret(stack, "aigw-dev-keys") is not None
    assert _vault_secret(stack, "aigw-developer-keys") is None


def test_2_this_aigw_deploys_over_it_and_no_answer_is_off_the_keys(stack: Stack) -> None:
    seen: list[tuple[int, int]] = []  # (alice, bob) while the deploy runs
    done = threading.Event()

    def status(key: str) -> int:
        try:
            return stack.status(stack.url, key)
        except httpx.TransportError:  # no answer (a restart's reset connection): not a verdict
            return 0

    def poll() -> None:
        while not done.is_set():
            seen.append((status(stack.keys["alice"]), status(stack.keys["bob"])))
            time.sleep(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        upgraded = stack("deploy", "--yes")
    finally:
        done.set()
        poller.join(timeout=60)
    answered = [s for s in seen if 0 not in s]
    print(f"upgrade: {len(answered)} of {len(seen)} rounds answered, {seen.count((0, 0))} not")
    assert len(answered) > 10, seen
    # the move restarts nothing (resources/container_app.py only_moved): the live revision
    # answers all along, as in any rollout; before, 41 of 100 rounds got a reset connection
    assert len(answered) == len(seen), f"{len(seen) - len(answered)} of {len(seen)} unanswered"
    off = [s for s in answered if s != (200, 401)]
    assert not off, f"{len(off)} of {len(answered)} rounds off the developer keys: {off[:5]}"
    # the keys moved to the new name, byte for byte; the former secret is left as it was
    moved, former = (
        _vault_secret(stack, "aigw-developer-keys"),
        _vault_secret(stack, "aigw-dev-keys"),
    )
    assert moved is not None and moved == former
    hashes = {r["sha256"] for r in json.loads(moved)["keys"].values()}
    assert hashlib.sha256(stack.keys["alice"].encode()).hexdigest() in hashes
    assert hashlib.sha256(stack.keys["bob"].encode()).hexdigest() not in hashes
    assert upgraded["rollout"]["promoted"], upgraded["rollout"]  # a new revision: new names

    env_dir = Path(stack.env["AIGW_ENV_DIR"])
    names = names_of(load_env("dev", env_dir).config)
    target = workflow.local_target(Path(stack.env["AIGW_LOCALCLOUD_DIR"]))
    port = target.local_label_port(names.resource_group, names.container_app, "previous")
    url = label_url(None, names.container_app, "previous", local=True, local_port=port)
    assert url
    stack.previous_url = url
    for where, u in stack.urls().items():  # the previous aigw's revision and this one's
        assert stack.statuses(u, stack.keys["alice"]) == [200] * PROBES, where
        assert stack.statuses(u, stack.keys["bob"]) == [401] * PROBES, where


def test_3_a_second_plan_has_nothing_to_do_and_lists_alice(stack: Stack) -> None:
    again = stack("plan", "--detailed-exitcode")
    assert again["_returncode"] == 0, again
    listed = stack("keys", "list")
    assert [k["name"] for k in listed["keys"]] == ["alice"]


def test_4_key_changes_after_the_upgrade_reach_both_revisions(stack: Stack) -> None:
    added = stack("keys", "add", "carol", "--yes")
    assert added["ok"], added["checks"]
    stack.keys["carol"] = added["new_key"]
    revoked = stack("keys", "revoke", "alice", "--yes")
    assert revoked["ok"], revoked["checks"]
    assert len(revoked["restarted_revisions"]) == 2, revoked["restarted_revisions"]
    for where, u in stack.urls().items():
        assert stack.statuses(u, stack.keys["alice"]) == [401] * PROBES, where
        assert stack.statuses(u, stack.keys["bob"]) == [401] * PROBES, where
        assert stack.statuses(u, stack.keys["carol"]) == [200] * PROBES, where
