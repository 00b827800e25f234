"""The smoke test's two-turn tool call is sent as Codex sends it (store false, encrypted
reasoning, every replayed item with its id), so a gateway that would break Codex fails its
smoke test (issue 24): through the real LiteLLM and the Azure OpenAI emulator's store rules,
with aigw's config it passes; with aigw_responses.py left out of the config it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigw.gateway import smoke
from failover_fixtures import CODEX, failover_config, multi_gateway, without_responses_keeper

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


@pytest.mark.parametrize("keeper", [True, False], ids=["aigw config", "without aigw_responses"])
def test_the_codex_shaped_tool_turns_pass_only_with_the_state_keeper(
    tmp_path: Path, keeper: bool
) -> None:
    cfg = failover_config(tmp_path)
    with (
        multi_gateway(cfg, tmp_path, mutate=None if keeper else without_responses_keeper) as gw,
        gw.client() as client,
    ):
        checks = {c.name: c for c in smoke._responses_checks(client, CODEX)}
    turns = checks[f"responses {CODEX} tool call"]
    assert turns.ok is keeper, turns.details
    if not keeper:
        assert "not persisted" in turns.details, turns.details
    assert checks[f"responses {CODEX}"].ok  # the single turn passes either way
