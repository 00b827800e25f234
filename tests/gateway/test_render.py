"""The rendered LiteLLM config: LiteLLM's facts (gateway/render.py), deterministic bytes, no
secret values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aigw.config.load import load_env
from aigw.gateway.render import (
    GATEWAY_KEY_FILE_NAME,
    container_args,
    render_gateway,
    volume_digest,
    write_files,
)
from helpers import ENV_DIR


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_rendered_config_follows_the_litellm_facts(env: str) -> None:
    cfg = load_env(env, ENV_DIR).config
    out = render_gateway(cfg)
    data = yaml.safe_load(out.config_yaml)
    models = {m["model_name"]: m for m in data["model_list"]}
    assert set(models) == {m.alias for m in cfg.models}
    for m in models.values():
        params = m["litellm_params"]
        assert params["api_base"] == "https://mys-shared-ai-swc.cognitiveservices.azure.com"
        assert not params["api_base"].endswith("/openai")
        assert isinstance(params["api_version"], str)  # a date would drop the model silently
        assert "api_key" not in params  # auth: identity (key mode: tests/test_keyless_render.py)
    assert data["litellm_settings"]["enable_azure_ad_token_refresh"] is True
    assert models["gpt-5.3-codex"]["model_info"]["mode"] == "responses"
    emb = models["text-embedding-3-large"]
    assert emb["model_info"]["base_model"] == "azure/text-embedding-3-large"
    assert emb["litellm_params"]["api_version"] == "2023-05-15"
    assert "api_version: '2023-05-15'" in out.config_yaml
    # no master key: the guard authenticates, with the gateway key from a mounted file
    assert "master_key" not in data["general_settings"]
    assert "LITELLM_GATEWAY_KEY" not in out.config_yaml and "LITELLM_GATEWAY_KEY" not in out.env
    assert data["general_settings"]["custom_auth"] == "aigw_guard.user_api_key_auth"
    assert set(out.files) == {
        "config.yaml",
        "aigw_guard.py",
        "aigw_usage.py",
        "aigw_responses.py",
        "aigw_limits.json",
    }
    assert out.files["config.yaml"] == out.config_yaml


def test_digest_covers_every_file_of_the_volume() -> None:
    """A change to the guard alone must roll a new revision, like a change to the config."""
    out = render_gateway(load_env("dev", ENV_DIR).config)
    assert out.sha256 == volume_digest(out.files)
    guard_changed = {**out.files, "aigw_guard.py": out.files["aigw_guard.py"] + "# changed\n"}
    config_changed = {**out.files, "config.yaml": out.config_yaml + "# changed\n"}
    assert len({out.sha256, volume_digest(guard_changed), volume_digest(config_changed)}) == 3


def test_args_carry_the_embeddings_api_version_workaround() -> None:
    cfg = load_env("prod", ENV_DIR).config
    args = container_args(cfg)
    assert args[:4] == ("--config", "/etc/litellm/config.yaml", "--port", "4000")
    assert args[args.index("--api_version") + 1] == "2023-05-15"


def test_same_input_same_bytes_and_a_change_changes_the_hash() -> None:
    cfg = load_env("dev", ENV_DIR).config
    a, b = render_gateway(cfg), render_gateway(load_env("dev", ENV_DIR).config)
    assert a.config_yaml == b.config_yaml and a.sha256 == b.sha256
    changed = cfg.model_copy(update={"models": cfg.models[:1]})
    assert render_gateway(changed).sha256 != a.sha256


def test_rendered_config_holds_no_secret_value(canary_env: dict[str, str]) -> None:
    out = render_gateway(load_env("prod", ENV_DIR).config)
    for value in canary_env.values():
        assert value not in out.config_yaml


def test_write_files_puts_the_gateway_key_beside_the_guard_owner_only(tmp_path: Path) -> None:
    rendered = render_gateway(load_env("dev", ENV_DIR).config)
    args = write_files(rendered, tmp_path, gateway_key="sk-key-0123456789")
    config_dir = Path(args[args.index("--config") + 1]).parent
    key_file = config_dir / GATEWAY_KEY_FILE_NAME
    assert key_file.read_text() == "sk-key-0123456789"
    assert {p.name for p in config_dir.iterdir()} == {*rendered.files, GATEWAY_KEY_FILE_NAME}
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in config_dir.iterdir())
    key_file.chmod(0o644)  # an existing file is made owner-only again
    write_files(rendered, tmp_path, gateway_key="sk-key-new")
    assert key_file.read_text() == "sk-key-new" and (key_file.stat().st_mode & 0o777) == 0o600
    write_files(rendered, tmp_path)  # no key: none left from before
    assert not key_file.exists()


def test_the_body_limit_reaches_the_guard_from_the_yaml() -> None:
    """gateway.max_request_mb -> AIGW_MAX_BODY_BYTES, which the guard reads at load."""
    from aigw.gateway.files import aigw_guard
    from aigw.gateway.render import BODY_LIMIT_VAR

    cfg = load_env("dev", ENV_DIR).config
    assert render_gateway(cfg).env[BODY_LIMIT_VAR] == str(8 * 1024 * 1024)
    gateway = cfg.gateway.model_copy(update={"max_request_mb": 2})
    smaller = render_gateway(cfg.model_copy(update={"gateway": gateway}))
    assert smaller.env[BODY_LIMIT_VAR] == str(2 * 1024 * 1024)
    assert aigw_guard.MAX_BODY_BYTES == 8 * 1024 * 1024  # the guard's own default: the same
    assert f'_int_env("{BODY_LIMIT_VAR}"' in Path(aigw_guard.__file__).read_text()
