"""Settings for coding clients that use the gateway as an OpenAI-compatible endpoint (pure).

One renderer per client, each in the client's own format: Continue `config.yaml` (YAML), Codex
CLI `~/.codex/config.toml` (TOML), Roo Code and Qoder (JSON: the fields their settings ask for).
The gateway key is only ever referenced by the name of its environment variable
(`gateway.key_env`); no function here sees a key value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aigw.config.model import EnvConfig, ModelConfig, ModelKind
from aigw.gateway.config import dump_yaml

CLIENTS = ("roo", "qoder", "continue", "codex")
# Roles Continue gives a model it can chat with; embeddings models get "embed".
CONTINUE_CHAT_ROLES = ("chat", "edit", "apply")
CONTINUE_EMBED_ROLES = ("embed",)


@dataclass(frozen=True)
class ClientConfig:
    client: str
    format: str  # yaml | toml | json
    path: str  # where the text goes (a file, or the client's settings screen)
    text: str  # the settings in the client's own format
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "format": self.format,
            "path": self.path,
            "text": self.text,
            "notes": list(self.notes),
        }


def api_base(url: str) -> str:
    """The OpenAI-style base URL of a gateway: `<url>/v1` (LiteLLM serves both; clients
    append /chat/completions, /responses or /embeddings to it)."""
    base = url.strip().rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def _chat_models(config: EnvConfig) -> list[ModelConfig]:
    """Models a client can talk to (responses first: the codex models are the point)."""
    order = {ModelKind.responses: 0, ModelKind.chat: 1}
    return sorted(
        (m for m in config.models if m.kind is not ModelKind.embeddings),
        key=lambda m: order[m.kind],
    )


def _embedding_models(config: EnvConfig) -> list[ModelConfig]:
    return [m for m in config.models if m.kind is ModelKind.embeddings]


def _key_notes(config: EnvConfig) -> tuple[str, ...]:
    var = config.gateway.key_env
    return (
        f"The API key is the gateway key: the value of ${var} (never written here).",
        f"After 'aigw rotate-key --env {config.env}', update it wherever the client keeps it.",
    )


def _responses_note(config: EnvConfig) -> tuple[str, ...]:
    responses = [m.alias for m in config.models if m.kind is ModelKind.responses]
    if not responses:
        return ()
    return (
        f"{', '.join(responses)} serve only the Responses API upstream; the gateway (LiteLLM "
        "1.81.15, mode: responses) turns this client's Chat Completions calls, tool calls "
        "included, into Responses API calls.",
    )


def continue_config(config: EnvConfig, url: str) -> ClientConfig:
    """Continue `config.yaml`: one `provider: openai` entry per model, roles by kind."""
    base = api_base(url)
    key_ref = "${{ secrets." + config.gateway.key_env + " }}"
    models: list[dict[str, Any]] = []
    for m in _chat_models(config):
        models.append(
            {
                "name": f"{m.alias} (aigw {config.env})",
                "provider": "openai",
                "model": m.alias,
                "apiBase": base,
                "apiKey": key_ref,
                "roles": list(CONTINUE_CHAT_ROLES),
                "capabilities": ["tool_use"],
            }
        )
    for m in _embedding_models(config):
        models.append(
            {
                "name": f"{m.alias} (aigw {config.env})",
                "provider": "openai",
                "model": m.alias,
                "apiBase": base,
                "apiKey": key_ref,
                "roles": list(CONTINUE_EMBED_ROLES),
            }
        )
    doc = {"name": f"aigw {config.env}", "version": "1.0.0", "schema": "v1", "models": models}
    return ClientConfig(
        client="continue",
        format="yaml",
        path="~/.continue/config.yaml",
        text=dump_yaml(doc),
        notes=(
            f"Continue reads secrets.{config.gateway.key_env} from ~/.continue/.env "
            f"({config.gateway.key_env}=<the gateway key>).",
            "Continue sends gpt-5* models to the Responses API by itself.",
            *_key_notes(config),
        ),
    )


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def codex_config(config: EnvConfig, url: str) -> ClientConfig:
    """Codex CLI `~/.codex/config.toml`: an `aigw` model provider on the Responses API, and one
    profile per model so `codex --profile <name>` picks it."""
    chat = _chat_models(config)
    responses = [m for m in chat if m.kind is ModelKind.responses]
    default = (responses or chat)[0].alias if chat else ""
    provider = f"aigw-{config.env}"
    lines = [
        f"# aigw gateway, environment {config.env}: the key comes from ${config.gateway.key_env}",
        f"model = {_toml_str(default)}",
        f"model_provider = {_toml_str(provider)}",
        "",
        f"[model_providers.{provider}]",
        f"name = {_toml_str(f'aigw gateway ({config.env})')}",
        f"base_url = {_toml_str(api_base(url))}",
        f"env_key = {_toml_str(config.gateway.key_env)}",
        'wire_api = "responses"',
    ]
    for m in chat:
        lines += [
            "",
            f"[profiles.{_toml_str(f'{provider}-{m.alias}')}]",
            f"model = {_toml_str(m.alias)}",
            f"model_provider = {_toml_str(provider)}",
        ]
    notes = [
        f"export {config.gateway.key_env}=<the gateway key> in the shell that runs codex.",
        *_key_notes(config),
    ]
    if any(m.kind is ModelKind.chat for m in chat):
        notes.append(
            'wire_api = "responses" applies to every profile: LiteLLM serves chat models '
            "on /v1/responses too."
        )
    return ClientConfig(
        client="codex",
        format="toml",
        path="~/.codex/config.toml",
        text="\n".join(lines) + "\n",
        notes=tuple(notes),
    )


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def roo_config(config: EnvConfig, url: str) -> ClientConfig:
    """Roo Code: a provider profile "OpenAI Compatible" per chat model, and the codebase indexing
    embedder (OpenAI Compatible, model and dimension)."""
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
        for m in _chat_models(config)
    ]
    embed = _embedding_models(config)
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
    return ClientConfig(
        client="roo",
        format="json",
        path="Roo Code settings: Providers (one configuration profile each) and Codebase Indexing",
        text=_json(doc),
        notes=(
            "Codebase indexing also needs a Qdrant URL (e.g. http://localhost:6333): "
            "Roo Code stores the vectors there.",
            *_responses_note(config),
            *_key_notes(config),
        ),
    )


def qoder_config(config: EnvConfig, url: str) -> ClientConfig:
    """Qoder CLI `settings.json` `modelConfigs.customModels` (BYOK): one OpenAI-format entry per
    chat model. Qoder has no setting for a custom embeddings model."""
    base = api_base(url)
    embed = ", ".join(m.alias for m in _embedding_models(config)) or "no embeddings model"
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
        for m in _chat_models(config)
    ]
    doc = {"modelConfigs": {"customModels": models}}
    return ClientConfig(
        client="qoder",
        format="json",
        path="~/.qoder/settings.json (Qoder CLI)",
        text=_json(doc),
        notes=(
            "Replace apiKey with the gateway key: Qoder stores it in plain text, so keep the "
            "file owner-only; remove the 'role' fields (aigw's annotation) if Qoder rejects them.",
            "Qoder's IDE 'Models' panel offers only its listed providers (no custom base URL); "
            "newer Qoder CLI versions add BYOK models through /model -> Custom instead of "
            "settings.json.",
            f"Qoder has no custom embeddings setting: {embed} is not used by it.",
            *_responses_note(config),
            *_key_notes(config),
        ),
    )


RENDERERS: dict[str, Callable[[EnvConfig, str], ClientConfig]] = {
    "continue": continue_config,
    "codex": codex_config,
    "roo": roo_config,
    "qoder": qoder_config,
}


def render_client(client: str, config: EnvConfig, url: str) -> ClientConfig:
    try:
        renderer = RENDERERS[client]
    except KeyError:
        raise ValueError(f"unknown client {client!r}: use one of {', '.join(CLIENTS)}") from None
    return renderer(config, url)
