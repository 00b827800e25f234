"""Roo Code (JSON: the fields its settings screens ask for): a provider profile "OpenAI
Compatible" per chat model, and the codebase indexing embedder (model and dimension)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


@registered("roo", title="Roo Code", format="json")
def render(config: EnvConfig, url: str) -> Settings:
    base = api_base(url)
    key = f"value of ${config.gateway.key_env}"
    profiles = [
        {
            "profile": f"aigw-{config.env}-{m.alias}",
            "API Provider": "OpenAI Compatible",
            "Base URL": base,
            "API Key": key,
            "Model": m.alias,
            "role": m.kind.value,
        }
        for m in chat_models(config)
    ]
    embed = embedding_models(config)
    indexing: dict[str, Any] = {}
    if embed:
        m = embed[0]
        indexing = {
            "Embedder Provider": "OpenAI Compatible",
            "Base URL": base,
            "API Key": key,
            "Model": m.alias,
            "Model Dimension": m.dimensions,
            "role": "embeddings",
        }
    doc = {
        "client": "Roo Code",
        "env": config.env,
        "provider_profiles": profiles,
        "codebase_indexing": indexing,
    }
    return Settings(
        path="Roo Code settings: Providers (one configuration profile each) and Codebase Indexing",
        text=json_text(doc),
        notes=(
            "Codebase indexing also needs a Qdrant URL (e.g. http://localhost:6333): "
            "Roo Code stores the vectors there.",
            *responses_note(config),
            *key_notes(config),
        ),
    )
