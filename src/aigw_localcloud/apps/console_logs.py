"""The container apps' console output, as Container Apps collects it.

On Azure, everything a container writes to stdout/stderr goes to the environment's log
destination; with `appLogsConfiguration: {destination: "log-analytics",
logAnalyticsConfiguration: {customerId, sharedKey}}` it lands in that workspace's table
`ContainerAppConsoleLogs_CL`, one row per line, with TimeGenerated, ContainerAppName_s,
RevisionName_s, ContainerName_s, Log_s, Stream_s, ... (learn.microsoft.com/azure/container-apps/
log-monitoring; Microsoft.App/managedEnvironments, api-version 2025-01-01, AppLogsConfiguration).

Here the app runner writes each revision's output to a file; `ingest` reads what is new in
those files (a byte offset per file) and appends rows to the workspace of the app's environment
(`<state>/console-logs/<customerId>.jsonl`), stamped with the time it reads them, as Azure
stamps collected lines. A background thread ingests every second (`start_ingest`), and every
query ingests first, so a line written before a query is in its answer. An environment without
a Log Analytics destination collects nothing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..core.util import key

if TYPE_CHECKING:
    from ..core.engine import Engine

APP_TYPE = "Microsoft.App/containerApps"
ENV_TYPE = "Microsoft.App/managedEnvironments"
MAX_LINE = 32 * 1024  # Log_s holds at most this much of one line here
# Set on a row collected while its environment had `logAnalyticsConfiguration.
# dynamicJsonColumns: true`; arm/log_analytics.py lifts such a JSON line into Log_<key>_* columns.
DYNAMIC_JSON_KEY = "__dynamic_json"
_lock = threading.Lock()


@runtime_checkable
class ConsoleLogSource(Protocol):
    """An app runner that keeps its apps' console output: (revision, file) per revision."""

    def console_logs(self, app_key: str) -> list[tuple[str, Path]]: ...


def _dir(eng: Engine) -> Path:
    d = Path(eng.directory) / "console-logs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def workspace_file(eng: Engine, customer_id: str) -> Path:
    return _dir(eng) / f"{customer_id.lower()}.jsonl"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def apps_with_workspace(st: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """(app, its environment, workspace customerId) for each app whose environment sends its
    logs to a Log Analytics workspace."""
    out = []
    for app in st["resources"].values():
        if app["type"] != APP_TYPE:
            continue
        props = app.get("properties") or {}
        env = st["resources"].get(key(str(props.get("managedEnvironmentId") or "")))
        if env is None:
            continue
        logs = (env.get("properties") or {}).get("appLogsConfiguration") or {}
        la = logs.get("logAnalyticsConfiguration") or {}
        if logs.get("destination") == "log-analytics" and la.get("customerId"):
            out.append((app, env, str(la["customerId"])))
    return out


def app_files(eng: Engine, app_key: str) -> list[tuple[str, Path]]:
    runner = eng.runner
    if isinstance(runner, ConsoleLogSource):
        return runner.console_logs(app_key)
    return []


def revision_file(eng: Engine, app_id: str, revision: str) -> Path | None:
    """The file holding one revision's console output (its replica's stdout/stderr, which the
    replica's `logstream` serves), or None if the runner kept none."""
    found = [p for r, p in app_files(eng, key(app_id)) if r.lower() == revision.lower()]
    return found[-1] if found else None


def _new_lines(path: Path, offset: int) -> tuple[list[str], int]:
    """Complete lines after `offset`, and the offset after the last of them."""
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size < offset:
                offset = 0  # the file was replaced
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    text = data[: end + 1].decode("utf-8", errors="replace")
    return text.splitlines(), offset + end + 1


def ingest(eng: Engine) -> None:
    """Append the lines written since the last call to the workspaces' tables."""
    with eng.store.read() as st:
        targets = apps_with_workspace(st) if st else []
    with _lock:
        offsets_file = _dir(eng) / "offsets.json"
        try:
            offsets: dict[str, int] = json.loads(offsets_file.read_text())
        except (OSError, ValueError):
            offsets = {}
        changed = False
        for app, env, customer_id in targets:
            image = _image(app)
            la = (env.get("properties") or {}).get("appLogsConfiguration") or {}
            dynamic = (la.get("logAnalyticsConfiguration") or {}).get("dynamicJsonColumns") is True
            rows = []
            for revision, path in app_files(eng, key(app["id"])):
                lines, offsets[str(path)] = _new_lines(path, offsets.get(str(path), 0))
                stamp = now_iso()
                for line in lines:
                    rows.append(
                        {
                            "TimeGenerated": stamp,
                            "ContainerAppName_s": app["name"],
                            "EnvironmentName_s": env["name"],
                            "RevisionName_s": revision,
                            "ContainerName_s": _container(app),
                            "ContainerImage_s": image,
                            "ContainerGroupName_s": f"{revision}-local",
                            "Stream_s": "stdout",
                            "Log_s": line[:MAX_LINE],
                            "_ResourceId": app["id"].lower(),
                            "Type": "ContainerAppConsoleLogs_CL",
                            **({DYNAMIC_JSON_KEY: True} if dynamic else {}),
                        }
                    )
            if rows:
                changed = True
                with open(workspace_file(eng, customer_id), "a", encoding="utf-8") as fh:
                    fh.writelines(json.dumps(r) + "\n" for r in rows)
        if changed or not offsets_file.exists():
            offsets_file.write_text(json.dumps(offsets))


def rows(eng: Engine, customer_id: str) -> Iterator[dict[str, Any]]:
    path = workspace_file(eng, customer_id)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _template(app: dict[str, Any]) -> dict[str, Any]:
    return dict((app.get("properties") or {}).get("template") or {})


def _container(app: dict[str, Any]) -> str:
    containers = _template(app).get("containers") or [{}]
    return str(containers[0].get("name") or app["name"])


def _image(app: dict[str, Any]) -> str:
    containers = _template(app).get("containers") or [{}]
    return str(containers[0].get("image") or "")


def start_ingest(eng: Engine, stop: threading.Event, interval: float = 1.0) -> threading.Thread:
    """Ingest every `interval` seconds until `stop` is set."""

    def loop() -> None:
        while not stop.wait(interval):
            try:
                ingest(eng)
            except Exception:  # the collector must survive a bad file or state  # noqa: S112
                continue

    thread = threading.Thread(target=loop, daemon=True, name="localcloud-console-logs")
    thread.start()
    return thread
