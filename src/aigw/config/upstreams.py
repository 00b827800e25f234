"""The models a gateway serves and the Azure OpenAI accounts (upstreams) serving them, with the
failover between them (pure, no I/O)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from aigw.config.fields import (
    AccountId,
    ApiVersion,
    EnvVarName,
    HttpsEndpoint,
    Int,
    StrictModel,
)
from aigw.config.limits import Price
from aigw.secrets import AZURE_OPENAI_KEY_ENV


class ModelKind(StrEnum):
    responses = "responses"
    embeddings = "embeddings"
    chat = "chat"


PRIMARY = "primary"  # the name of the `azure_openai:` upstream
_UPSTREAM_NAME = r"^[a-z][a-z0-9-]{0,23}$"


class RouteConfig(StrictModel):
    """One upstream serving a model: which, its deployment there, its order or weight."""

    upstream: str = Field(
        pattern=_UPSTREAM_NAME,
        description=f"Name of an entry of upstreams: ({PRIMARY}: the azure_openai block).",
    )
    deployment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Deployment name on that upstream; defaults to the model's.",
    )
    order: Int | None = Field(
        default=None, ge=1, le=100, description="Priority: 1 first, the next on failure."
    )
    weight: Int | None = Field(
        default=None, ge=1, le=1000, description="Share of traffic (instead of order)."
    )


class ModelConfig(StrictModel):
    """One model the gateway serves: a client-facing alias routed to an Azure deployment."""

    alias: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$",
        description="Model name clients ask for (e.g. gpt-5.3-codex).",
    )
    kind: ModelKind = Field(description="responses (codex models), embeddings, or chat.")
    deployment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Azure OpenAI deployment name; defaults to the alias.",
    )
    api_version: ApiVersion = Field(description="Azure OpenAI api-version, quoted.")
    dimensions: Int | None = Field(
        default=None, gt=0, le=16384, description="Embedding vector size (embeddings only)."
    )
    upstreams: list[RouteConfig] | None = Field(
        default=None,
        min_length=1,
        description=f"Upstreams serving this model, with order or weight; default: only "
        f"{PRIMARY} (the azure_openai block).",
    )
    price: Price | None = Field(
        default=None,
        description="USD per million tokens (input, cached_input, output): aigw usage "
        "--cost and limits.monthly_budget use it.",
    )

    @field_validator("upstreams")
    @classmethod
    def _routes(cls, value: list[RouteConfig] | None) -> list[RouteConfig] | None:
        if value is None:
            return value
        names = [r.upstream for r in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"upstream {dupes[0]!r} is listed twice: list each upstream once")
        if any(r.order is not None for r in value) and any(r.weight is not None for r in value):
            raise ValueError(
                "upstreams mix order and weight: give every entry an order (failover) or "
                "every entry a weight (load sharing), not both"
            )
        return value

    @property
    def routes(self) -> list[RouteConfig]:
        """The upstreams serving it (default: only the primary, with the model's deployment)."""
        return self.upstreams or [RouteConfig(upstream=PRIMARY)]

    def route_deployment(self, route: RouteConfig) -> str:
        return route.deployment or self.deployment_name

    @model_validator(mode="after")
    def _dimensions_for_embeddings(self) -> ModelConfig:
        if self.kind is ModelKind.embeddings and self.dimensions is None:
            raise ValueError("embeddings models need 'dimensions' (e.g. 3072)")
        if self.kind is not ModelKind.embeddings and self.dimensions is not None:
            raise ValueError(f"'dimensions' applies to embeddings models, not {self.kind.value}")
        return self

    @property
    def deployment_name(self) -> str:
        return self.deployment or self.alias


class UpstreamConfig(StrictModel):
    """One Azure OpenAI (or Foundry) account the gateway calls, and how it authenticates."""

    endpoint: HttpsEndpoint = Field(description="Bare Azure OpenAI endpoint (https, no path).")
    auth: Literal["identity", "key"] = Field(
        default="identity",
        description="identity (recommended; the default, except that a file naming "
        "api_key_env without auth keeps key, as it ran before): the gateway's managed identity "
        "gets Cognitive Services OpenAI User on the account and LiteLLM fetches Entra ID "
        "tokens, so no Azure OpenAI key is read, stored or passed anywhere, and accounts with "
        "key authentication turned off (disableLocalAuth) work. key: the scaffold's way, a "
        "key from api_key_env stored in Key Vault.",
    )
    resource_id: AccountId | None = Field(
        default=None,
        description="ARM id of the Microsoft.CognitiveServices/accounts resource (identity: the "
        "role's scope; plan: where the deployments are checked). Default: the account of the "
        "subscription whose endpoint has this host.",
    )
    api_key_env: EnvVarName | None = Field(
        default=None,
        description=f"auth: key only. Environment variable holding the Azure OpenAI key (never "
        f"the key itself); default {AZURE_OPENAI_KEY_ENV}.",
    )

    @model_validator(mode="before")
    @classmethod
    def _existing_files_keep_key(cls, data: Any) -> Any:
        # A file written for the scaffold names its key and no auth: it keeps running with
        # that key (switching it to identity is a decision, made by writing auth: identity).
        if isinstance(data, dict) and "auth" not in data and data.get("api_key_env") is not None:
            return {**data, "auth": "key"}
        return data

    @model_validator(mode="after")
    def _key_only_with_key_auth(self) -> UpstreamConfig:
        if self.auth == "identity" and self.api_key_env is not None:
            raise ValueError(
                "api_key_env applies to auth: key; with auth: identity no key is read (remove "
                "api_key_env, or set auth: key)"
            )
        return self

    @property
    def key_env(self) -> str | None:
        """The key's environment variable (auth: key), else None: no key exists."""
        if self.auth != "key":
            return None
        return self.api_key_env or AZURE_OPENAI_KEY_ENV

    @property
    def host(self) -> str:
        return self.endpoint.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0].lower()


class NamedUpstreamConfig(UpstreamConfig):
    """Another Azure OpenAI account (an entry of `upstreams:`), named for the models' routes."""

    name: str = Field(
        pattern=_UPSTREAM_NAME,
        description=f"Its name in models' upstreams (lowercase, digits, '-'; not {PRIMARY}).",
    )
    api_key_env: EnvVarName | None = Field(
        default=None,
        description=f"auth: key only. Environment variable holding this account's key (never "
        f"the key itself); default {AZURE_OPENAI_KEY_ENV}_<NAME> (name upper-cased, '-' as "
        f"'_'). Stored in Key Vault as azure-openai-api-key-<name>.",
    )

    @property
    def key_env(self) -> str | None:
        if self.auth != "key":
            return None
        return self.api_key_env or f"{AZURE_OPENAI_KEY_ENV}_{self.name.upper().replace('-', '_')}"


class FailoverConfig(StrictModel):
    """LiteLLM's router between a model's upstreams (models with more than one upstream)."""

    num_retries: Int = Field(default=2, ge=0, le=10, description="Retries of a failed call.")
    allowed_fails: Int = Field(
        default=1,
        ge=0,
        le=100,
        description="Failures of an upstream within a minute before it is cooled down.",
    )
    cooldown_seconds: Int = Field(
        default=30, ge=1, le=3600, description="How long a cooled-down upstream gets no calls."
    )
