"""Issue 26's configuration: a price per model and the default limits of developer keys
(config/limits.py), with bad values as one line naming the file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aigw.config.limits import LimitStore, Price
from aigw.config.load import load_env
from aigw.errors import ConfigError
from helpers import ENV_DIR


def _env(tmp_path: Path, overlay: str) -> Path:
    shutil.copy(ENV_DIR / "base.yaml", tmp_path / "base.yaml")
    (tmp_path / "t.yaml").write_text("extends: base.yaml\n" + overlay)
    return tmp_path


PRICED = """models:
  - alias: gpt-5.3-codex
    kind: responses
    api_version: "2025-04-01-preview"
    price: {input: 1.75, cached_input: 0.175, output: 14}
  - alias: text-embedding-3-large
    kind: embeddings
    api_version: "2023-05-15"
    dimensions: 3072
    price: {input: 0.13, output: 0}
"""


def test_the_cost_of_a_call_prices_cached_input_apart_and_reasoning_as_output() -> None:
    p = Price(input=1.75, cached_input=0.175, output=14)
    # 10k input of which 4k cached, 2k output (reasoning included in the output count)
    assert p.cost(10_000, 4_000, 2_000) == pytest.approx(
        (6_000 * 1.75 + 4_000 * 0.175 + 2_000 * 14) / 1e6
    )
    assert Price(input=2, output=8).cost(1_000, 1_000, 0) == pytest.approx(0.002)  # no cached price
    assert p.cost(100, 500, 0) == pytest.approx(100 * 0.175 / 1e6)  # cached never above input


def test_defaults_load_and_a_budget_needs_a_price_on_every_model(tmp_path: Path) -> None:
    cfg = load_env(
        "t",
        _env(
            tmp_path, PRICED + "limits: {store: redis, tpm: 20000, rpm: 30, monthly_budget: 50}\n"
        ),
    ).config
    assert (cfg.limits.store, cfg.limits.tpm, cfg.limits.rpm) == (LimitStore.redis, 20000, 30)
    assert cfg.limits.monthly_budget == 50.0
    assert [m.price.output for m in cfg.models if m.price] == [14.0, 0.0]
    unpriced = PRICED.replace("    price: {input: 0.13, output: 0}\n", "")
    with pytest.raises(ConfigError) as info:
        load_env("t", _env(tmp_path, unpriced + "limits: {monthly_budget: 50}\n"))
    line = info.value.one_line()
    assert "text-embedding-3-large" in line and "price" in line and "\n" not in line


@pytest.mark.parametrize(
    ("overlay", "field", "expect"),
    [
        ("limits: {tpm: 0}\n", "limits.tpm", "greater than or equal to 1"),
        ("limits: {rpm: '30'}\n", "limits.rpm", "integer"),
        ("limits: {store: memcached}\n", "limits.store", "'none' or 'redis'"),
        (PRICED.replace("input: 1.75", "input: '1.75'"), "price.input", "not a number"),
    ],
)
def test_bad_limits_are_one_line_naming_the_field(
    tmp_path: Path, overlay: str, field: str, expect: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_env("t", _env(tmp_path, overlay))
    line = info.value.one_line()
    assert "t.yaml" in line and field in line and expect in line, line
    assert "\n" not in line


def test_validate_says_plainly_that_limits_without_a_store_are_per_replica(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    _env(tmp_path, PRICED + "gateway: {max_replicas: 3}\nlimits: {rpm: 30, monthly_budget: 5}\n")
    r = subprocess.run(
        [sys.executable, "-m", "aigw", "validate", "--env", "t", "--env-dir", str(tmp_path),
         "-o", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    notes = json.loads(r.stdout)["notes"]
    assert any("each of up to 3 gateway processes" in n for n in notes), notes
    assert any("a restart" in n for n in notes), notes
    (tmp_path / "t.yaml").write_text(
        "extends: base.yaml\n" + PRICED + "limits: {store: redis, rpm: 30, monthly_budget: 5}\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "aigw", "validate", "--env", "t", "--env-dir", str(tmp_path),
         "-o", "json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert json.loads(r.stdout)["notes"] == []
