"""Environment configuration: the pydantic model of an environment file, made of the parts in
config/fields.py, upstreams.py, hosting.py, limits.py and alerts.py (pure, no I/O).

Loading files (YAML, `extends`, error locations) lives in `aigw.config.load`.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from aigw.config.alerts import AlertsConfig
from aigw.config.fields import StrictModel, check_tag
from aigw.config.hosting import GatewayConfig, KeyVaultConfig
from aigw.config.limits import LimitsConfig, Price
from aigw.config.regions import REGIONS
from aigw.config.upstreams import (
    PRIMARY,
    FailoverConfig,
    ModelConfig,
    ModelKind,
    NamedUpstreamConfig,
    UpstreamConfig,
)
from aigw.owned import ownership_tags, tag_list


class EnvConfig(StrictModel):
    """One environment (dev, staging, prod...) after `extends` is merged."""

    env: str = Field(pattern=r"^[a-z][a-z0-9]{0,11}$", description="Environment name.")
    project: str = Field(
        pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
        min_length=2,
        max_length=24,
        description="Project name used in resource names.",
    )
    location: str = Field(description="Azure region, e.g. southafricanorth.")
    location_short: str | None = Field(
        default=None, pattern=r"^[a-z][a-z0-9]{1,5}$", description="Short region code."
    )
    name_prefix: str = Field(
        default="pvc", pattern=r"^[a-z][a-z0-9]{0,7}$", description="First segment of names."
    )
    subscription_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$",
        description="Azure subscription (else --subscription or AZURE_SUBSCRIPTION_ID).",
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags on every resource.")
    azure_openai: UpstreamConfig = Field(description="The Azure OpenAI resource behind it.")
    gateway: GatewayConfig = Field(description="The LiteLLM container app.")
    key_vault: KeyVaultConfig = Field(
        default_factory=KeyVaultConfig, description="The vault holding the two keys."
    )
    models: list[ModelConfig] = Field(min_length=1, description="Models the gateway serves.")
    upstreams: list[NamedUpstreamConfig] = Field(
        default_factory=list,
        description="More Azure OpenAI accounts (each with its own auth) that models' "
        "upstreams can name, besides azure_openai (named primary).",
    )
    failover: FailoverConfig = Field(
        default_factory=FailoverConfig,
        description="Retries and cooldown between a model's upstreams.",
    )
    limits: LimitsConfig = Field(
        default_factory=LimitsConfig,
        description="Default limits of every developer key (tokens and requests per minute, "
        "a monthly budget) and where the counts live.",
    )
    alerts: AlertsConfig | None = Field(
        default=None,
        description="Azure Monitor alerts on the gateway's usage lines (5xx and Azure 429 "
        "rates, developer budgets, no successful call) and who they tell; none: no alerts.",
    )

    @model_validator(mode="before")
    @classmethod
    def _location_short_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("location_short") is None:
            short = REGIONS.get(str(data.get("location", "")))
            if short:
                data = {**data, "location_short": short}
        return data

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag_value in value.items():
            check_tag(key, tag_value)
        return value

    @field_validator("location")
    @classmethod
    def _known_region(cls, value: str) -> str:
        if value not in REGIONS:
            close = difflib.get_close_matches(value, list(REGIONS), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "e.g. southafricanorth, eastus2"
            raise ValueError(f"{value!r} is not an Azure region name ({hint})")
        return value

    @model_validator(mode="after")
    def _check(self) -> EnvConfig:
        aliases = [m.alias for m in self.models]
        dupes = sorted({a for a in aliases if aliases.count(a) > 1})
        if dupes:
            raise ValueError(f"duplicate model alias {dupes[0]!r}: aliases must be unique")
        self._check_upstreams()
        unpriced = [m.alias for m in self.models if m.price is None]
        if self.limits.monthly_budget is not None and unpriced:
            raise ValueError(
                f"limits.monthly_budget needs a price on every model; {unpriced[0]!r} has none: "
                "add price: {input: <USD per million tokens>, output: <USD per million tokens>}"
            )
        embed_versions = {m.api_version for m in self.models if m.kind is ModelKind.embeddings}
        if len(embed_versions) > 1:
            raise ValueError(
                "embeddings models must share one api_version (LiteLLM 1.81 takes it from "
                f"--api_version for all of them); found {sorted(embed_versions)}"
            )
        if len(self.all_tags()) > 50:
            raise ValueError(
                f"{len(self.tags)} tags: Azure allows 50 per resource, and aigw adds 4 of its own"
            )
        if len("/".join(self.tags)) > 256:
            raise ValueError(
                "tags: their names together exceed 256 characters (aigw lists them in its tag "
                "aigw-tags to know which it set); use fewer or shorter tag names"
            )
        return self

    def _check_upstreams(self) -> None:
        names = [u.name for u in self.upstreams]
        if PRIMARY in names:
            raise ValueError(
                f"upstreams: {PRIMARY!r} is the azure_openai block's name: give this upstream "
                "another name"
            )
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"upstreams: {dupes[0]!r} is named twice: names must be unique")
        known = [PRIMARY, *names]
        for m in self.models:
            for r in m.routes:
                if r.upstream not in known:
                    close = difflib.get_close_matches(r.upstream, known, n=1)
                    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
                    raise ValueError(
                        f"model {m.alias!r}: upstream {r.upstream!r} is not defined ({hint}); "
                        "add it under upstreams: or fix the name"
                    )

    def upstream(self, name: str) -> UpstreamConfig:
        """The upstream of that name (`primary`: the azure_openai block)."""
        return self.all_upstreams()[name]

    def all_upstreams(self) -> dict[str, UpstreamConfig]:
        """Every upstream by name, the primary first."""
        return {PRIMARY: self.azure_openai, **{u.name: u for u in self.upstreams}}

    def prices(self) -> dict[str, Price]:
        """alias -> price, for the models that have one (cost, budgets, the limits file)."""
        return {m.alias: m.price for m in self.models if m.price is not None}

    def used_upstreams(self) -> dict[str, UpstreamConfig]:
        """The upstreams some model routes to (the primary always: it is the default)."""
        used = {PRIMARY} | {r.upstream for m in self.models for r in m.routes}
        return {n: u for n, u in self.all_upstreams().items() if n in used}

    @property
    def multi_upstream(self) -> bool:
        """Whether any model is served by more than one upstream, or by a secondary."""
        return any(m.upstreams for m in self.models)

    def with_endpoints(self, endpoints: dict[str, str]) -> EnvConfig:
        """A copy whose upstreams are served at other endpoints (the local emulators)."""
        cfg = self
        if PRIMARY in endpoints:
            cfg = cfg.with_endpoint(endpoints[PRIMARY])
        others = [
            u.model_copy(update={"endpoint": endpoints[u.name]}) if u.name in endpoints else u
            for u in cfg.upstreams
        ]
        return cfg.model_copy(update={"upstreams": others})

    def with_endpoint(self, endpoint: str) -> EnvConfig:
        """A copy served by another Azure OpenAI endpoint (the local emulator)."""
        aoai = self.azure_openai.model_copy(update={"endpoint": endpoint})
        return self.model_copy(update={"azure_openai": aoai})

    def all_tags(self) -> dict[str, str]:
        """The YAML's tags plus aigw's ownership tags (which win) and aigw-tags, the list of
        the YAML's tag names (how a later plan knows which tags aigw set: see aigw.owned)."""
        return {**self.tags, **ownership_tags(self.env, self.project), **tag_list(self.tags)}

    @property
    def embeddings_api_version(self) -> str | None:
        for m in self.models:
            if m.kind is ModelKind.embeddings:
                return m.api_version
        return None
