"""Key Vault references as Container Apps holds them (issue 11, behaviour 4): a restart alone
does not pick up a new version of a versionless reference before the platform's refresh
(30 minutes on Azure); a versioned reference changed by a PUT does, at the next restart."""

from __future__ import annotations

import time

from .conftest import Clients
from .fake_runner import FakeRunner
from .stack import GATEWAY_KEY_PATH, RG, app_body, deploy


def _restart_and_wait(c: Clients, runner: FakeRunner, revision: str) -> dict[str, bytes]:
    """The files of the restarted container (the gateway key is one of them)."""
    n = len(runner.started)
    c.apps.container_apps_revisions.restart_revision(RG, "ca-test", revision)
    deadline = time.time() + 5
    while len(runner.started) == n and time.time() < deadline:
        time.sleep(0.02)
    assert len(runner.started) == n + 1, "the restart did not start the app again"
    return runner.started[-1].files


def test_versionless_reference_keeps_the_copy_until_the_refresh(
    clients: Clients, runner: FakeRunner
) -> None:
    s = deploy(clients)
    vault_uri = s.vault.properties.vault_uri
    clients.secrets(vault_uri).set_secret("gateway-key", "sk-gateway-new-version")
    revision = s.app.properties.latest_revision_name
    # A restart alone: the app's copy, fetched when it was PUT.
    assert _restart_and_wait(clients, runner, revision)[GATEWAY_KEY_PATH] == b"sk-gateway-123"
    # A PUT with the same (versionless) reference does not re-read it either.
    body = app_body(s.env.id, s.identity.id, vault_uri)
    clients.apps.container_apps.begin_create_or_update(RG, "ca-test", body).result()
    assert _restart_and_wait(clients, runner, revision)[GATEWAY_KEY_PATH] == b"sk-gateway-123"
    # Once the copy is older than the refresh period, the next start reads the latest version.
    clients.cloud.set_kv_refresh_seconds(0)
    files = _restart_and_wait(clients, runner, revision)
    assert files[GATEWAY_KEY_PATH] == b"sk-gateway-new-version"


def test_versioned_reference_changed_by_a_put_reaches_the_restarted_replica(
    clients: Clients, runner: FakeRunner
) -> None:
    s = deploy(clients)
    vault_uri = s.vault.properties.vault_uri
    new = clients.secrets(vault_uri).set_secret("gateway-key", "sk-gateway-v2")
    body = app_body(s.env.id, s.identity.id, vault_uri)
    body["properties"]["configuration"]["secrets"][0]["keyVaultUrl"] = new.id  # .../<version>
    starts = len(runner.started)
    app = clients.apps.container_apps.begin_create_or_update(RG, "ca-test", body).result()
    # A secret change is not a revision change: same revision, no start by itself...
    assert app.properties.latest_revision_name == s.app.properties.latest_revision_name
    assert len(runner.started) == starts
    # ...and the restart gets exactly that version.
    files = _restart_and_wait(clients, runner, app.properties.latest_revision_name)
    assert files[GATEWAY_KEY_PATH] == b"sk-gateway-v2"
