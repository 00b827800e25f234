"""Shared test constants: the repository's paths and the canary secrets (import these; never
import from a conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ENV_DIR = REPO / "environments"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Canary secret values: tests assert these never appear in any output, file or journal.
GATEWAY_KEY_CANARY = "sk-canary-gateway-7f3a9c2e51d04b8e"
AOAI_KEY_CANARY = "canary-aoai-key-0d9e8f7a6b5c4d3e2f1a"


def key_mode(cfg: Any) -> Any:
    """`cfg` calling Azure OpenAI with a key: for tests that run their own Azure OpenAI
    emulator, not an account of the local cloud (identity: tests/engine/test_keyless.py)."""
    if cfg.azure_openai.auth == "key":
        return cfg
    upstream = cfg.azure_openai.model_copy(
        update={"auth": "key", "api_key_env": "AIGW_AZURE_OPENAI_API_KEY"}
    )
    return cfg.model_copy(update={"azure_openai": upstream})
