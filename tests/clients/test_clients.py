"""client-config renderers: each output parsed in its own format and its fields checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from aigw import clients
from aigw.clients import render_client
from aigw.clients.base import api_base
from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.config.upstreams import ModelKind
from helpers import ENV_DIR, GATEWAY_KEY_CANARY, REPO

URL = "https://pvc-dev-aigateway-ca-san.example.southafricanorth.azurecontainerapps.io"
# How each client format is parsed: a client registering a new format needs its parser here.
PARSE: dict[str, Callable[[str], Any]] = {
    "yaml": yaml.safe_load,
    "toml": tomllib.loads,
    "json": json.loads,
}

# Runs the real CLI with the gateway commands registered (cli.py registers them once merged;
# register() is idempotent).


@pytest.fixture
def cfg() -> EnvConfig:
    return load_env("dev", ENV_DIR).config


def _with_chat_model(cfg: EnvConfig) -> EnvConfig:
    from aigw.config.upstreams import ModelConfig

    extra = ModelConfig(alias="gpt-4.1-mini", kind=ModelKind.chat, api_version="2024-10-21")
    return cfg.model_copy(update={"models": [*cfg.models, extra]})


def _aliases(cfg: EnvConfig, *kinds: ModelKind) -> set[str]:
    return {m.alias for m in cfg.models if m.kind in kinds}


def test_api_base_appends_v1_once() -> None:
    assert api_base("https://gw.example.com") == "https://gw.example.com/v1"
    assert api_base("https://gw.example.com/") == "https://gw.example.com/v1"
    assert api_base("https://gw.example.com/v1/") == "https://gw.example.com/v1"
    assert api_base("http://127.0.0.1:4000") == "http://127.0.0.1:4000/v1"


@pytest.mark.parametrize("chat", [False, True])
def test_continue_yaml(cfg: EnvConfig, chat: bool) -> None:
    cfg = _with_chat_model(cfg) if chat else cfg
    out = render_client("continue", cfg, URL)
    assert out.format == "yaml"
    doc = yaml.safe_load(out.text)
    assert doc["schema"] == "v1" and doc["name"] and doc["version"]
    models = {m["model"]: m for m in doc["models"]}
    assert set(models) == {m.alias for m in cfg.models}
    for m in doc["models"]:
        assert m["provider"] == "openai"
        assert m["apiBase"] == URL + "/v1"
        assert m["apiKey"] == "${{ secrets.AIGW_GATEWAY_KEY }}"
    for alias in _aliases(cfg, ModelKind.responses, ModelKind.chat):
        assert models[alias]["roles"] == ["chat", "edit", "apply"]
    for alias in _aliases(cfg, ModelKind.embeddings):
        assert models[alias]["roles"] == ["embed"]
    assert "text-embedding-3-large" in models


@pytest.mark.parametrize("chat", [False, True])
def test_codex_toml(cfg: EnvConfig, chat: bool) -> None:
    cfg = _with_chat_model(cfg) if chat else cfg
    out = render_client("codex", cfg, URL)
    assert out.format == "toml"
    doc = tomllib.loads(out.text)
    provider = doc["model_provider"]
    assert doc["model"] == "gpt-5.3-codex"  # the responses model is the default
    p = doc["model_providers"][provider]
    assert p["base_url"] == URL + "/v1"
    assert p["env_key"] == "AIGW_GATEWAY_KEY"
    assert p["wire_api"] == "responses"
    assert p["name"]
    profiles = doc["profiles"]
    assert {v["model"] for v in profiles.values()} == _aliases(
        cfg, ModelKind.responses, ModelKind.chat
    )
    assert all(v["model_provider"] == provider for v in profiles.values())


def test_roo_json(cfg: EnvConfig) -> None:
    out = render_client("roo", cfg, URL)
    doc = json.loads(out.text)
    profiles = doc["provider_profiles"]
    assert {p["Model"] for p in profiles} == _aliases(cfg, ModelKind.responses, ModelKind.chat)
    for p in profiles:
        assert p["API Provider"] == "OpenAI Compatible"
        assert p["Base URL"] == URL + "/v1"
        assert "AIGW_GATEWAY_KEY" in p["API Key"]
        assert p["role"] == "responses"
    idx = doc["codebase_indexing"]
    assert idx["Embedder Provider"] == "OpenAI Compatible"
    assert idx["Base URL"] == URL + "/v1"
    assert idx["Model"] == "text-embedding-3-large"
    assert idx["Model Dimension"] == 3072
    assert any("Qdrant" in n for n in out.notes)


def test_qoder_json(cfg: EnvConfig) -> None:
    cfg = _with_chat_model(cfg)
    out = render_client("qoder", cfg, URL)
    doc = json.loads(out.text)
    models = doc["modelConfigs"]["customModels"]
    assert {m["model"] for m in models} == _aliases(cfg, ModelKind.responses, ModelKind.chat)
    roles = {m["model"]: m["role"] for m in models}
    assert roles == {"gpt-5.3-codex": "responses", "gpt-4.1-mini": "chat"}
    for m in models:
        assert m["baseURL"] == URL + "/v1" and m["format"] == "openai"
        assert "AIGW_GATEWAY_KEY" in m["apiKey"]
    assert any("embeddings" in n for n in out.notes)


def test_key_env_name_follows_the_yaml(cfg: EnvConfig) -> None:
    gw = cfg.gateway.model_copy(update={"key_env": "TEAM_GW_KEY"})
    cfg = cfg.model_copy(update={"gateway": gw})
    assert tomllib.loads(render_client("codex", cfg, URL).text)["model_providers"]["aigw-dev"][
        "env_key"
    ] == ("TEAM_GW_KEY")
    cont = yaml.safe_load(render_client("continue", cfg, URL).text)
    assert {m["apiKey"] for m in cont["models"]} == {"${{ secrets.TEAM_GW_KEY }}"}


def test_unknown_client(cfg: EnvConfig) -> None:
    with pytest.raises(ValueError, match="unknown client"):
        render_client("cursor", cfg, URL)


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


@pytest.mark.parametrize("client", clients.names())
def test_cli_client_config_with_url_never_prints_the_key(
    client: str, canary_env: dict[str, str]
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    r = _run("client-config", "--env", "dev", "--client", client, "--url", URL, env=env)
    assert r.returncode == 0, r.stderr
    assert GATEWAY_KEY_CANARY not in r.stdout + r.stderr
    parse = PARSE[next(c.format for c in clients.all_clients() if c.name == client)]
    assert parse(r.stdout)  # stdout is exactly the client's file
    assert URL + "/v1" in r.stdout
    j = _run("client-config", "-e", "dev", "-c", client, "--url", URL, "-o", "json", env=env)
    assert j.returncode == 0, j.stderr
    data = json.loads(j.stdout)
    assert data["client"] == client and data["gateway_url"] == URL
    assert parse(data["text"])
    assert GATEWAY_KEY_CANARY not in j.stdout + j.stderr


def test_cli_client_config_bad_input(canary_env: dict[str, str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    r = _run("client-config", "--env", "dev", "--client", "cursor", "--url", URL, env=env)
    assert r.returncode == 2 and "cursor" in r.stderr
    r = _run("client-config", "--env", "dev", "--client", "codex", "--url", "gw.example", env=env)
    assert r.returncode == 2 and "https://" in r.stderr


def test_help_imports_no_azure_sdk() -> None:
    code = (
        "import sys; from aigw.cli.app import app; "
        "from typer.testing import CliRunner; r = CliRunner().invoke(app, ['--help']); "
        "assert 'rotate-key' in r.output and 'client-config' in r.output, r.output; "
        "bad = [m for m in sys.modules if m.startswith(('azure', 'aigw.azure', "
        "'aigw.gateway', 'aigw.engine.rotate'))]; "
        "assert not bad, bad"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert r.returncode == 0, r.stderr


def test_every_client_is_registered_once_and_listed_everywhere(cfg: EnvConfig) -> None:
    names = clients.names()
    assert len(names) == len(set(names)) and {"codex", "continue", "qoder", "roo"} <= set(names)
    for c in clients.all_clients():
        out = render_client(c.name, cfg, URL)
        assert out.client == c.name and out.format == c.format
        assert PARSE[c.format](out.text)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = clients.choices("\\|")  # the README's table escapes the pipes
    assert f"`aigw client-config --env E --client {row} [--url U]" in readme
    for c in clients.all_clients():
        assert c.title in readme.split("\n\n", 3)[1], f"README's intro names {c.title}"
    r = _run("client-config", "--help", env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert all(n in r.stdout for n in names), r.stdout
