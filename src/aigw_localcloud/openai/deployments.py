"""The model deployments of the emulated Azure OpenAI resource (shared by the emulator and the
body builders, so neither imports the other)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

DeploymentKind = Literal["responses", "embeddings", "chat"]


@dataclass(frozen=True)
class Deployment:
    """One model deployment of the emulated Azure OpenAI resource.

    `kind` says what the model can do: "embeddings" only embeddings; "responses" (a codex model)
    only the Responses API; "chat" chat completions and the Responses API. `dimensions` is the
    embedding size (3072 for text-embedding-3-large). `api_versions`, when set, is the set of
    dated api-versions accepted for this deployment (others get 404, as Azure does).
    """

    name: str
    kind: DeploymentKind
    dimensions: int | None = None
    api_versions: frozenset[str] | None = None
    # What ARM reports of it (arm/cognitive.py): properties.model name/version, sku.capacity;
    # model None: derived from kind and dimensions (openai/account.model_of).
    model: str | None = None
    version: str | None = None
    capacity: int = 10

    def __post_init__(self) -> None:
        if self.kind not in ("responses", "embeddings", "chat"):
            raise ValueError(f"unknown deployment kind {self.kind!r}")
        if self.kind == "embeddings" and not self.dimensions:
            object.__setattr__(self, "dimensions", 3072)
        if self.api_versions is not None and not isinstance(self.api_versions, frozenset):
            object.__setattr__(self, "api_versions", frozenset(self.api_versions))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "dimensions": self.dimensions,
            "api_versions": sorted(self.api_versions) if self.api_versions is not None else None,
            "model": self.model,
            "version": self.version,
            "capacity": self.capacity,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deployment:
        versions = data.get("api_versions")
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            dimensions=data.get("dimensions"),
            api_versions=frozenset(versions) if versions is not None else None,
            model=data.get("model"),
            version=data.get("version"),
            capacity=int(data.get("capacity", 10)),
        )


DEFAULT_DEPLOYMENTS: dict[str, Deployment] = {
    "gpt-5-codex": Deployment("gpt-5-codex", "responses"),
    "text-embedding-3-large": Deployment("text-embedding-3-large", "embeddings", 3072),
}
