"""Qoder CLI `settings.json` `modelConfigs.customModels` (BYOK, JSON): one OpenAI-format entry
per chat model. Qoder has no setting for a custom embeddings model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aigw.clients import Settings, registered
from aigw.clients.base import (
    api_base,
    chat_models,
    embedding_models,
    json_text,
    key_notes,
    responses_note,
)

if TYPE_CHECKING:
    from aigw.config.model import EnvConfig


@registered("qoder", title="Qoder", format="json")
def render(config: EnvConfig, url: str) -> Settings:
    from aigw.config.upstreams import ModelKind

    base = api_base(url)
    embed = ", ".join(m.alias for m in embedding_models(config)) or "no embeddings model"
    models = [
        {
            "provider": "openai",
            "apiKey": f"<value of ${config.gateway.key_env}>",
            "model": m.alias,
            "baseURL": base,
            "key": f"aigw-{config.env}-{m.alias}",
            "displayName": f"{m.alias} (aigw {config.env})",
            "format": "openai",
            "isReasoning": m.kind is ModelKind.responses,
            "isVl": False,
            "role": m.kind.value,
        }
        for m in chat_models(config)
    ]
    doc = {"modelConfigs": {"customModels": models}}
    return Settings(
        path="~/.qoder/settings.json (Qoder CLI)",
        text=json_text(doc),
        notes=(
            "Replace apiKey with the gateway key: Qoder stores it in plain text, so keep the "
            "file owner-only; remove the 'role' fields (aigw's annotation) if Qoder rejects them.",
            "Qoder's IDE 'Models' panel offers only its listed providers (no custom base URL); "
            "newer Qoder CLI versions add BYOK models through /model -> Custom instead of "
            "settings.json.",
            f"Qoder has no custom embeddings setting: {embed} is not used by it.",
            *responses_note(config),
            *key_notes(config),
        ),
    )
