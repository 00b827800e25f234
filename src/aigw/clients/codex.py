"""Codex CLI `~/.codex/config.toml` (TOML): an `aigw-<env>` model provider on the Responses
API, and one profile per model so `codex --profile <name>` picks it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aigw.clients import Settings, registered
from aigw.clients.base import api_base, chat_models, key_notes

if TYPE_CHECKING:
    from aigw.config.model import EnvConfig


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


@registered("codex", title="Codex CLI", format="toml")
def render(config: EnvConfig, url: str) -> Settings:
    from aigw.config.upstreams import ModelKind

    chat = chat_models(config)
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
        *key_notes(config),
    ]
    if any(m.kind is ModelKind.chat for m in chat):
        notes.append(
            'wire_api = "responses" applies to every profile: LiteLLM serves chat models '
            "on /v1/responses too."
        )
    return Settings(path="~/.codex/config.toml", text="\n".join(lines) + "\n", notes=tuple(notes))
