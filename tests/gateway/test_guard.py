"""aigw's guard (src/aigw/gateway/files/aigw_guard.py) on plain data: each rule, and what it
lets through. The same module runs inside the real LiteLLM in
tests/gateway/test_gateway_exfiltration.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from aigw.gateway.files.aigw_guard import check_request, key_matches, path_allowed

MODELS = ("gpt-5.3-codex", "text-embedding-3-large")


def _check(body: Any, *, path: str = "/v1/embeddings", method: str = "POST", **kw: Any) -> Any:
    return check_request(
        method, path, body, kw.get("query", {}), kw.get("headers", ()), kw.get("models", MODELS)
    )


OK_BODIES = [
    {"model": "text-embedding-3-large", "input": "hi", "encoding_format": "base64"},
    {"model": "text-embedding-3-large", "input": "the docs say api_key: os.environ/X"},
    {"model": "text-embedding-3-large", "input": ["a", "b"], "user": "dev-1", "dimensions": 3072},
]


@pytest.mark.parametrize("body", OK_BODIES)
def test_ordinary_requests_pass(body: dict[str, Any]) -> None:
    assert _check(body) is None


def test_responses_with_tools_and_metadata_pass() -> None:
    body = {
        "model": "gpt-5.3-codex",
        "input": [{"role": "user", "content": "hi"}],
        "instructions": "mentions os.environ/HOME",
        "tools": [{"type": "function", "name": "f", "parameters": {"api_key": {}}}],
        "metadata": {"session": "abc"},
        "store": False,
        "stream": True,
        "reasoning": {"effort": "low"},
    }
    assert _check(body, path="/v1/responses") is None


@pytest.mark.parametrize(
    "extra",
    [
        {"user_config": {"model_list": []}},
        {"api_base": "http://x"},
        {"API_BASE": "http://x"},
        {"base_url": "http://x"},
        {"api_key": "k"},
        {"azure_ad_token": "t"},
        {"litellm_params": {}},
        {"fallbacks": [{"model": "azure/x"}]},
        {"mock_response": "hi"},
        {"num_retries": 100},
        {"langsmith_base_url": "http://x"},
        {"extra_headers": {"x": "y"}},
        {"seed": "os.environ/LITELLM_AZURE_OPENAI_API_KEY"},
    ],
)
def test_upstream_and_credential_settings_are_refused(extra: dict[str, Any]) -> None:
    refusal = _check({"model": "text-embedding-3-large", "input": "x", **extra})
    assert refusal is not None and refusal.status == 400
    assert refusal.param == next(iter(extra))


def test_settings_in_metadata_and_query_are_refused() -> None:
    body = {"model": "text-embedding-3-large", "input": "x"}
    nested = _check({**body, "metadata": {"slack_webhook_url": "http://x"}})
    assert nested is not None and nested.param == "metadata.slack_webhook_url"
    env = _check({**body, "metadata": {"tag": "os.environ/SECRET"}})
    assert env is not None and env.param == "metadata.tag"
    assert _check({**body, "metadata": "not an object"}) is not None
    query = _check(body, query={"api_base": "http://x"})
    assert query is not None and query.param == "api_base"
    header = _check(body, headers=("X-LiteLLM-Num-Retries",))
    assert header is not None and header.status == 400


@pytest.mark.parametrize(
    "model",
    ["azure/x", "openai/gpt-4o", "gpt-5.3-codex,text-embedding-3-large", None, 3, "x" * 500],
)
def test_only_configured_aliases(model: Any) -> None:
    refusal = _check({"model": model, "input": "x"})
    assert refusal is not None and refusal.param == "model"
    assert len(refusal.message) < 300


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/model/new"),
        ("GET", "/health"),
        ("POST", "/v1/messages"),
        ("POST", "/openai/deployments/x/embeddings"),
        ("GET", "/v1/responses/resp_1"),
        ("GET", "/v1/embeddings"),
        ("POST", "/v1/models"),
    ],
)
def test_other_routes_are_404(method: str, path: str) -> None:
    refusal = _check({}, method=method, path=path)
    assert refusal is not None and refusal.status == 404
    assert not path_allowed(method, path)


def test_probes_and_routes_allowed_by_the_gate() -> None:
    for method, path in (
        ("GET", "/health/liveliness"),
        ("HEAD", "/health/readiness"),
        ("GET", "/v1/models"),
        ("POST", "/responses"),
    ):
        assert path_allowed(method, path), (method, path)
    assert not path_allowed("POST", "/health/readiness")


def test_non_object_bodies_and_key_comparison() -> None:
    refusal = _check([{"model": "text-embedding-3-large"}])
    assert refusal is not None and refusal.status == 400
    assert key_matches("sk-a-long-key", "sk-a-long-key")
    assert not key_matches("sk-a-long-key", "sk-a-long-kez")
    assert not key_matches("", "")
    assert not key_matches("anything", None)  # no master key configured: everyone refused
