"""The real LiteLLM proxy, started through LiteLLMAppRunner, in front of the AOAI emulator."""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigw.gateway.local_runner import LiteLLMAppRunner, app_dir_name, rewrite_paths
from aigw.gateway.process import GatewayProcess
from aigw_localcloud.core.app_runner import AppStartError, ContainerSpec
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, embedding_for
from gateway_fixtures import (
    AZURE_KEY,
    CODEX_DEPLOYMENT,
    EMBEDDING_API_VERSION,
    EMBEDDING_DEPLOYMENT,
    GATEWAY_KEY,
    IMAGE,
    RESPONSES_API_VERSION,
    ConnectionWatcher,
    ProxyTrap,
    litellm_config,
    litellm_env_for_tests,
)

APP_KEY = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/pvc-dev-rg"
    "/providers/microsoft.app/containerapps/pvc-dev-aigw-ca"
)
CONFIG_PATH = "/etc/litellm/config.yaml"
DIGEST = "sha256:" + "0" * 64


def spec_for(aoai_url: str, extra_env: dict[str, str] | None = None, **kw: Any) -> ContainerSpec:
    fields: dict[str, Any] = {
        "app_key": APP_KEY,
        "revision": "pvc-dev-aigw-ca--rev1",
        "image": f"{IMAGE}@{DIGEST}",
        "args": ("--config", CONFIG_PATH, "--port", "4000", "--api_version", EMBEDDING_API_VERSION),
        "env": {
            "LITELLM_GATEWAY_KEY": GATEWAY_KEY,
            "LITELLM_AZURE_OPENAI_API_KEY": AZURE_KEY,
            **(extra_env or {}),
        },
        "files": {CONFIG_PATH: litellm_config(aoai_url).encode()},
        "target_port": 4000,
        "startup_path": "/health/liveliness",
    }
    fields.update(kw)
    return ContainerSpec(**fields)


# -- no LiteLLM needed ---------------------------------------------------------------------------


def test_non_litellm_image_is_refused(tmp_path: Path) -> None:
    runner = LiteLLMAppRunner(tmp_path)
    with pytest.raises(AppStartError, match="only runs LiteLLM images"):
        runner.start(spec_for("http://127.0.0.1:1", image="nginx:1.27"))


def test_unversioned_or_compromised_image_is_refused(tmp_path: Path) -> None:
    runner = LiteLLMAppRunner(tmp_path)
    with pytest.raises(AppStartError, match="names no version"):
        runner.start(spec_for("http://127.0.0.1:1", image="litellm/litellm:latest"))
    with pytest.raises(AppStartError, match="compromised"):
        runner.start(spec_for("http://127.0.0.1:1", image="litellm/litellm:v1.82.8"))
    assert not list(tmp_path.iterdir())


def test_foreign_command_is_refused(tmp_path: Path) -> None:
    runner = LiteLLMAppRunner(tmp_path)
    with pytest.raises(AppStartError, match="set args, not command"):
        runner.start(spec_for("http://127.0.0.1:1", command=("/bin/sh", "-c", "true")))


def test_rewrite_paths(tmp_path: Path) -> None:
    files = {"/etc/litellm/config.yaml": b"", "/mnt/x/a.pem": b""}
    out = rewrite_paths(
        [
            "--config",
            "/etc/litellm/config.yaml",
            "--config=/etc/litellm/config.yaml",
            "/etc/litellm",
            "/etc/litellmother",
            "/mnt/x/b.pem",
            "--port",
            "4000",
        ],
        tmp_path,
        files,
    )
    assert out == [
        "--config",
        str(tmp_path / "etc/litellm/config.yaml"),
        f"--config={tmp_path / 'etc/litellm/config.yaml'}",
        str(tmp_path / "etc/litellm"),
        "/etc/litellmother",
        str(tmp_path / "mnt/x/b.pem"),
        "--port",
        "4000",
    ]


def test_app_dir_name_is_safe_and_stable() -> None:
    name = app_dir_name(APP_KEY)
    assert name.startswith("pvc-dev-aigw-ca-")
    assert name == app_dir_name(APP_KEY)
    assert name != app_dir_name(APP_KEY.replace("pvc-dev-rg", "other"))
    assert "/" not in app_dir_name("/../../etc")


# -- one real gateway for the module -------------------------------------------------------------


@dataclass
class Gateway:
    url: str
    process: GatewayProcess
    runner: LiteLLMAppRunner
    emulator: AzureOpenAIEmulator
    trap: ProxyTrap
    watcher: ConnectionWatcher
    startup_s: float
    workdir: Path

    def client(self, key: str | None = GATEWAY_KEY) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, trust_env=False)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    litellm_env_for_tests()  # created before the clock starts
    workdir = tmp_path_factory.mktemp("apps")
    trap = ProxyTrap().start()
    with AzureOpenAIEmulator(api_key=AZURE_KEY) as emulator:
        runner = LiteLLMAppRunner(workdir)
        # Proxy variables point at a trap: any attempt to reach the internet through them is
        # recorded (NO_PROXY exempts loopback, where the emulator lives).
        spec = spec_for(emulator.url, extra_env=trap.environ())
        started = time.monotonic()
        url = runner.start(spec)
        startup = time.monotonic() - started
        process = runner.process(APP_KEY)
        assert process is not None
        watcher = ConnectionWatcher(process.pid).start()
        try:
            yield Gateway(url, process, runner, emulator, trap, watcher, startup, workdir)
        finally:
            watcher.stop()
            runner.stop_all()
            trap.stop()


