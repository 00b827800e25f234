"""Where the gateway runs: its container app, the registry it pulls from, its Key Vault (pure,
no I/O)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    Field,
    Strict,
    field_validator,
    model_validator,
)

from aigw.config.fields import (
    MAX_ALLOWED_IPS,
    EnvVarName,
    ImageRef,
    Int,
    Ipv4Cidr,
    StrictModel,
)
from aigw.secrets import GATEWAY_KEY_ENV

_MEMORY_RE = re.compile(r"(\d+(\.\d+)?)Gi")  # gateway.memory: Container Apps' Gi amounts


class RegistryConfig(StrictModel):
    server: str = Field(
        pattern=r"^[a-z0-9]{5,50}\.azurecr\.io$",  # ACR names: 5-50 letters/digits
        description="Login server of a private Azure Container Registry, e.g. myacr.azurecr.io.",
    )
    identity: Literal["app"] = Field(
        default="app", description="Pull with the gateway's identity (aigw grants it AcrPull)."
    )


class GatewayConfig(StrictModel):
    image: ImageRef = Field(description="LiteLLM image, repo:tag@sha256:digest.")
    registry: RegistryConfig | None = Field(
        default=None,
        description="Pull the image from this private registry (a mirror), not anonymously.",
    )
    port: Int = Field(default=4000, ge=1, le=65535, description="Port LiteLLM listens on.")
    ingress: Literal["external", "internal"] = Field(
        default="external", description="external: reachable from the internet (HTTPS only)."
    )
    cpu: Annotated[float, Strict()] = Field(
        default=0.5, ge=0.25, le=4.0, description="vCPU per replica."
    )
    memory: str = Field(default="1Gi", description="Memory per replica, e.g. 1Gi (2 x cpu).")
    min_replicas: Int = Field(
        default=0, ge=0, le=300, description="0 allows scale to zero (cold starts); prod: 1."
    )
    max_replicas: Int = Field(default=3, ge=1, le=300, description="Upper bound of replicas.")
    workers: Int = Field(default=1, ge=1, le=16, description="LiteLLM worker processes.")
    max_request_mb: Int = Field(
        default=8,
        ge=1,
        le=64,
        description="Largest request body the gateway reads, in MiB (413 above; docs/security.md).",
    )
    key_env: EnvVarName = Field(
        default=GATEWAY_KEY_ENV,
        description="Environment variable holding the gateway key (never the key itself).",
    )
    allowed_ips: list[Ipv4Cidr] = Field(
        default_factory=list,
        max_length=MAX_ALLOWED_IPS,
        description=f"IPv4 CIDRs allowed to reach the gateway (ingress IP restrictions, at "
        f"most {MAX_ALLOWED_IPS}); empty: open to all.",
    )

    @field_validator("allowed_ips")
    @classmethod
    def _distinct_blocks(cls, value: list[str]) -> list[str]:
        dupes = sorted({c for c in value if value.count(c) > 1})
        if dupes:
            raise ValueError(f"{dupes[0]} is listed twice: list each block once")
        return value

    @model_validator(mode="after")
    def _check(self) -> GatewayConfig:
        if self.registry and not self.image.startswith(self.registry.server + "/"):
            raise ValueError(
                f"image {self.image.split('@')[0]!r} is not in registry {self.registry.server}: "
                f"import it there and write image: {self.registry.server}/<repo>:<tag>@sha256:..."
            )
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas ({self.min_replicas}) is above max_replicas ({self.max_replicas})"
            )
        if round(self.cpu * 4) != self.cpu * 4:
            raise ValueError(f"cpu {self.cpu} must be a multiple of 0.25")
        m = _MEMORY_RE.fullmatch(self.memory)
        if not m:
            raise ValueError(f"memory {self.memory!r} must look like 1Gi or 0.5Gi")
        if abs(float(m.group(1)) - 2 * self.cpu) > 1e-9:
            raise ValueError(
                f"memory {self.memory} does not match cpu {self.cpu}: Container Apps "
                f"(consumption) needs memory = 2 x cpu, i.e. {2 * self.cpu:g}Gi"
            )
        return self

    @property
    def litellm_version(self) -> str | None:
        m = re.search(r":(?:main-)?v?(\d+\.\d+\.\d+)", self.image)
        return m.group(1) if m else None


class KeyVaultConfig(StrictModel):
    # Strict: 'yes' or 1 must not turn on a setting that cannot be undone.
    purge_protection: Annotated[bool, Strict()] = Field(
        default=False, description="Refuse purge for the retention period (prod: true)."
    )
    soft_delete_retention_days: Int = Field(
        default=90, ge=7, le=90, description="Days a deleted vault stays recoverable."
    )
    name_suffix: str | None = Field(
        default=None,
        pattern=r"^(auto|[a-z0-9]{1,6})$",
        description="Vault names are global: 'auto' (stable hash) or up to 6 lowercase alnum.",
    )
