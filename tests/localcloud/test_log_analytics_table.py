"""The local workspace's `ContainerAppConsoleLogs_CL` as Azure keeps it (issue 23, item 5),
through the real `azure-monitor-query` client:

- the table exists only once its first row is ingested; a query before is Azure's 400
  (`BadArgumentError` / `SemanticError` / `SEM0100` "Failed to resolve table ... named
  'ContainerAppConsoleLogs_CL'");
- an ingestion delay (`log_analytics.set_ingestion_delay`, $AIGW_LOCALCLOUD_INGESTION_DELAY):
  a row becomes visible only that long after it was generated, and TimeGenerated is when it
  was generated;
- an environment with `logAnalyticsConfiguration.dynamicJsonColumns: true` splits a JSON console
  line into `Log_<key>_<type>` columns and leaves `Log_s` empty.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.monitor.query import LogsQueryClient

from aigw_localcloud.apps import console_logs
from aigw_localcloud.arm import log_analytics
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.app_runner import ContainerSpec

from .conftest import Clients, make_clients
from .fake_runner import FakeRunner
from .stack import RG, deploy

TABLE = "ContainerAppConsoleLogs_CL"


class ConsoleRunner(FakeRunner):
    """FakeRunner whose apps write their console to a file the test appends to."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.files: dict[str, tuple[str, Path]] = {}
        self._files_lock = threading.Lock()

    def start(self, spec: ContainerSpec) -> str:
        url = super().start(spec)
        path = self.root / f"{len(self.files)}.log"
        path.touch()
        with self._files_lock:
            self.files[spec.app_key] = (spec.revision, path)
        return url

    def console_logs(self, app_key: str) -> list[tuple[str, Path]]:
        with self._files_lock:
            found = self.files.get(app_key)
        return [found] if found else []

    def write(self, line: str) -> None:
        for _, path in self.files.values():
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


@pytest.fixture
def console(tmp_path: Path) -> ConsoleRunner:
    (tmp_path / "console").mkdir()
    return ConsoleRunner(tmp_path / "console")


@pytest.fixture
def cloud(tmp_path: Path, console: ConsoleRunner) -> Iterator[LocalCloud]:
    with LocalCloud(
        tmp_path / "cloud", app_runner=console, retry_after=None, propagation_delay=0.0
    ) as c:
        # instant unless a test sets a delay (the default, 1 s: test_default_delays.py)
        log_analytics.set_ingestion_delay(c.engine, 0.0)
        yield c


@pytest.fixture
def clients(cloud: LocalCloud) -> Clients:
    return make_clients(cloud)


def _logs(cloud: LocalCloud) -> LogsQueryClient:
    return LogsQueryClient(
        cloud.credential(), endpoint=cloud.arm_url, connection_verify=str(cloud.ca_file)
    )


def _query(cloud: LocalCloud, customer_id: str, kql: str) -> list[dict[str, Any]]:
    result = _logs(cloud).query_workspace(customer_id, kql, timespan=None)
    (table,) = result.tables
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def _error_body(exc: HttpResponseError) -> dict[str, Any]:
    assert exc.response is not None
    return dict(json.loads(exc.response.text()))


def test_the_table_does_not_exist_before_its_first_row(
    clients: Clients, cloud: LocalCloud, console: ConsoleRunner
) -> None:
    stack = deploy(clients)
    ws = stack.workspace.customer_id
    with pytest.raises(HttpResponseError) as caught:
        _query(cloud, ws, f'{TABLE} | where ContainerAppName_s == "ca-test"')
    assert caught.value.status_code == 400
    # Azure's body (CDCgov/prime-reportstream#11773, microsoft/azure-container-apps#1530): the
    # Logs query API's errorResponse (stable/v1 OperationalInsights.json), innererror nested
    error = _error_body(caught.value)["error"]
    assert error["code"] == "BadArgumentError"
    assert error["message"] == "The request had some invalid properties"
    assert error["innererror"]["code"] == "SemanticError"
    assert error["innererror"]["message"] == "A semantic error occurred."
    assert error["innererror"]["innererror"] == {
        "code": "SEM0100",
        "message": "'where' operator: Failed to resolve table or column expression named "
        f"'{TABLE}'",
    }
    with pytest.raises(HttpResponseError) as caught:
        _query(cloud, ws, TABLE)
    inner = _error_body(caught.value)["error"]["innererror"]["innererror"]
    assert (
        inner["message"] == f"'table' operator: Failed to resolve table expression named '{TABLE}'"
    )

    console.write("INFO started")
    console_logs.ingest(cloud.engine)
    rows = _query(cloud, ws, f'{TABLE} | where ContainerAppName_s == "ca-test"')
    assert [r["Log_s"] for r in rows] == ["INFO started"]


