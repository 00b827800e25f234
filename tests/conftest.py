"""Shared fixtures. Constants live in tests/helpers.py; the re-export below is only for the
tests/localcloud modules that still import them from here (being moved by another change)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import AOAI_KEY_CANARY, ENV_DIR, FIXTURES, GATEWAY_KEY_CANARY, REPO, WORLD_FILE

__all__ = ["AOAI_KEY_CANARY", "ENV_DIR", "FIXTURES", "GATEWAY_KEY_CANARY", "REPO", "canary_env"]


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY, "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist workers start with COLUMNS=80 in their environment, which aigw's output
    takes as a terminal width (tables cut at 80 columns): a worker gets the controller's own
    value back, so a test sees the same environment under `-n` as without it.

    Every local cloud a test starts through aigw is seeded with the repository's world file
    (localcloud/world.yaml, as the quickstart does), never from the YAML under test."""
    os.environ["AIGW_LOCALCLOUD_WORLD"] = str(WORLD_FILE)
    if "PYTEST_XDIST_WORKER" not in os.environ:
        os.environ["AIGW_TEST_COLUMNS"] = os.environ.get("COLUMNS", "")
        return
    columns = os.environ.get("AIGW_TEST_COLUMNS", "")
    if columns:
        os.environ["COLUMNS"] = columns
    else:
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Markers mean what they say: a test not marked `litellm` (nor its module) cannot start
    LiteLLM, in this process or in a local-cloud daemon it starts (aigw.gateway.process
    .NO_LITELLM_VAR). Set before the item's fixtures, module-scoped ones included."""
    from aigw.gateway.process import NO_LITELLM_VAR

    if item.get_closest_marker("litellm") is None:
        os.environ[NO_LITELLM_VAR] = item.nodeid
    else:
        os.environ.pop(NO_LITELLM_VAR, None)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield
    from aigw.gateway.process import NO_LITELLM_VAR

    os.environ.pop(NO_LITELLM_VAR, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slowest modules first (tests/module_durations.json, tests/tools/module_durations.py):
    pytest-xdist's loadscope hands out whole modules in this order, so the longest ones start
    at once instead of one of them starting last and running alone. A module missing from the
    file counts as slow (it is new: better early than last). Order inside a module is kept."""
    try:
        known = json.loads((Path(__file__).parent / "module_durations.json").read_text())
    except (OSError, ValueError):
        return
    unknown = max(known.values(), default=0.0)
    root = Path(str(config.rootpath))

    def weight(item: pytest.Item) -> float:
        path = Path(str(item.path)).relative_to(root).as_posix()
        return float(known.get(path, unknown))

    items.sort(key=weight, reverse=True)  # stable: a module's tests keep their order
