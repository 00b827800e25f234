"""The gateway's console output, read from Azure: `aigw usage`'s `--since` (its Log Analytics
query is usage_query.py), and the live log streams of the container app. SDKs are imported
inside the functions.

- Logs, as `az containerapp logs show --type console|system` reads them (Azure/azure-cli
  src/azure-cli/azure/cli/command_modules/containerapp/custom.py `stream_containerapp_logs`,
  _validators.py `_set_ssh_defaults`): `POST .../containerApps/{name}/getAuthToken`
  (ContainerApps_GetAuthToken) for the bearer token, then
  - console (the default): the active revisions (or `--revision`), each one's replicas
    (`GET .../revisions/{rev}/replicas`, ContainerAppsRevisionReplicas_ListReplicas), and for
    each replica the container's `logStreamEndpoint`
    (`.../revisions/{rev}/replicas/{replica}/containers/{container}/logstream`), read with
    `?tailLines=N&follow=..&output=text`; the container is the revision template's first, as az
    picks it;
  - system: the app's `eventStreamEndpoint` (`.../containerApps/{app}/eventstream`): the
    platform's events, JSON lines (az accepts only json there).
  The app's `eventStreamEndpoint` is the *system* stream: reading console output from it shows
  platform events, not the gateway's (learn.microsoft.com/azure/container-apps/log-streaming).
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from aigw.errors import AzureError, UserError
from aigw.redact import redact
from aigw.resources import names_of

MAX_TAIL = 300  # Container Apps' log stream serves at most 300 past lines


# Key-shaped text a log line may carry whatever process wrote it: bearer tokens and sk- keys.
_KEYISH = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}|\bsk-[A-Za-z0-9_-]{8,}")


def mask_line(line: str, *extra: str) -> str:
    """A console line with every secret this process knows (aigw.redact), `extra`, bearer
    tokens and sk- keys replaced by ***."""
    masked = redact(line, extra)
    return _KEYISH.sub(lambda m: (m.group(1) or "") + "***", masked)


def parse_since(text: str) -> timedelta:
    """`7d`, `12h`, `30m` -> a timedelta; anything else is bad input (exit 2)."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    value, unit = text[:-1], text[-1:]
    if unit not in units or not value.isdigit() or int(value) <= 0:
        raise UserError(
            f"--since {text!r} is not a duration", hint="use a number and d, h or m, e.g. 7d"
        )
    return timedelta(**{units[unit]: int(value)})


def _names(session: Any) -> tuple[str, str, str]:
    names = names_of(session.config)
    return names.resource_group, names.log_analytics, names.container_app


def _azure_error(what: str, exc: Exception) -> AzureError:
    message = str(getattr(exc, "message", "") or exc).splitlines()[0][:300]
    return AzureError(f"{what}: {redact(message)}", hint="is the environment deployed?")


def stream_url(session: Any, endpoint: str, query: dict[str, str]) -> str:
    """The log stream URL; under the local cloud the endpoint's host is the local cloud's own
    (its `*.localhost` names are never looked up)."""
    if session.target.local:
        parts = urlsplit(endpoint)
        endpoint = f"{session.target.base_url}{parts.path}"
    return f"{endpoint}?{urlencode(query)}"


LOG_TYPES = ("console", "system")


def _container_endpoint(session: Any, app: Any, rev: Any, replica: Any) -> str | None:
    """The replica's console endpoint for the revision template's first container (az's
    default), else its first container's; built as az builds it when Azure gives none."""
    template = getattr(getattr(rev, "template", None), "containers", None) or []
    wanted = template[0].name if template else None
    containers = list(replica.containers or [])
    chosen = next((c for c in containers if wanted and c.name == wanted), None)
    chosen = chosen or (containers[0] if containers else None)
    if chosen is None:
        return None
    if chosen.log_stream_endpoint:
        return str(chosen.log_stream_endpoint)
    events = str(app.event_stream_endpoint)
    rg, _, name = _names(session)
    return (
        f"{events[: events.index('/subscriptions/')]}/subscriptions/"
        f"{session.target.subscription_id}/resourceGroups/{rg}/containerApps/{name}"
        f"/revisions/{rev.name}/replicas/{replica.name}/containers/{chosen.name}/logstream"
    )


