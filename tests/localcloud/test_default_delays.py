"""Issue 23 #6: role propagation and Log Analytics ingestion take time on Azure, so the local
cloud's defaults are delays too (scaled down, never zero), for every cloud a test or a user
starts without saying otherwise."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from aigw.engine import localcloud as aigw_daemon
from aigw_localcloud import daemon
from aigw_localcloud.arm import log_analytics
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.rbac import DEFAULT_PROPAGATION_DELAY


def _default(fn: object, name: str) -> object:
    return inspect.signature(fn).parameters[name].default  # type: ignore[arg-type]


def test_propagation_is_never_instant_by_default(tmp_path: Path) -> None:
    assert DEFAULT_PROPAGATION_DELAY > 0
    assert LocalCloud(tmp_path).engine.propagation_delay == DEFAULT_PROPAGATION_DELAY
    for fn in (daemon.serve, daemon.ensure_running, aigw_daemon.ensure_running):
        assert _default(fn, "propagation_delay") == DEFAULT_PROPAGATION_DELAY, fn


def test_ingestion_is_never_instant_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(log_analytics.INGESTION_DELAY_ENV, raising=False)
    cloud = LocalCloud(tmp_path)
    assert log_analytics.ingestion_delay(cloud.engine) == log_analytics.DEFAULT_INGESTION_DELAY > 0
    monkeypatch.setenv(log_analytics.INGESTION_DELAY_ENV, "0")  # a test meaning instant says so
    assert log_analytics.ingestion_delay(cloud.engine) == 0.0
