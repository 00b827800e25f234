"""Issue 17 S1: a client holding the gateway key must not make LiteLLM call a URL of its choosing.

Every variant below was (or could be) a way to hand LiteLLM an upstream of the client's choosing
together with `os.environ/...` (LiteLLM resolves that syntax into the process's environment, so
the Azure OpenAI key or the gateway key itself would be sent to the client's URL). The real
LiteLLM 1.81.15 serves the rendered dev config; a canary listener on 127.0.0.1 stands for the
attacker's server. It must receive nothing, for every variant, and every variant is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

import attacks
from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.gateway.process import GatewayProcess
from attacks import Canary
from gateway_fixtures import rendered_gateway
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


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
    cfg = load_env("dev", ENV_DIR).config
    canary = Canary().start()
    try:
        with rendered_gateway(
            cfg,
            tmp_path_factory.mktemp("exfil"),
            gateway_key=GATEWAY_KEY_CANARY,
            aoai_key=AOAI_KEY_CANARY,
        ) as gw:
            yield Gateway(gw.config, gw.process, canary)
    finally:
        canary.close()


def test_no_variant_reaches_a_url_of_the_clients_choosing(gateway: Gateway) -> None:
    embed = next(m.alias for m in gateway.config.models if m.kind.value == "embeddings")
    codex = next(m.alias for m in gateway.config.models if m.kind.value == "responses")
    answers: dict[str, int] = {}
    with gateway.client() as c:
        for name, call in attacks.requests(embed, codex, gateway.canary.url).items():
            r = call(c)
            answers[name] = r.status_code
            assert GATEWAY_KEY_CANARY not in r.text and AOAI_KEY_CANARY not in r.text, name
    reached = [raw.split(b"\r\n", 1)[0].decode(errors="replace") for raw in gateway.canary.received]
    leaked = [raw for raw in gateway.canary.received if AOAI_KEY_CANARY.encode() in raw]
    assert reached == [], f"the gateway called the client's URL: {reached} (key: {len(leaked)}x)"
    # every variant is refused before routing (4xx), none served
    served = {n: s for n, s in answers.items() if not 400 <= s < 500}
    assert served == {}, served
    assert len(answers) >= 16


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