def console_endpoints(session: Any, app: Any, revision: str | None) -> list[tuple[str, str]]:
    """(`<revision>/<replica>`, console logStreamEndpoint) for each replica of the active
    revisions (or of `revision`), oldest revision first."""
    from azure.core.exceptions import HttpResponseError

    rg, _, app_name = _names(session)
    apps = session.ctx.clients.apps()
    try:
        if revision:
            revs = [apps.container_apps_revisions.get_revision(rg, app_name, revision)]
        else:
            listed = apps.container_apps_revisions.list_revisions(rg, app_name)
            revs = sorted(
                (r for r in listed if r.active),
                key=lambda r: (r.created_time is None, r.created_time or 0),
            )
        out: list[tuple[str, str]] = []
        for rev in revs:
            listed_replicas = apps.container_apps_revision_replicas.list_replicas(
                rg, app_name, rev.name
            )
            for replica in listed_replicas.value or []:
                endpoint = _container_endpoint(session, app, rev, replica)
                if endpoint:
                    out.append((f"{rev.name}/{replica.name}", endpoint))
    except HttpResponseError as exc:
        what = f"revision {revision} of {app_name}" if revision else f"container app {app_name}"
        raise _azure_error(what, exc) from exc
    return out


def log_stream(
    session: Any, *, tail: int, follow: bool, revision: str | None, kind: str = "console"
) -> Iterator[str]:
    """Lines of the app's console (each running replica's; prefixed `[<revision>/<replica>]`
    when there are several) or of its system log stream, secrets masked."""
    from azure.core.exceptions import HttpResponseError

    if not 0 <= tail <= MAX_TAIL:
        raise UserError(f"--tail {tail} is out of range", hint=f"use 0..{MAX_TAIL}")
    if kind not in LOG_TYPES:
        raise UserError(f"--type {kind!r} is not a log type", hint="use console or system")
    if kind == "system" and revision:
        raise UserError(
            "--revision applies to console logs only", hint="drop --revision with --type system"
        )
    rg, _, app_name = _names(session)
    apps = session.ctx.clients.apps()
    try:
        app = apps.container_apps.get(rg, app_name)
        token = apps.container_apps.get_auth_token(rg, app_name).token
    except HttpResponseError as exc:
        raise _azure_error(f"container app {app_name}", exc) from exc
    if not app.event_stream_endpoint:
        raise AzureError(f"container app {app_name} has no log stream endpoint")
    query = {"tailLines": str(tail), "follow": str(follow).lower()}
    if kind == "system":
        streams = [
            ("", stream_url(session, app.event_stream_endpoint, {**query, "output": "json"}))
        ]
    else:
        found = console_endpoints(session, app, revision)
        if not found:
            which = f"revision {revision}" if revision else f"container app {app_name}"
            raise AzureError(
                f"{which} has no running replica",
                hint="scaled to zero or not started? `aigw logs --type system` shows the events",
            )
        streams = [
            (label if len(found) > 1 else "", stream_url(session, url, {**query, "output": "text"}))
            for label, url in found
        ]
    if len(streams) == 1 or not follow:
        for label, url in streams:
            for line in _read_stream(session, url, token, follow):
                yield f"[{label}] {line}" if label else line
        return
    yield from _merged(session, streams, token)


def _merged(session: Any, streams: list[tuple[str, str]], token: str) -> Iterator[str]:
    """--follow over several replicas: each stream read by its own thread, lines as they come."""
    lines: queue.Queue[tuple[str, str] | BaseException | None] = queue.Queue()

    def read(label: str, url: str) -> None:
        try:
            for line in _read_stream(session, url, token, True):
                lines.put((label, line))
        except BaseException as exc:  # handed to the reader, which raises it
            lines.put(exc)
        finally:
            lines.put(None)

    for label, url in streams:
        threading.Thread(target=read, args=(label, url), daemon=True, name="aigw-logs").start()
    open_streams = len(streams)
    while open_streams:
        try:
            item = lines.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
        except queue.Empty:
            continue
        if item is None:
            open_streams -= 1
        elif isinstance(item, BaseException):
            raise item
        else:
            yield f"[{item[0]}] {item[1]}"


def _read_stream(session: Any, url: str, token: str, follow: bool) -> Iterator[str]:
    import httpx

    verify: Any = str(session.target.ca_file) if session.target.ca_file else True
    timeout = httpx.Timeout(30.0, read=None if follow else 60.0)
    with (
        httpx.Client(verify=verify, timeout=timeout, trust_env=not session.target.local) as c,
        c.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        if r.status_code != 200:
            body = mask_line(r.read().decode(errors="replace")[:300], token)
            raise AzureError(f"log stream: HTTP {r.status_code}: {body}")
        for line in r.iter_lines():
            if line:
                yield mask_line(line, token)
