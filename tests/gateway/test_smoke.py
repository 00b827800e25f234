"""The smoke test's pure parts."""

from __future__ import annotations

from aigw.config.load import load_env
from helpers import ENV_DIR


def test_smoke_test_calls_a_bounded_number_of_models() -> None:
    """Issue 17 R13: 1000 models must not mean 1000+ billable calls; every kind stays covered."""
    from aigw.config.upstreams import ModelConfig, ModelKind
    from aigw.gateway.smoke import DEFAULT_MAX_MODELS, models_to_call

    base = load_env("dev", ENV_DIR).config
    many = [
        ModelConfig(alias=f"chat-{i}", kind=ModelKind.chat, api_version="2024-10-21")
        for i in range(1000)
    ]
    models = [*many, *base.models]  # the responses and embeddings models come last
    chosen = models_to_call(models, DEFAULT_MAX_MODELS)
    assert len(chosen) == DEFAULT_MAX_MODELS
    assert {m.kind for m in chosen} == {ModelKind.chat, ModelKind.responses, ModelKind.embeddings}
    assert models_to_call(models, None) == models
    assert models_to_call(base.models, DEFAULT_MAX_MODELS) == list(base.models)