def test_rows_are_visible_only_after_the_ingestion_delay(
    clients: Clients, cloud: LocalCloud, console: ConsoleRunner
) -> None:
    stack = deploy(clients)
    ws = stack.workspace.customer_id
    log_analytics.set_ingestion_delay(cloud.engine, 2.0)
    console.write("INFO first line")
    written = datetime.now(UTC)
    console_logs.ingest(cloud.engine)
    with pytest.raises(HttpResponseError) as caught:  # not visible yet: no table yet either
        _query(cloud, ws, f"{TABLE} | take 10")
    assert "Failed to resolve table" in caught.value.response.text()  # type: ignore[union-attr]
    time.sleep(2.2)
    (row,) = _query(cloud, ws, f"{TABLE} | take 10")
    seen = datetime.now(UTC)
    generated = row["TimeGenerated"]
    assert isinstance(generated, datetime)
    # TimeGenerated is when the line was collected, not when the row became visible
    assert abs((generated - written).total_seconds()) < 1.5
    assert (seen - generated).total_seconds() >= 2.0

    console.write("INFO second line")
    console_logs.ingest(cloud.engine)
    assert [r["Log_s"] for r in _query(cloud, ws, f"{TABLE} | take 10")] == ["INFO first line"]
    time.sleep(2.2)
    logs = sorted(r["Log_s"] for r in _query(cloud, ws, f"{TABLE} | take 10"))
    assert logs == ["INFO first line", "INFO second line"]


def _dynamic_env(clients: Clients, customer_id: str, on: bool) -> None:
    """The environment PUT with dynamicJsonColumns (a property of preview api-versions only, so
    the stable SDK's model has no field for it: a dict body, as the portal or Bicep send it)."""
    keys = clients.loganalytics.shared_keys.get_shared_keys(RG, "law-test")
    body: Any = {
        "location": "eastus",
        "properties": {
            "appLogsConfiguration": {
                "destination": "log-analytics",
                "logAnalyticsConfiguration": {
                    "customerId": customer_id,
                    "sharedKey": keys.primary_shared_key,
                    "dynamicJsonColumns": on,
                },
            }
        },
    }
    clients.apps.managed_environments.begin_create_or_update(RG, "cae-test", body).result()


def test_dynamic_json_columns_split_json_lines(
    clients: Clients, cloud: LocalCloud, console: ConsoleRunner
) -> None:
    stack = deploy(clients)
    ws = stack.workspace.customer_id
    _dynamic_env(clients, ws, True)
    usage = {
        "aigw_usage": 1,
        "time": "2026-01-02T03:04:05Z",
        "key": "alice",
        "model": "gpt-x",
        "prompt_tokens": 12,
        "stream": True,
        "request_id": "0b6a2b8e-4f0c-4f7e-9d52-3c1e2f6a7b80",
        "nothing": None,
    }
    console.write(json.dumps(usage))
    console.write("INFO plain text")
    console_logs.ingest(cloud.engine)
    rows = _query(cloud, ws, f'{TABLE} | where ContainerAppName_s == "ca-test"')
    by_log = {r["Log_s"]: r for r in rows}
    assert set(by_log) == {"", "INFO plain text"}
    split = by_log[""]
    assert split["Log_aigw_usage_d"] == 1
    assert split["Log_key_s"] == "alice" and split["Log_model_s"] == "gpt-x"
    assert split["Log_prompt_tokens_d"] == 12
    assert split["Log_stream_b"] is True
    assert split["Log_request_id_g"] == usage["request_id"]
    assert split["Log_time_t"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert not any(c.startswith("Log_nothing") for c in split)  # a null property is no column
    assert by_log["INFO plain text"]["Log_model_s"] in (None, "")

    # a column no row has yet is unknown to Azure: 400 naming it; column_ifexists() answers
    with pytest.raises(HttpResponseError) as caught:
        _query(cloud, ws, f'{TABLE} | where Log_team_s == "x"')
    inner = _error_body(caught.value)["error"]["innererror"]["innererror"]
    assert (
        inner["message"]
        == "'where' operator: Failed to resolve scalar expression named 'Log_team_s'"
    )
    rows = _query(cloud, ws, f'{TABLE} | where column_ifexists("Log_team_s", "") == ""')
    assert len(rows) == 2

    # switched off: new lines stay whole in Log_s
    _dynamic_env(clients, ws, False)
    console.write(json.dumps({"aigw_usage": 1, "model": "later"}))
    console_logs.ingest(cloud.engine)
    rows = _query(cloud, ws, f'{TABLE} | where Log_s startswith "{{\\"aigw_usage\\""')
    assert [json.loads(r["Log_s"])["model"] for r in rows] == ["later"]
