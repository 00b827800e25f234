"""Issue 17 S7: the local-cloud daemon outlives the command that started it, so it must not
keep that command's secrets in its environment (readable in /proc/<pid>/environ)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aigw.engine import localcloud as daemon
from conftest import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY

CANARIES = {
    "AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY,
    "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY,
    "TF_VAR_gateway_key": "canary-tfvar-gateway-5b1c",
    "AZURE_CLIENT_SECRET": "canary-azure-client-secret-9d8e",
    "ARM_CLIENT_SECRET": "canary-arm-client-secret-1a2b",
    "MY_TEAM_GATEWAY_KEY": "canary-custom-key-env-3c4d",  # a YAML may name any variable
    "GITHUB_TOKEN": "canary-github-token-7e6f",
}


def test_daemon_starts_with_a_scrubbed_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in CANARIES.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AIGW_CACHE_DIR", "/root/.cache/aigw")  # what it needs stays
    state = tmp_path / "cloud"
    ep = daemon.ensure_running(state)
    try:
        raw = Path(f"/proc/{ep.pid}/environ").read_bytes()
        names = {item.split(b"=", 1)[0].decode() for item in raw.split(b"\0") if item}
        for name, value in CANARIES.items():
            assert value.encode() not in raw, name
            assert name not in names, name
        assert {"PATH", "HOME", "AIGW_CACHE_DIR"} <= names, names
        assert daemon.status(state) is not None  # and it still works
    finally:
        daemon.stop(state)
