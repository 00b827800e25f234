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
# An alert webhook whose URL carries a token (never called: nothing leaves 127.0.0.1).
ALERT_WEBHOOK_CANARY = "https://hooks.example.invalid/aigw?token=canary-webhook-9e8d7c6b5a4f3e2d"


def key_mode(cfg: Any) -> Any:
    """`cfg` calling Azure OpenAI with a key: for tests that run their own Azure OpenAI
    emulator, not an account of the local cloud (identity: tests/engine/test_keyless.py)."""
    if cfg.azure_openai.auth == "key":
        return cfg
    upstream = cfg.azure_openai.model_copy(
        update={"auth": "key", "api_key_env": "AIGW_AZURE_OPENAI_API_KEY"}
    )
    return cfg.model_copy(update={"azure_openai": upstream})


# The local cloud's world the example environments expect (localcloud/world.yaml): the tests
# seed it as a user does, never from the YAML under test.
WORLD_FILE = REPO / "localcloud" / "world.yaml"


def world_accounts() -> list[Any]:
    """The world file's accounts, with the canary as the key its key_env names."""
    from aigw_localcloud.openai.world import load_file

    return load_file(WORLD_FILE, {"AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY})


def as_world_account(emulator: Any) -> Any:
    """`emulator` standing alone for the world file's first account (its name, place and
    deployments), as the daemon's first emulator does once seeded; returns it."""
    account = world_accounts()[0]
    emulator.account.update(
        {
            "name": account.name,
            "resource_group": account.resource_group,
            "location": account.location,
        }
    )
    emulator.set_deployments(account.deployments)
    return emulator
