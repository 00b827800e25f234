"""Issue 21: the gateway attacked from a developer key's seat (and from no key, and from the
gateway key's), against the real LiteLLM 1.81.15 with aigw's rendered config and guard, in front
of the Azure OpenAI emulator. One test per class of finding; each failed on the deny-list guard
(commit f95c664) and passes on the allow-list (docs/security.md).

Every response is checked for the canary secrets: the gateway key, the Azure OpenAI key.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.gateway import developer_keys as fmt
from aigw.gateway.process import GatewayProcess
from aigw.gateway.render import AZURE_OPENAI_KEY_VAR, CONFIG_MOUNT_DIR, DEVELOPER_KEYS_FILE_NAME
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from aigw_localcloud.openai.faults import Fault
from gateway_fixtures import rendered_gateway
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY

pytestmark = [pytest.mark.litellm, pytest.mark.slow]

ALICE = "sk-aigw-alice-probe-key-6b1f0c9d8e7a6b5c4d3e2f1a0b9c8d7e"  # the codex model only
BOB = "sk-aigw-bob-probe-key-0a1b2c3d4e5f60718293a4b5c6d7e8f9"  # every model
SECRETS = (GATEWAY_KEY_CANARY, AOAI_KEY_CANARY, ALICE, BOB)
IDLE_SECONDS = 2  # AIGW_BODY_IDLE_SECONDS for this gateway


@dataclass
class Probe:
    config: EnvConfig
    process: GatewayProcess
    aoai: AzureOpenAIEmulator
    codex: str
    embed: str

    def client(self, key: str | None = ALICE) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.process.url, headers=headers, timeout=30, trust_env=False)

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace")

    def usage(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.log().splitlines() if x.startswith('{"aigw_usage"')]

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    cfg = load_env("dev", ENV_DIR).config
    workdir = tmp_path_factory.mktemp("probes")
    with rendered_gateway(
        cfg,
        workdir,
        gateway_key=GATEWAY_KEY_CANARY,
        aoai_key=AOAI_KEY_CANARY,
        environ={"AIGW_BODY_IDLE_SECONDS": str(IDLE_SECONDS)},
    ) as gw:
        codex = next(m.alias for m in gw.config.models if m.kind.value == "responses")
        embed = next(m.alias for m in gw.config.models if m.kind.value == "embeddings")
        now = datetime.now(UTC)
        keys = {
            "alice": fmt.new_record("alice", ALICE, now, None, (codex,)),
            "bob": fmt.new_record("bob", BOB, now, None, None),
        }
        volume = workdir / "files" / Path(CONFIG_MOUNT_DIR).relative_to("/")
        (volume / DEVELOPER_KEYS_FILE_NAME).write_text(fmt.dump(keys))
        yield Probe(gw.config, gw.process, gw.aoai, codex, embed)


def _clean(r: httpx.Response) -> httpx.Response:
    text = r.text + json.dumps(dict(r.headers))
    for secret in SECRETS:
        assert secret not in text, f"a secret in the answer to {r.request.url}"
    return r


# -- 1. no secret a request could name -----------------------------------------------------------


ENV_NAMES = ("LITELLM_GATEWAY_KEY", AZURE_OPENAI_KEY_VAR, "IDENTITY_HEADER", "AIGW_GATEWAY_KEY")


def test_no_request_field_reads_the_environment(probe: Probe) -> None:
    """`os.environ/NAME` in every field LiteLLM's @client wrapper resolved (instructions, user,
    input) and at depth; from a developer key and from the gateway key."""
    placed: list[dict[str, Any]] = []
    for name in ENV_NAMES:
        ref = f"os.environ/{name}"
        placed += [
            {"instructions": ref},
            {"user": ref},
            {"input": ref},
            {"input": [{"role": "user", "content": ref}]},
            {"input": [{"role": "user", "content": [{"type": "input_text", "text": ref}]}]},
            {"prompt_cache_key": ref},
            {"safety_identifier": ref},
            {"instructions": " " + ref.upper()},
        ]
    for key in (ALICE, GATEWAY_KEY_CANARY):
        with probe.client(key) as c:
            for extra in placed:
                r = _clean(
                    c.post("/v1/responses", json={"model": probe.codex, "input": "hi", **extra})
                )
                assert r.status_code == 400, (extra, r.status_code)
                assert "os.environ" in r.json()["error"]["message"]
    with probe.client() as c:  # a prompt that mentions the syntax in a longer text passes
        r = _clean(
            c.post(
                "/v1/responses",
                json={"model": probe.codex, "input": "what does os.environ/X mean in LiteLLM?"},
            )
        )
        assert r.status_code == 200, r.text


def test_the_litellm_process_holds_no_gateway_key(probe: Probe) -> None:
    environ = Path(f"/proc/{probe.process.pid}/environ").read_bytes()
    assert GATEWAY_KEY_CANARY.encode() not in environ
    assert b"LITELLM_GATEWAY_KEY=" not in environ


# -- 2. only the routes, models and fields the key may use ---------------------------------------


def test_the_query_string_never_picks_a_model_or_a_version(probe: Probe) -> None:
    probe.aoai.clear_journal()
    with probe.client() as c:
        body = {"model": probe.codex, "input": "hi"}
        for params in (
            {"model": probe.embed},
            {"model": ",".join([probe.codex] * 50)},
            {"model": f"{probe.codex}@primary"},
            {"api-version": "2020-01-01"},
            {"api_version": "2020-01-01"},
        ):
            r = _clean(c.post("/v1/responses", params=params, json=body))
            assert r.status_code == 400, (params, r.text)
            assert r.json()["error"]["param"] == next(iter(params))
        assert _clean(c.get("/v1/models", params={"model": probe.embed})).status_code == 400
    assert probe.aoai.journal == []  # not one upstream call


def test_a_key_calls_only_its_own_public_models(probe: Probe) -> None:
    probe.aoai.clear_journal()
    with probe.client() as c:
        r = _clean(c.post("/v1/embeddings", json={"model": probe.embed, "input": "x"}))
        assert r.status_code == 403 and "alice" in r.text
        for model in (
            f"{probe.codex}@primary",
            "azure/gpt-5-codex",
            f"{probe.codex},{probe.codex}",
        ):
            r = _clean(c.post("/v1/responses", json={"model": model, "input": "x"}))
            assert r.status_code == 400, (model, r.text)
        listed = [m["id"] for m in _clean(c.get("/v1/models")).json()["data"]]
        assert listed == [probe.codex]
    with probe.client(BOB) as c:
        listed = [m["id"] for m in _clean(c.get("/v1/models")).json()["data"]]
        assert sorted(listed) == sorted(m.alias for m in probe.config.models)
    assert probe.aoai.journal == []


SETTINGS: list[dict[str, Any]] = [
    {"request_timeout": 0.001},
    {"provider_specific_header": {"custom_llm_provider": "azure", "extra_headers": {"x": "y"}}},
    {"cooldown_time": 3600},
    {"priority": 0},
    {"ssl_verify": False},
    {"allowed_openai_params": ["x"]},
    {"api_version": "2020-01-01"},
    {"no-log": True},
    {"litellm_metadata": {"user_api_key_alias": "bob"}},
    {"user_config": {"model_list": []}},
    {"api_base": "http://127.0.0.1:9"},
    {"mock_response": "pwned"},
    {"num_retries": 50},
    {"tags": ["x"]},
    {"vertex_credentials": f"{CONFIG_MOUNT_DIR}/aigw_gateway_key"},
]


@pytest.mark.parametrize("extra", SETTINGS, ids=lambda e: next(iter(e)))
def test_client_set_settings_are_refused(probe: Probe, extra: dict[str, Any]) -> None:
    with probe.client() as c:
        r = _clean(c.post("/v1/responses", json={"model": probe.codex, "input": "x", **extra}))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == next(iter(extra))


# -- 3. attribution only from the key --------------------------------------------------------------


def test_metadata_never_moves_usage(probe: Probe) -> None:
    before = len(probe.usage())
    with probe.client(BOB) as c:
        for path, body in (
            ("/v1/responses", {"model": probe.codex, "input": "x"}),
            (
                "/v1/chat/completions",
                {"model": probe.codex, "messages": [{"role": "user", "content": "x"}]},
            ),
        ):
            meta = {"user_api_key_alias": "alice", "user_api_key_user_id": "alice", "tags": "a"}
            r = _clean(c.post(path, json={**body, "metadata": meta}))
            assert r.status_code == 200, r.text
    deadline = time.monotonic() + 15
    while len(probe.usage()) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = probe.usage()[before:]
    assert [line["key"] for line in lines] == ["bob", "bob"]
    with probe.client(BOB) as c:  # embeddings have no metadata in OpenAI's API: refused
        body = {"model": probe.embed, "input": "x", "metadata": {"user_api_key_alias": "alice"}}
        assert _clean(c.post("/v1/embeddings", json=body)).status_code == 400


# -- 4. bounded requests ---------------------------------------------------------------------------


def _raw(probe: Probe, head: bytes, body: bytes = b"", wait: float = 10) -> tuple[int, float]:
    """Send raw bytes; the status line's code and how long it took (0: no answer)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", probe.process.port), timeout=wait) as s:
        s.sendall(head + body)
        try:
            data = s.recv(4096)
        except (TimeoutError, ConnectionResetError):
            return 0, time.monotonic() - start
    code = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return code, time.monotonic() - start


