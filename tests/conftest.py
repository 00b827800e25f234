"""Shared fixtures. Constants live in tests/helpers.py; the re-export below is only for the
tests/localcloud modules that still import them from here (being moved by another change)."""

from __future__ import annotations

import pytest

from helpers import AOAI_KEY_CANARY, ENV_DIR, FIXTURES, GATEWAY_KEY_CANARY, REPO

__all__ = ["AOAI_KEY_CANARY", "ENV_DIR", "FIXTURES", "GATEWAY_KEY_CANARY", "REPO", "canary_env"]


@pytest.fixture
def canary_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY, "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values
