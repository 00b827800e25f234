"""Several upstreams per model (issue 16): the YAML, its checks, one line naming file/field/fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigw.config.load import load_env
from aigw.config.upstreams import PRIMARY
from aigw.errors import ConfigError
from helpers import ENV_DIR

TWO_UPSTREAMS = """extends: base.yaml
upstreams:
  - name: payg
    endpoint: https://payg-swc.openai.azure.com
    auth: key
  - name: east
    endpoint: https://east.openai.azure.com
models:
  - alias: gpt-5.3-codex
    kind: responses
    api_version: "2025-04-01-preview"
    upstreams:
      - {upstream: primary, order: 1}
      - {upstream: payg, deployment: codex-payg, order: 2}
"""


def _env(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "environments"
    d.mkdir()
    (d / "base.yaml").write_bytes((ENV_DIR / "base.yaml").read_bytes())
    (d / "qa.yaml").write_text(text)
    return d


def test_upstreams_load_with_their_own_auth_and_routes(tmp_path: Path) -> None:
    cfg = load_env("qa", _env(tmp_path, TWO_UPSTREAMS)).config
    assert list(cfg.all_upstreams()) == [PRIMARY, "payg", "east"]
    assert cfg.upstream("payg").auth == "key"
    assert cfg.upstream("payg").key_env == "AIGW_AZURE_OPENAI_API_KEY_PAYG"
    assert cfg.upstream("east").auth == "identity"
    assert list(cfg.used_upstreams()) == [PRIMARY, "payg"]  # east serves no model
    codex = next(m for m in cfg.models if m.alias == "gpt-5.3-codex")
    assert [(r.upstream, codex.route_deployment(r), r.order) for r in codex.routes] == [
        (PRIMARY, "gpt-5.3-codex", 1),
        ("payg", "codex-payg", 2),
    ]
    embed = next(m for m in cfg.models if m.kind.value == "embeddings")
    assert [r.upstream for r in embed.routes] == [PRIMARY]  # the default: only the primary
    assert cfg.multi_upstream


def test_every_shipped_environment_stays_single_upstream() -> None:
    for env in ("dev", "staging", "prod"):
        cfg = load_env(env, ENV_DIR).config
        assert not cfg.multi_upstream and cfg.upstreams == []


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (("upstream: payg,", "upstream: pyag,"), "(top level)", "'pyag' is not defined"),
        (("name: east", "name: payg"), "(top level)", "'payg' is named twice"),
        (("name: east", "name: primary"), "(top level)", "azure_openai block's name"),
        (
            ("{upstream: primary, order: 1}", "{upstream: payg, order: 1}"),
            "upstreams",
            "'payg' is listed twice",
        ),
        (
            ("{upstream: primary, order: 1}", "{upstream: primary, weight: 3}"),
            "upstreams",
            "mix order and weight",
        ),
        (("order: 2}", "order: 0}"), "order", "greater than or equal to 1"),
    ],
)
def test_bad_upstreams_are_one_line_naming_file_field_and_fix(
    tmp_path: Path, change: tuple[str, str], field: str, says: str
) -> None:
    assert change[0] in TWO_UPSTREAMS
    with pytest.raises(ConfigError) as info:
        load_env("qa", _env(tmp_path, TWO_UPSTREAMS.replace(*change)))
    line = info.value.one_line()
    assert "qa.yaml" in line or "base.yaml" in line, line
    assert field in line and says in line, line
    assert "\n" not in line and "Traceback" not in line
    assert info.value.exit_code == 2
