"""The rendered config of each environment, served by the real LiteLLM as the container would
start it, in front of the Azure OpenAI emulator. And the scaffold's mistakes, re-introduced into
the rendered text, are caught by the same checks (the checks can fail)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.gateway import smoke
from aigw.gateway.process import GatewayProcess
from aigw.gateway.render import render_gateway
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from gateway_fixtures import ConnectionWatcher, ProxyTrap, litellm_env_for_tests, rendered_gateway
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY

pytestmark = [pytest.mark.litellm, pytest.mark.slow]


@dataclass
class Running:
    config: EnvConfig
    gateway: GatewayProcess
    aoai: AzureOpenAIEmulator
    trap: ProxyTrap
    watcher: ConnectionWatcher

    def client(self, key: str | None = GATEWAY_KEY_CANARY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.gateway.url, headers=headers, timeout=60, trust_env=False)


def _serve(
    env: str, workdir: Path, mutate: Callable[[str], str] = lambda text: text
) -> Iterator[Running]:
    trap = ProxyTrap().start()
    try:
        with rendered_gateway(
            load_env(env, ENV_DIR).config,
            workdir,
            gateway_key=GATEWAY_KEY_CANARY,
            aoai_key=AOAI_KEY_CANARY,
            mutate=mutate,
            environ=trap.environ(),
        ) as gw:
            watcher = ConnectionWatcher(gw.process.pid).start()
            try:
                yield Running(gw.config, gw.process, gw.aoai, trap, watcher)
            finally:
                watcher.stop()
    finally:
        trap.stop()


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    yield from _serve(request.param, tmp_path_factory.mktemp(request.param))


def test_auth_models_embeddings_responses_and_no_outside_connection(running: Running) -> None:
    with running.client(key=None) as anon:
        assert anon.get("/v1/models").status_code == 401
    with running.client() as c:
        listed = {m["id"] for m in c.get("/v1/models").json()["data"]}
        assert listed == {m.alias for m in running.config.models}
        r = c.post("/v1/embeddings", json={"model": "text-embedding-3-large", "input": "hello"})
        assert r.status_code == 200 and len(r.json()["data"][0]["embedding"]) == 3072
        r = c.post("/v1/responses", json={"model": "gpt-5.3-codex", "input": "hi"})
        assert r.status_code == 200 and r.json()["status"] == "completed"
    seen = {(e.path, e.query.get("api-version")) for e in running.aoai.journal}
    assert ("/openai/deployments/text-embedding-3-large/embeddings", "2023-05-15") in seen
    assert ("/openai/responses", "2025-04-01-preview") in seen
    assert running.trap.requests == []
    assert running.watcher.non_loopback() == set()
    assert GATEWAY_KEY_CANARY not in running.gateway.log_path.read_text(errors="replace")


def test_full_smoke_test_passes(running: Running) -> None:
    checks = smoke.run_smoke(running.gateway.url, GATEWAY_KEY_CANARY, running.config, timeout=30)
    assert all(c.ok for c in checks), [c.to_json() for c in checks if not c.ok]


REGRESSIONS = {
    # the scaffold's api_base for the codex model: /openai doubled upstream
    "api_base with /openai": lambda t: re.sub(r"(api_base: \S+)", r"\1/openai", t),
    # an unquoted api-version reads back as a date: LiteLLM drops the model
    "unquoted api-version": lambda t: t.replace(
        "api_version: '2023-05-15'", "api_version: 2023-05-15"
    ),
    # no authentication at all (the scaffold): no master key, no guard; LiteLLM serves everyone
    "no master key": lambda t: re.sub(r"general_settings:\n(  .*\n)+", "general_settings: {}\n", t),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_the_smoke_test_catches_scaffold_regressions(name: str, tmp_path: Path) -> None:
    for run in _serve("dev", tmp_path, REGRESSIONS[name]):
        text = next(tmp_path.rglob("config.yaml")).read_text()
        assert text != render_gateway(run.config).config_yaml  # the regression is in place
        checks = smoke.run_smoke(run.gateway.url, GATEWAY_KEY_CANARY, run.config, timeout=30)
        failed = {c.name for c in checks if not c.ok}
        assert failed, f"{name}: every check passed"
        if name == "no master key":
            assert "no key is refused" in failed
            loud = next(c for c in checks if c.name == "no key is refused")
            assert "WITHOUT A KEY" in loud.details


SDK_STREAM_HELPER = """
import os, sys
from openai import OpenAI
client = OpenAI(base_url=os.environ["GW_URL"] + "/v1", api_key=os.environ["GW_KEY"])
with client.responses.stream(model=sys.argv[1], input="Count to three.") as stream:
    for _ in stream:
        pass
    final = stream.get_final_response()
print(final.status)
"""


def test_openai_sdk_stream_helper_works_through_the_gateway(running: Running) -> None:
    """Issue 12 item 3: the OpenAI SDK's `responses.stream()` helper, run with the SDK that
    LiteLLM's own environment carries, against the gateway."""
    import subprocess

    codex = next(m.alias for m in running.config.models if m.kind.value == "responses")
    env = {
        "PATH": "/usr/bin:/bin",
        "GW_URL": running.gateway.url,
        "GW_KEY": GATEWAY_KEY_CANARY,
        "NO_PROXY": "*",
    }
    python = str(litellm_env_for_tests().python)
    r = subprocess.run(
        [python, "-c", SDK_STREAM_HELPER, codex], capture_output=True, text=True, env=env
    )
    assert r.returncode == 0 and r.stdout.strip() == "completed", r.stderr[-2000:]


def test_chat_model_is_identified_no_errors_in_the_log(tmp_path: Path) -> None:
    """Issue 12 item 9: a chat model gets base_model; LiteLLM then logs no 'Could not identify
    azure model' and no error for a chat call."""
    from aigw.config.upstreams import ModelConfig, ModelKind

    base = load_env("dev", ENV_DIR).config
    chat = ModelConfig(alias="gpt-4.1-mini", kind=ModelKind.chat, api_version="2024-10-21")
    cfg = base.model_copy(update={"models": [*base.models, chat]})
    with rendered_gateway(
        cfg, tmp_path, gateway_key=GATEWAY_KEY_CANARY, aoai_key=AOAI_KEY_CANARY
    ) as gw:
        gateway = gw.process
        with httpx.Client(
            base_url=gateway.url,
            headers={"Authorization": f"Bearer {GATEWAY_KEY_CANARY}"},
            timeout=60,
            trust_env=False,
        ) as c:
            body = {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]}
            r = c.post("/v1/chat/completions", json=body)
            assert r.status_code == 200, r.text
    log = gateway.log_path.read_text(errors="replace")
    assert "Could not identify azure model" not in log
    assert " ERROR" not in log and "Traceback" not in log, log[-3000:]