@pytest.fixture
def gw(gateway: Gateway) -> Gateway:
    gateway.emulator.clear_journal()
    return gateway


@pytest.mark.litellm
def test_started_from_the_spec(gw: Gateway) -> None:
    print(f"LiteLLM startup through the app runner: {gw.startup_s:.1f} s")
    assert gw.url.startswith("http://127.0.0.1:")
    assert gw.startup_s < 60
    local_config = gw.workdir / app_dir_name(APP_KEY) / "files" / "etc" / "litellm" / "config.yaml"
    assert local_config.read_text().startswith("model_list:")
    assert (local_config.stat().st_mode & 0o777) == 0o600
    cmdline = Path(f"/proc/{gw.process.pid}/cmdline").read_text().split("\0")
    assert str(local_config) in cmdline
    assert cmdline[cmdline.index("--port") + 1] == str(gw.process.port)
    assert cmdline[cmdline.index("--api_version") + 1] == EMBEDDING_API_VERSION
    assert "4000" not in cmdline


@pytest.mark.litellm
def test_liveliness_and_readiness_need_no_key(gw: Gateway) -> None:
    with gw.client(key=None) as c:
        assert c.get("/health/liveliness").status_code == 200
        assert c.get("/health/readiness").status_code == 200
    assert gw.emulator.journal == []  # no upstream call


@pytest.mark.litellm
def test_no_key_is_401(gw: Gateway) -> None:
    with gw.client(key=None) as c:
        r = c.get("/v1/models")
        assert r.status_code == 401
        r = c.post("/v1/embeddings", json={"model": "embeddings", "input": "x"})
        assert r.status_code == 401
    assert gw.emulator.journal == []


@pytest.mark.litellm
@pytest.mark.parametrize("wrong", ["sk-wrong-key-0123456789", "wrong-key-without-prefix"])
def test_wrong_key_is_refused_with_400_no_db(gw: Gateway, wrong: str) -> None:
    # Measured LiteLLM 1.81.15 behaviour with no database: 400 "No connected db.", not 401.
    with gw.client(key=wrong) as c:
        r = c.post("/v1/embeddings", json={"model": "embeddings", "input": "x"})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "No connected db."
    assert gw.emulator.journal == []


@pytest.mark.litellm
@pytest.mark.parametrize("header", ["Authorization", "api-key", "x-api-key"])
def test_models_lists_both_aliases(gw: Gateway, header: str) -> None:
    value = f"Bearer {GATEWAY_KEY}" if header == "Authorization" else GATEWAY_KEY
    with gw.client(key=None) as c:
        r = c.get("/v1/models", headers={header: value})
    assert r.status_code == 200
    assert sorted(m["id"] for m in r.json()["data"]) == ["codex", "embeddings"]


@pytest.mark.litellm
def test_embeddings_reach_the_deployment_path(gw: Gateway) -> None:
    with gw.client() as c:
        r = c.post("/v1/embeddings", json={"model": "embeddings", "input": ["hello", "world"]})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [len(d["embedding"]) for d in data] == [3072, 3072]
    assert data[0]["embedding"] == pytest.approx(list(embedding_for("hello", 3072)), abs=1e-7)
    (entry,) = gw.emulator.journal
    assert entry.path == f"/openai/deployments/{EMBEDDING_DEPLOYMENT}/embeddings"
    assert entry.query == {"api-version": EMBEDDING_API_VERSION}
    assert entry.auth == "api-key"
    assert entry.status == 200


@pytest.mark.litellm
def test_embeddings_base64_pass_through(gw: Gateway) -> None:
    with gw.client() as c:
        r = c.post(
            "/v1/embeddings",
            json={"model": "embeddings", "input": "hello", "encoding_format": "base64"},
        )
    assert r.status_code == 200, r.text
    raw = base64.b64decode(r.json()["data"][0]["embedding"])
    assert struct.unpack("<3072f", raw) == embedding_for("hello", 3072)


