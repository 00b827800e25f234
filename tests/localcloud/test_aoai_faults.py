"""The Azure OpenAI emulator told to throttle (Azure's 429 and headers) or fail for a while."""

from __future__ import annotations

import time

import httpx
import pytest

from aigw_localcloud.openai.aoai import AzureOpenAIEmulator
from aigw_localcloud.openai.deployments import Deployment

CHAT = "/openai/deployments/chat1/chat/completions?api-version=2024-10-21"
BODY = {"messages": [{"role": "user", "content": "hi"}]}


def _emulator() -> AzureOpenAIEmulator:
    return AzureOpenAIEmulator(deployments={"chat1": Deployment("chat1", "chat")}, api_key="k")


def test_throttle_answers_azures_429_then_recovers() -> None:
    with _emulator() as em, httpx.Client(base_url=em.url, headers={"api-key": "k"}) as c:
        c.put("/_aigw/faults", json={"status": 429, "count": 2, "retry_after_ms": 1500})
        first = c.post(CHAT, json=BODY)
        assert first.status_code == 429
        assert first.headers["retry-after"] == "2"
        assert first.headers["retry-after-ms"] == "1500"
        assert first.headers["x-ratelimit-remaining-requests"] == "0"
        assert first.headers["x-ratelimit-remaining-tokens"] == "0"
        error = first.json()["error"]
        # The current shape by default (dyad-sh/dyad#1849, Lapis0x0/obsidian-yolo#297).
        assert error == {
            "code": "RateLimitReached",
            "message": "Your requests to chat1 for gpt-4.1 in Sweden Central have exceeded the "
            "token rate limit for your current OpenAI S0 pricing tier. This request was for "
            "ChatCompletions_Create under Azure OpenAI API version 2024-10-21. Please retry "
            "after 2 seconds. To increase your default rate limit, visit: "
            "https://aka.ms/oai/quotaincrease.",
        }
        assert c.post(CHAT, json=BODY).status_code == 429
        assert c.post(CHAT, json=BODY).status_code == 200  # the count ran out
        assert [e.status for e in em.journal] == [429, 429, 200]


def test_failure_for_a_while_and_cleared() -> None:
    with _emulator() as em, httpx.Client(base_url=em.url, headers={"api-key": "k"}) as c:
        c.put("/_aigw/faults", json={"status": 503, "seconds": 0.3})
        assert c.post(CHAT, json=BODY).status_code == 503
        time.sleep(0.35)
        assert c.post(CHAT, json=BODY).status_code == 200
        c.put("/_aigw/faults", json={"status": 500})
        assert c.post(CHAT, json=BODY).json()["error"]["code"] == "InternalServerError"
        assert c.delete("/_aigw/faults").json() == {"fault": None}
        assert c.post(CHAT, json=BODY).status_code == 200


def test_a_fault_needs_a_caller_and_valid_settings() -> None:
    with _emulator() as em, httpx.Client(base_url=em.url) as c:
        c.put("/_aigw/faults", json={"status": 429})
        assert c.post(CHAT, json=BODY).status_code == 401  # no key: not counted
        assert c.put("/_aigw/faults", json={"status": 404}).status_code == 400
        assert c.put("/_aigw/faults", json={"count": 0}).status_code == 400


EMBED = "/openai/deployments/emb1/embeddings?api-version=2023-05-15"


def test_throttle_shapes_new_by_default_and_the_older_one_on_request() -> None:
    deployments = {
        "chat1": Deployment("chat1", "chat"),
        "emb1": Deployment("emb1", "embeddings", 1536),
        "codex1": Deployment("codex1", "responses", model="gpt-5.3-codex"),
    }
    with (
        AzureOpenAIEmulator(deployments=deployments, api_key="k") as em,
        httpx.Client(base_url=em.url, headers={"api-key": "k"}) as c,
    ):
        c.put("/_aigw/faults", json={"status": 429, "retry_after_ms": 500})
        emb = c.post(EMBED, json={"input": "x"}).json()["error"]
        assert emb["code"] == "RateLimitReached"
        assert emb["message"].startswith(
            "Your requests to emb1 for text-embedding-3-small in Sweden Central have exceeded "
            "the call rate limit for your current OpenAI S0 pricing tier. This request was for "
            "Embeddings_Create under Azure OpenAI API version 2023-05-15. Please retry after 1 "
            "seconds."
        )
        resp = c.post(
            "/openai/responses?api-version=2025-04-01-preview",
            json={"model": "codex1", "input": "x"},
        ).json()["error"]
        assert resp["message"].startswith("Your requests to codex1 for gpt-5.3-codex in ")
        assert "This request was for Responses_Create under" in resp["message"]

        # The older body, still seen from some resources: {"code": "429"}.
        assert (
            c.put("/_aigw/faults", json={"status": 429, "code": "429"}).json()["fault"]["code"]
            == "429"
        )
        old = c.post(CHAT, json=BODY)
        assert old.status_code == 429 and old.headers["retry-after"] == "1"
        error = old.json()["error"]
        assert error["code"] == "429"
        assert error["message"] == (
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
            "2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. "
            "Please retry after 1 seconds. Please go here: https://aka.ms/oai/quotaincrease if "
            "you would like to further increase the default rate limit."
        )
        bad = c.put("/_aigw/faults", json={"status": 429, "code": "Throttled"})
        assert bad.status_code == 400 and "code must be one of" in bad.text


def test_aigw_smoke_reads_both_429_bodies() -> None:
    """The smoke test's failure lines (gateway/smoke.py, smoke_upstreams.py) quote the message
    of either body, never a dict or an empty text."""
    from aigw.gateway.smoke import _error_text
    from aigw.gateway.smoke_upstreams import _why

    with _emulator() as em, httpx.Client(base_url=em.url, headers={"api-key": "k"}) as c:
        for code, start in (("RateLimitReached", "Your requests to chat1"), ("429", "Requests")):
            c.put("/_aigw/faults", json={"status": 429, "code": code})
            r = c.post(CHAT, json=BODY)
            for line in (_error_text(r), _why(r)):
                assert line.startswith(f"HTTP 429: {start}"), line
                assert "{" not in line and "rate limit" in line, line


def test_a_fault_can_start_after_some_calls() -> None:
    """`after: N`: N calls pass, then the fault (a quota running out mid-conversation)."""
    from aigw_localcloud.openai.faults import Faults, parse

    faults = Faults()
    faults.set(parse({"status": 429, "after": 2, "count": 1}))
    assert [faults.take() is not None for _ in range(4)] == [False, False, True, False]
    with pytest.raises(ValueError, match="after must be"):
        parse({"status": 429, "after": -1})
