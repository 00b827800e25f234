"""Environment files: shipped ones load; broken ones fail in one line naming file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aigw.config.load import load_env, merge
from aigw.config.model import EnvConfig
from aigw.config.upstreams import ModelKind
from aigw.errors import ConfigError, MissingSecretError, UserError
from aigw.secrets import read_secret
from helpers import ENV_DIR, FIXTURES

BAD = sorted((FIXTURES / "bad_env").glob("*.yaml"))


def _header(path: Path) -> tuple[str, str]:
    lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    expect = lines[0].removeprefix("# expect: ").strip()
    field = lines[1].removeprefix("# field: ").strip()
    return expect, field


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_shipped_environments_load(env: str) -> None:
    cfg = load_env(env, ENV_DIR).config
    assert cfg.env == env
    assert cfg.project == "aigateway"
    assert cfg.location == "southafricanorth" and cfg.location_short == "san"
    assert cfg.azure_openai.endpoint == "https://mys-shared-ai-swc.cognitiveservices.azure.com"
    kinds = {m.alias: m.kind for m in cfg.models}
    assert kinds == {
        "gpt-5.3-codex": ModelKind.responses,
        "text-embedding-3-large": ModelKind.embeddings,
    }
    embed = next(m for m in cfg.models if m.kind is ModelKind.embeddings)
    assert (embed.api_version, embed.dimensions) == ("2023-05-15", 3072)
    assert cfg.gateway.litellm_version == "1.81.15"
    assert cfg.gateway.port == 4000 and cfg.gateway.max_replicas == 3
    assert cfg.all_tags()["managed-by"] == "aigw" and cfg.all_tags()["env"] == env


def test_prod_differs_from_base_only_where_it_says() -> None:
    dev, prod = load_env("dev", ENV_DIR).config, load_env("prod", ENV_DIR).config
    assert (dev.gateway.min_replicas, prod.gateway.min_replicas) == (0, 1)
    assert (dev.key_vault.purge_protection, prod.key_vault.purge_protection) == (False, True)
    assert dev.models == prod.models


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_broken_file_gives_one_clear_error(path: Path, tmp_path: Path) -> None:
    expect, field = _header(path)
    shutil.copy(path, tmp_path / "broken.yaml")
    if not expect:  # the control case: a minimal valid file
        assert isinstance(load_env("broken", tmp_path).config, EnvConfig)
        return
    with pytest.raises(ConfigError) as info:
        load_env("broken", tmp_path)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith("broken.yaml") or "broken.yaml" in line.split(":")[0]
    assert expect in line, line
    if field:
        assert field in line, line


def test_error_names_the_file_that_sets_the_value(tmp_path: Path) -> None:
    for name in ("base.yaml", "dev.yaml"):
        shutil.copy(ENV_DIR / name, tmp_path / name)
    base = (tmp_path / "base.yaml").read_text()
    (tmp_path / "base.yaml").write_text(base.replace("port: 4000", "port: 99999"))
    with pytest.raises(ConfigError) as info:
        load_env("dev", tmp_path)
    assert info.value.file.endswith("base.yaml") and info.value.field == "gateway.port"


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    src = (FIXTURES / "bad_env" / "valid_minimal.yaml").read_text()
    (tmp_path / "x.yaml").write_text(src.replace("  image:", "  imgae: x\n  image:"))
    with pytest.raises(ConfigError) as info:
        load_env("x", tmp_path)
    assert "did you mean 'image'" in info.value.one_line()


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(UserError) as info:
        load_env("qa", ENV_DIR)
    assert "available: dev, prod, staging" in info.value.one_line()  # base.yaml is abstract


def test_models_merge_by_alias() -> None:
    base = {"models": [{"alias": "a", "kind": "chat"}, {"alias": "b", "kind": "chat"}]}
    child = {
        "models": [
            {"alias": "b", "api_version": "v1"},
            {"alias": "c"},
            {"alias": "a", "remove": True},
        ]
    }
    assert merge(base, child)["models"] == [
        {"alias": "b", "kind": "chat", "api_version": "v1"},
        {"alias": "c"},
    ]


def test_huge_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("# " + "x" * 300_000 + "\n")
    with pytest.raises(ConfigError, match="256 KiB"):
        load_env("big", tmp_path)


def test_extends_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="loop"):
        load_env("a", tmp_path)


def test_secret_read_from_named_var_then_scaffold_fallback() -> None:
    s = read_secret("AIGW_GATEWAY_KEY", {"TF_VAR_gateway_key": "sk-fallback-value"}, what="key")
    assert s.reveal() == "sk-fallback-value" and s.source == "TF_VAR_gateway_key"
    assert "sk-fallback-value" not in repr(s) + str(s)
    primary = read_secret(
        "AIGW_GATEWAY_KEY",
        {"AIGW_GATEWAY_KEY": "sk-primary-1", "TF_VAR_gateway_key": "sk-fallback-value"},
        what="key",
    )
    assert primary.reveal() == "sk-primary-1"
    with pytest.raises(MissingSecretError) as info:
        read_secret("AIGW_GATEWAY_KEY", {"AIGW_GATEWAY_KEY": "  "}, what="the gateway key")
    assert "$AIGW_GATEWAY_KEY or $TF_VAR_gateway_key" in info.value.one_line()
