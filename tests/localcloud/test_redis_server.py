"""The local cloud's Redis server (aigw_localcloud/cache/redis_server.py): the distribution's
real redis-server, loopback only, a password nobody sees in argv, no persistence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aigw_localcloud.cache.redis_server import RedisServer, RedisServerError, _ping


def test_a_real_server_answers_only_with_its_password_and_keeps_it_out_of_argv(
    tmp_path: Path,
) -> None:
    with RedisServer(tmp_path / "redis") as server:
        assert server.process is not None
        assert _ping(server.port, server.password)
        assert not _ping(server.port, "wrong-" + server.password)  # requirepass holds
        argv = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().decode()
        assert server.password not in argv
        listening = Path("/proc/net/tcp").read_text().lower()
        assert f"0100007f:{server.port:04x}" in listening  # 127.0.0.1 only
        assert f"00000000:{server.port:04x}" not in listening
        pid = server.process.pid
    assert not os.path.exists(f"/proc/{pid}/cmdline") or not _ping(server.port, server.password)
    assert not list((tmp_path / "redis").glob("*.rdb"))  # nothing persisted


def test_no_server_installed_is_one_line_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGW_REDIS_SERVER", str(tmp_path / "missing"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(os.path, "isfile", lambda p: False)
    with pytest.raises(RedisServerError) as err:
        RedisServer(tmp_path / "r").start()
    assert "apt-get install redis-server" in str(err.value)
    assert "\n" not in str(err.value)
