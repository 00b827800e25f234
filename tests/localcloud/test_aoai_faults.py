"""The Azure OpenAI emulator told to throttle (Azure's 429 and headers) or fail for a while."""

from __future__ import annotations

import time

import httpx

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
        assert error["code"] == "429"
        assert error["message"].startswith(
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
            "2024-10-21 have exceeded"
        )
        assert "Please retry after 2 seconds." in error["message"]
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
