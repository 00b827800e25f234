"""What the client renderers share: the `/v1` base URL, the models by kind, the notes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aigw.config.model import EnvConfig
    from aigw.config.upstreams import ModelConfig


def api_base(url: str) -> str:
    """The OpenAI-style base URL of a gateway: `<url>/v1` (LiteLLM serves both; clients
    append /chat/completions, /responses or /embeddings to it)."""
    base = url.strip().rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def chat_models(config: EnvConfig) -> list[ModelConfig]:
    """Models a client can talk to (responses first: the codex models are the point)."""
    from aigw.config.upstreams import ModelKind

    order = {ModelKind.responses: 0, ModelKind.chat: 1}
    return sorted(
        (m for m in config.models if m.kind is not ModelKind.embeddings),
        key=lambda m: order[m.kind],
    )


def embedding_models(config: EnvConfig) -> list[ModelConfig]:
    from aigw.config.upstreams import ModelKind

    return [m for m in config.models if m.kind is ModelKind.embeddings]


def key_notes(config: EnvConfig) -> tuple[str, ...]:
    var = config.gateway.key_env
    return (
        f"The API key is the gateway key: the value of ${var} (never written here).",
        f"After 'aigw rotate-key --env {config.env}', update it wherever the client keeps it.",
    )


def responses_note(config: EnvConfig) -> tuple[str, ...]:
    from aigw.config.upstreams import ModelKind

    responses = [m.alias for m in config.models if m.kind is ModelKind.responses]
    if not responses:
        return ()
    return (
        f"{', '.join(responses)} serve only the Responses API upstream; the gateway (LiteLLM "
        "1.81.15, mode: responses) turns this client's Chat Completions calls, tool calls "
        "included, into Responses API calls.",
    )


def json_text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"
