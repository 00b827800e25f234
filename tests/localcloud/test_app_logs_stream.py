"""Issue 23 item 2: `aigw logs` reads the gateway's console, not the platform's events.

On Azure the app's `eventStreamEndpoint` (`.../containerApps/{app}/eventstream`) is the *system*
log stream (JSON platform events); console output is per replica, at
`.../revisions/{rev}/replicas/{replica}/containers/{container}/logstream` (the container's
`logStreamEndpoint` in ContainerAppsRevisionReplicas_ListReplicas). These tests deploy through
the real CLI against a local cloud whose stand-in app writes a console line of its own, then:
`aigw logs` lists the replicas and reads that replica's logstream (the line shows; no platform
event does), `aigw logs --type system` shows the platform events, and the local cloud's
`eventstream` carries system events only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError

from aigw_localcloud.arm.openai_account import link
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.app_runner import ContainerSpec
from aigw_localcloud.core.tls import TlsFiles, ensure_certificates
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from conftest import GATEWAY_KEY_CANARY
from helpers import as_world_account

from .conftest import make_clients
from .test_key_and_status_cli import TlsRunner, aigw

CONSOLE_MARK = "stand-in gateway console line"
SYSTEM_KEYS = {
    "TimeStamp",
    "Type",
    "ContainerAppName",
    "RevisionName",
    "ReplicaName",
    "Msg",
    "Reason",
    "EventSource",
    "Count",
}
RG, APP = "pvc-dev-aigateway-rg-san", "pvc-dev-aigateway-ca-san"


class ConsoleRunner(TlsRunner):
    """The HTTPS stand-in app, which also writes a console line per revision it starts (a
    ConsoleLogSource, as the LiteLLM runner is)."""

    def __init__(self, tls: TlsFiles, logs: Path) -> None:
        super().__init__(tls)
        self.logs = logs
        self.files: dict[str, list[tuple[str, Path]]] = {}

    def start(self, spec: ContainerSpec) -> str:
        url = super().start(spec)
        path = self.logs / f"{spec.revision}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{CONSOLE_MARK} of {spec.revision}\n")
        with self._lock:
            # multiple revision mode runs one process per revision, keyed <app id>/revisions/<r>
            files = self.files.setdefault(spec.app_key.split("/revisions/")[0], [])
            if all(p != path for _, p in files):
                files.append((spec.revision, path))
        return url

    def console_logs(self, app_key: str) -> list[tuple[str, Path]]:
        with self._lock:
            return list(self.files.get(app_key, []))


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    root = tmp_path_factory.mktemp("applogs")
    runner = ConsoleRunner(ensure_certificates(root / "cloud"), root / "console")
    aoai = as_world_account(AzureOpenAIEmulator(deployments={})).start()
    c = LocalCloud(root / "cloud", app_runner=runner, retry_after=None)
    c.aoai_url = aoai.url
    link(c.engine, aoai)
    c.start()
    try:
        r = aigw(c, "deploy", "--env", "dev", "--yes", "--no-smoke")
        assert r.returncode == 0, r.stdout + r.stderr
        yield c
    finally:
        c.stop()
        runner.stop_all()
        aoai.stop()


def _paths_since(cloud: LocalCloud, mark: int) -> list[str]:
    return [e.path for e in cloud.journal.entries()[mark:] if e.method == "GET"]


def _token_and_app(cloud: LocalCloud) -> tuple[str, str, str]:
    """(log stream token, app's eventStreamEndpoint path, latest ready revision)."""
    apps = make_clients(cloud).apps
    app = apps.container_apps.get(RG, APP)
    token = apps.container_apps.get_auth_token(RG, APP).token
    endpoint = app.event_stream_endpoint
    assert endpoint is not None and app.latest_ready_revision_name
    return token, endpoint[endpoint.index("/subscriptions/") :], app.latest_ready_revision_name


def test_logs_reads_the_replica_console_logstream(cloud: LocalCloud) -> None:
    mark = len(cloud.journal.entries())
    r = aigw(cloud, "logs", "--env", "dev", "--tail", "20")
    assert r.returncode == 0, r.stdout + r.stderr
    assert CONSOLE_MARK in r.stdout, r.stdout  # the gateway's own output
    assert "ConnectedToEventsServer" not in r.stdout and '"Reason"' not in r.stdout, r.stdout
    paths = _paths_since(cloud, mark)
    assert any(re.search(r"/revisions/[^/]+/replicas$", p) for p in paths), paths
    logstream = [p for p in paths if p.endswith("/logstream")]
    assert logstream and all(
        re.search(
            r"/containerApps/[^/]+/revisions/[^/]+/replicas/[^/]+/containers/[^/]+/logstream$", p
        )
        for p in logstream
    ), paths
    assert not any(p.endswith("/eventstream") for p in paths), paths
    assert GATEWAY_KEY_CANARY not in r.stdout + r.stderr


def test_logs_type_system_shows_platform_events(cloud: LocalCloud) -> None:
    mark = len(cloud.journal.entries())
    r = aigw(cloud, "logs", "--env", "dev", "--type", "system")
    assert r.returncode == 0, r.stdout + r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert events and all(set(e) == SYSTEM_KEYS for e in events), r.stdout
    _, _, revision = _token_and_app(cloud)
    assert any(
        e["Reason"] == "AssigningReplica" and e["RevisionName"] == revision for e in events
    ), events
    assert CONSOLE_MARK not in r.stdout
    assert any(p.endswith("/eventstream") for p in _paths_since(cloud, mark))


def test_bad_type_is_exit_2(cloud: LocalCloud) -> None:
    r = aigw(cloud, "logs", "--env", "dev", "--type", "everything")
    assert r.returncode == 2 and "--type" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_eventstream_carries_only_system_events(cloud: LocalCloud) -> None:
    token, path, revision = _token_and_app(cloud)
    with httpx.Client(verify=str(cloud.ca_file), trust_env=False, timeout=30) as c:
        r = c.get(
            cloud.arm_url + path,
            params={"tailLines": "50", "follow": "false"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text
    lines = [line for line in r.text.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line a JSON event
    assert all(set(e) == SYSTEM_KEYS for e in events), lines
    assert [e["Reason"] for e in events[:2]] == ["StartingGettingEvents", "ConnectedToEventsServer"]
    assert any(e["Reason"] == "AssigningReplica" and e["RevisionName"] == revision for e in events)
    assert CONSOLE_MARK not in r.text


def test_replicas_and_their_console_logstream(cloud: LocalCloud) -> None:
    apps = make_clients(cloud).apps
    token, _, revision = _token_and_app(cloud)
    replicas = apps.container_apps_revision_replicas.list_replicas(RG, APP, revision).value
    assert len(replicas) == 1
    replica = replicas[0]
    assert replica.name.startswith(f"{revision}-")
    assert replica.type == "Microsoft.App/containerApps/revisions/replicas"
    assert replica.running_state == "Running"
    (container,) = replica.containers
    want = (
        f"/containerApps/{APP}/revisions/{revision}/replicas/{replica.name}"
        f"/containers/{container.name}/logstream"
    )
    assert container.log_stream_endpoint.endswith(want), container.log_stream_endpoint
    one = apps.container_apps_revision_replicas.get_replica(RG, APP, revision, replica.name)
    assert one.name == replica.name
    with pytest.raises(ResourceNotFoundError):
        apps.container_apps_revision_replicas.get_replica(RG, APP, revision, f"{revision}-nope")

    url = (
        cloud.arm_url
        + container.log_stream_endpoint[container.log_stream_endpoint.index("/subscriptions/") :]
    )
    with httpx.Client(verify=str(cloud.ca_file), trust_env=False, timeout=30) as c:
        ok = c.get(url, params={"tailLines": "5"}, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200, ok.text
        assert f"{CONSOLE_MARK} of {revision}" in ok.text
        assert f"Replica: '{replica.name}'" in ok.text  # Azure's connect preamble
        as_json = c.get(
            url,
            params={"tailLines": "5", "output": "json"},
            headers={"Authorization": f"Bearer {token}"},
        )
        records = [json.loads(line) for line in as_json.text.splitlines() if line.strip()]
        assert records and all(set(rec) == {"TimeStamp", "Log"} for rec in records), records
        assert c.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        too_many = c.get(
            url, params={"tailLines": "301"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert too_many.status_code == 400
        elsewhere = url.replace(f"/replicas/{replica.name}/", f"/replicas/{revision}-nope/")
        assert c.get(elsewhere, headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_two_active_revisions_are_read_each_prefixed(cloud: LocalCloud) -> None:
    """Multiple revision mode with a second active revision: `aigw logs` reads both replicas'
    console, each line prefixed `[revision/replica]`. (Last: it changes the app.)"""
    apps = make_clients(cloud).apps
    app = apps.container_apps.get(RG, APP)
    assert app.configuration.active_revisions_mode.lower() == "multiple"
    first = app.latest_ready_revision_name
    app.template.revision_suffix = "second"
    app.template.containers[0].env = [
        *(app.template.containers[0].env or []),
        {"name": "X", "value": "2"},
    ]
    apps.container_apps.begin_create_or_update(RG, APP, app).result()
    second = f"{APP}--second"
    revs = {r.name: r.active for r in apps.container_apps_revisions.list_revisions(RG, APP)}
    assert revs[first] and revs[second], revs

    r = aigw(cloud, "logs", "--env", "dev", "--tail", "20")
    assert r.returncode == 0, r.stdout + r.stderr
    prefixes = {
        line.split("] ", 1)[0] + "]" for line in r.stdout.splitlines() if line.startswith("[")
    }
    assert {p.split("/")[0] for p in prefixes} == {f"[{first}", f"[{second}"}, r.stdout
    assert all(line.startswith("[") for line in r.stdout.splitlines()), r.stdout
    assert f"{CONSOLE_MARK} of {first}" in r.stdout and f"{CONSOLE_MARK} of {second}" in r.stdout
    one = aigw(cloud, "logs", "--env", "dev", "--revision", second, "--tail", "20")
    assert one.returncode == 0 and f"{CONSOLE_MARK} of {second}" in one.stdout, one.stderr
    assert f"of {first}" not in one.stdout and not one.stdout.startswith("["), one.stdout