def _head(path: str, length: int, key: str | None, chunked: bool = False) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    if key:
        lines.append(f"Authorization: Bearer {key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_large_bodies_are_refused_before_they_are_read(probe: Probe) -> None:
    rss = probe.rss_kib()
    hundred_mb = 100 * 1024 * 1024
    # no key: 401 on the headers alone; with a key: 413 on Content-Length alone
    assert _raw(probe, _head("/v1/responses", hundred_mb, None))[0] == 401
    assert _raw(probe, _head("/v1/responses", hundred_mb, ALICE))[0] == 413
    # chunked, no length: read up to the limit, then 413
    chunk = b"x" * (1024 * 1024)
    piece = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    code, _ = _raw(probe, _head("/v1/responses", 0, ALICE, chunked=True), piece * 12)
    assert code == 413
    grown_mib = (probe.rss_kib() - rss) / 1024
    assert grown_mib < 64, f"RSS grew by {grown_mib:.0f} MiB"


def test_a_held_partial_body_is_dropped(probe: Probe) -> None:
    code, took = _raw(
        probe, _head("/v1/responses", 1000, ALICE), b'{"model": ', wait=IDLE_SECONDS + 8
    )
    assert code == 408 and took < IDLE_SECONDS + 5


# -- 5. what a refused request leaves, what an answer shows ---------------------------------------


def test_a_refused_request_leaves_one_short_line(probe: Probe) -> None:
    before_log, before_usage = probe.log(), len(probe.usage())
    with probe.client("sk-wrong-key") as c:
        r = _clean(c.post("/v1/responses", json={"model": "[red]x\x1b[2J", "input": "x"}))
        assert r.status_code == 401
    with probe.client(None) as c:
        assert (
            _clean(c.post("/v1/responses", json={"model": probe.codex, "input": "x"})).status_code
            == 401
        )
    time.sleep(0.5)
    added = probe.log()[len(before_log) :]
    assert "Traceback" not in added and "[red]" not in added
    refused = [json.loads(x) for x in added.splitlines() if x.startswith('{"aigw_refused"')]
    assert [(x["status"], x["key"]) for x in refused] == [(401, None), (401, None)]
    assert len(probe.usage()) == before_usage


def test_answers_name_no_upstream_and_carry_no_traceback(probe: Probe) -> None:
    with probe.client() as c:
        r = _clean(c.post("/v1/responses", json={"model": probe.codex, "input": "hi"}))
        assert r.status_code == 200
        names = {h.lower() for h in r.headers}
        assert not {h for h in names if h.startswith(("x-litellm-model", "llm_provider-"))}
        assert "x-litellm-model-api-base" not in names and "x-litellm-model-id" not in names
        probe.aoai.faults.set(Fault(status=500, count=20))
        try:
            r = _clean(c.post("/v1/responses", json={"model": probe.codex, "input": "hi"}))
        finally:
            probe.aoai.faults.set(None)
        assert r.status_code >= 400
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert "Traceback" not in r.text and "127.0.0.1" not in r.text and "\\n" not in r.text
        assert probe.aoai.url.split("//", 1)[1] not in r.text


def test_routes_outside_the_allow_list_answer_404_for_every_key(probe: Probe) -> None:
    for key in (None, ALICE, GATEWAY_KEY_CANARY):
        with probe.client(key) as c:
            for method, path in (
                ("POST", "/model/new"),
                ("GET", "/key/list"),
                ("POST", "/v1/messages"),
                ("GET", "/v1/responses/resp_1"),
                ("POST", "/openai/deployments/x/embeddings"),
                ("GET", "/routes"),
            ):
                assert _clean(c.request(method, path, json={})).status_code == 404, (key, path)
