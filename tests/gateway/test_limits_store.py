"""`aigw serve` and `limits.store: redis` (gateway/serve.py shared_store): a real Redis server
of this machine with --cloud local, the user's own store otherwise, one clear line without."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.errors import UserError
from aigw.gateway import serve
from aigw.gateway.render import REDIS_HOST_VAR, REDIS_PASSWORD_VAR, REDIS_PORT_VAR
from aigw_localcloud.cache.redis_server import _ping
from helpers import ENV_DIR


def _cfg(tmp_path: Path, store: str) -> EnvConfig:
    for name in ("base.yaml", "dev.yaml"):
        shutil.copy(ENV_DIR / name, tmp_path / name)
    (tmp_path / "s.yaml").write_text(f"extends: dev.yaml\nlimits: {{store: {store}}}\n")
    return load_env("s", tmp_path).config


def test_local_serve_runs_its_own_redis_for_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGW_CACHE_DIR", str(tmp_path / "cache"))
    for name in (REDIS_HOST_VAR, REDIS_PORT_VAR, REDIS_PASSWORD_VAR):
        monkeypatch.delenv(name, raising=False)
    said: list[str] = []
    with serve.shared_store(_cfg(tmp_path, "redis"), "local", said.append) as env:
        port, password = int(env[REDIS_PORT_VAR]), env[REDIS_PASSWORD_VAR]
        assert env[REDIS_HOST_VAR] == "127.0.0.1" and _ping(port, password)
        assert password not in " ".join(said)
    assert not _ping(port, password)  # gone with the run
    with serve.shared_store(_cfg(tmp_path, "none"), "local", said.append) as env:
        assert env == {}


def test_serve_against_azure_needs_the_stores_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (REDIS_HOST_VAR, REDIS_PORT_VAR, REDIS_PASSWORD_VAR):
        monkeypatch.delenv(name, raising=False)
    cfg = _cfg(tmp_path, "redis")
    with pytest.raises(UserError) as err, serve.shared_store(cfg, "azure", print):
        pass
    assert "$AIGW_REDIS_HOST" in err.value.one_line() and "--cloud local" in err.value.one_line()
    given = {REDIS_HOST_VAR: "cache.example", REDIS_PORT_VAR: "10000", REDIS_PASSWORD_VAR: "x" * 20}
    for k, v in given.items():
        monkeypatch.setenv(k, v)
    with serve.shared_store(cfg, "azure", print) as env:
        assert env == given
