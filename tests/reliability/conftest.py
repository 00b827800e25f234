"""Reliability suite: small by default; AIGW_RELIABILITY_SEEDS=50 for the full size."""

from __future__ import annotations

from typing import Any

import pytest

from .scenarios import clean_snapshot


@pytest.fixture(scope="session")
def clean() -> dict[str, Any]:
    """The normalised cloud state after one clean deploy of prod (no faults)."""
    return clean_snapshot()
