"""Traffic capture for Microsoft's `oav validate-traffic`: one {liveRequest, liveResponse} file
per exchange, with secret material masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aigw_localcloud.core.capture import ENV_VAR
from helpers import AOAI_KEY_CANARY, GATEWAY_KEY_CANARY

from .harness import close_stack, make_stack


def test_a_deploy_is_captured_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured = tmp_path / "traffic"
    monkeypatch.setenv(ENV_VAR, str(captured))
    stack = make_stack(tmp_path / "stack", with_gateway=False)
    try:
        _, result = stack.deploy()
        assert result.ok
    finally:
        close_stack(stack)
    files = sorted(captured.glob("*.json"))
    assert len(files) >= 20
    docs = [json.loads(f.read_text()) for f in files]
    for doc in docs:
        assert set(doc) == {"liveRequest", "liveResponse"}
        assert doc["liveRequest"]["url"].startswith("https://127.0.0.1:")
        assert doc["liveResponse"]["statusCode"].isdigit()
    methods = {(d["liveRequest"]["method"], d["liveResponse"]["statusCode"]) for d in docs}
    assert ("PUT", "201") in methods or ("PUT", "200") in methods
    secret_puts = [
        d
        for d in docs
        if d["liveRequest"]["method"] == "PUT" and "/secrets/" in d["liveRequest"]["url"]
    ]
    assert secret_puts and all(d["liveRequest"]["body"]["value"] == "***" for d in secret_puts)
    text = "".join(f.read_text() for f in files)
    assert GATEWAY_KEY_CANARY not in text and AOAI_KEY_CANARY not in text
    auth = [d["liveRequest"]["headers"].get("authorization") for d in docs]
    assert any(auth) and all(a in (None, "***") for a in auth)
