"""The smoke test waits while Azure OpenAI refuses the gateway's identity for a role still
propagating (401 PermissionDenied), and only for that (gateway/upstream_wait.py). A real HTTP
server on 127.0.0.1 answers as LiteLLM passes Azure's refusal on."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from aigw.config.load import load_env
from aigw.gateway.upstream_wait import wait_for_identity
from helpers import ENV_DIR, key_mode

DENIED = {
    "error": {
        "code": "PermissionDenied",
        "message": "The principal `x` lacks the required data action "
        "`Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action`.",
    }
}


class _Server:
    def __init__(self, refusals: int, other: int | None = None) -> None:
        self.refusals, self.other, self.calls = refusals, other, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.calls += 1
                if outer.calls <= outer.refusals:
                    status, body = 401, DENIED
                elif outer.other is not None:
                    status, body = outer.other, {"error": {"message": "something else"}}
                else:
                    status, body = 200, {"data": [{"embedding": [0.0]}]}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def identity_cfg() -> Any:
    cfg = load_env("dev", ENV_DIR).config
    assert cfg.azure_openai.auth == "identity"
    return cfg


def test_waits_while_the_role_propagates_then_passes(identity_cfg: Any) -> None:
    server = _Server(refusals=2)
    said: list[str] = []
    with httpx.Client(base_url=server.url, trust_env=False) as client:
        check = wait_for_identity(
            client, identity_cfg, timeout=10, on_wait=said.append, interval=0.05
        )
    assert check is not None and check.ok and server.calls == 3
    assert said and "take effect" in said[0]


def test_gives_up_after_the_timeout_with_the_fix(identity_cfg: Any) -> None:
    server = _Server(refusals=10**6)
    with httpx.Client(base_url=server.url, trust_env=False) as client:
        check = wait_for_identity(client, identity_cfg, timeout=0.3, interval=0.05)
    assert check is not None and not check.ok and "rerun aigw smoke-test" in check.details


def test_any_other_answer_ends_the_wait(identity_cfg: Any) -> None:
    server = _Server(refusals=0, other=500)
    with httpx.Client(base_url=server.url, trust_env=False) as client:
        check = wait_for_identity(client, identity_cfg, timeout=10, interval=0.05)
    assert check is not None and check.ok and server.calls == 1


def test_key_mode_does_not_wait(identity_cfg: Any) -> None:
    server = _Server(refusals=10**6)
    with httpx.Client(base_url=server.url, trust_env=False) as client:
        assert wait_for_identity(client, key_mode(identity_cfg), timeout=10) is None
    assert server.calls == 0
