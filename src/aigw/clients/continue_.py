"""Continue `config.yaml` (YAML): one `provider: openai` entry per model, roles by kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aigw.clients import Settings, registered
from aigw.clients.base import api_base, chat_models, embedding_models, key_notes

if TYPE_CHECKING:
    from aigw.config.model import EnvConfig

# Roles Continue gives a model it can chat with; embeddings models get "embed".
CHAT_ROLES = ("chat", "edit", "apply")
EMBED_ROLES = ("embed",)


@registered("continue", title="Continue", format="yaml")
def render(config: EnvConfig, url: str) -> Settings:
    from aigw.gateway.render import dump_yaml

    base = api_base(url)
    key_ref = "${{ secrets." + config.gateway.key_env + " }}"
    models: list[dict[str, Any]] = []
    for m in chat_models(config):
        models.append(
            {
                "name": f"{m.alias} (aigw {config.env})",
                "provider": "openai",
                "model": m.alias,
                "apiBase": base,
                "apiKey": key_ref,
                "roles": list(CHAT_ROLES),
                "capabilities": ["tool_use"],
            }
        )
    for m in embedding_models(config):
        models.append(
            {
                "name": f"{m.alias} (aigw {config.env})",
                "provider": "openai",
                "model": m.alias,
                "apiBase": base,
                "apiKey": key_ref,
                "roles": list(EMBED_ROLES),
            }
        )
    doc = {"name": f"aigw {config.env}", "version": "1.0.0", "schema": "v1", "models": models}
    return Settings(
        path="~/.continue/config.yaml",
        text=dump_yaml(doc),
        notes=(
            f"Continue reads secrets.{config.gateway.key_env} from ~/.continue/.env "
            f"({config.gateway.key_env}=<the gateway key>).",
            "Continue sends gpt-5* models to the Responses API by itself.",
            *key_notes(config),
        ),
    )