@pytest.mark.litellm
def test_responses_plain(gw: Gateway) -> None:
    with gw.client() as c:
        r = c.post("/v1/responses", json={"model": "codex", "input": "Say hello"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "response"
    assert body["status"] == "completed"
    message = next(item for item in body["output"] if item["type"] == "message")
    assert "Say hello" in message["content"][0]["text"]
    (entry,) = gw.emulator.journal
    assert entry.path == "/openai/responses"
    assert entry.query == {"api-version": RESPONSES_API_VERSION}
    assert entry.deployment == CODEX_DEPLOYMENT
    assert entry.streamed is False


@pytest.mark.litellm
def test_responses_streamed(gw: Gateway) -> None:
    with (
        gw.client() as c,
        c.stream(
            "POST",
            "/v1/responses",
            json={"model": "codex", "input": "Stream several words back", "stream": True},
        ) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line[len("data: ") :])
            for line in r.iter_lines()
            if line.startswith("data: ") and line != "data: [DONE]"
        ]
    types = [e["type"] for e in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert "Stream several words back" in deltas
    final = events[-1]["response"]
    assert final["status"] == "completed"
    (entry,) = gw.emulator.journal
    assert entry.path == "/openai/responses"
    assert entry.streamed is True


@pytest.mark.litellm
def test_responses_tool_call_two_turns(gw: Gateway) -> None:
    tool = {
        "type": "function",
        "name": "lookup",
        "description": "Look something up",
        "parameters": {
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "required": ["q"],
        },
    }
    with gw.client() as c:
        first = c.post("/v1/responses", json={"model": "codex", "input": "find", "tools": [tool]})
        assert first.status_code == 200, first.text
        call = next(i for i in first.json()["output"] if i["type"] == "function_call")
        assert call["name"] == "lookup"
        assert json.loads(call["arguments"]) == {"q": "example"}
        second = c.post(
            "/v1/responses",
            json={
                "model": "codex",
                "tools": [tool],
                "input": [
                    {"role": "user", "content": "find"},
                    {
                        "type": "function_call",
                        "call_id": call["call_id"],
                        "name": call["name"],
                        "arguments": call["arguments"],
                    },
                    {"type": "function_call_output", "call_id": call["call_id"], "output": "42"},
                ],
            },
        )
    assert second.status_code == 200, second.text
    message = next(i for i in second.json()["output"] if i["type"] == "message")
    assert "42" in message["content"][0]["text"]


@pytest.mark.litellm
def test_chat_completions_on_codex_are_bridged_to_responses(gw: Gateway) -> None:
    # Measured: LiteLLM sends chat completions for a `mode: responses` model to the Responses
    # API, so the codex deployment (Responses only) still answers.
    with gw.client() as c:
        r = c.post(
            "/v1/chat/completions",
            json={"model": "codex", "messages": [{"role": "user", "content": "ping"}]},
        )
    assert r.status_code == 200, r.text
    assert "ping" in r.json()["choices"][0]["message"]["content"]
    (entry,) = gw.emulator.journal
    assert entry.path == "/openai/responses"


@pytest.mark.litellm
def test_upstream_error_is_reported_not_hidden(gw: Gateway) -> None:
    gw.emulator.set_api_key("rotated-key-the-gateway-does-not-know")
    try:
        with gw.client() as c:
            r = c.post("/v1/embeddings", json={"model": "embeddings", "input": "x"})
    finally:
        gw.emulator.set_api_key(AZURE_KEY)
    assert r.status_code == 401, r.text
    assert all(e.status == 401 for e in gw.emulator.journal)
    assert AZURE_KEY not in r.text


@pytest.mark.litellm
def test_proxy_made_no_connection_beyond_loopback(gw: Gateway) -> None:
    # Runs after the traffic tests of this module (file order).
    assert gw.watcher.samples > 10
    assert gw.watcher.non_loopback() == set()
    assert gw.trap.requests == []
    log = gw.process.log_path.read_text()
    assert "Failed to fetch remote" not in log
    assert "Name or service not known" not in log


@pytest.mark.litellm
def test_secrets_are_not_written_to_the_log(gw: Gateway) -> None:
    log = gw.process.log_path.read_text()
    assert GATEWAY_KEY not in log
    assert AZURE_KEY not in log


@pytest.mark.litellm
def test_start_again_restarts(gw: Gateway) -> None:
    old = gw.process
    url = gw.runner.start(spec_for(gw.emulator.url, revision="pvc-dev-aigw-ca--rev2"))
    new = gw.runner.process(APP_KEY)
    assert new is not None and new.pid != old.pid
    assert not old.running
    with httpx.Client(base_url=url, trust_env=False) as c:
        assert c.get("/v1/models", headers={"api-key": GATEWAY_KEY}).status_code == 200
    gw.runner.stop(APP_KEY)
    assert not new.running
    assert gw.runner.process(APP_KEY) is None
    gw.runner.stop(APP_KEY)  # no error when not running


@pytest.mark.litellm
@pytest.mark.slow
def test_a_failing_readiness_probe_fails_the_revision(tmp_path: Path) -> None:
    """The platform probes readiness without a key; a revision whose probe path wants one never
    becomes ready (on Azure it gets no traffic). The local cloud fails it at start."""
    runner = LiteLLMAppRunner(tmp_path)
    with pytest.raises(AppStartError, match=r"readiness probe /v1/models failed \(HTTP 401\)"):
        runner.start(spec_for("http://127.0.0.1:1", readiness_path="/v1/models"))
    runner.stop_all()
