"""Environment configuration: the pydantic model of an environment file (pure, no I/O).

Loading files (YAML, `extends`, error locations) lives in `aigw.config.load`.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)

from aigw.config.alerts import AlertsConfig
from aigw.config.limits import LimitsConfig, Price
from aigw.config.regions import REGIONS
from aigw.owned import OWNERSHIP_TAGS, ownership_tags, tag_list
from aigw.secrets import AZURE_OPENAI_KEY_ENV, GATEWAY_KEY_ENV

_API_VERSION_RE = re.compile(r"(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest|v1)")
_IMAGE_RE = re.compile(
    r"(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::\d+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)
_ENV_VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MEMORY_RE = re.compile(r"(\d+(\.\d+)?)Gi")
# aigw's own bound on gateway.allowed_ips: Azure documents no number of ingress IP rules
# (learn.microsoft.com/azure/container-apps/ip-restrictions), so stay well inside it.
MAX_ALLOWED_IPS = 100


def _api_version(value: Any) -> Any:
    if isinstance(value, _dt.date):
        raise ValueError(
            f"is a date, not a string: YAML reads an unquoted {value.isoformat()} as a date; "
            f"quote it: '{value.isoformat()}'"
        )
    if isinstance(value, str) and not _API_VERSION_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an Azure OpenAI api-version: use YYYY-MM-DD, "
            "YYYY-MM-DD-preview, 'preview', 'latest' or 'v1'"
        )
    if isinstance(value, str) and value[:1].isdigit():
        try:
            _dt.date.fromisoformat(value[:10])
        except ValueError:
            raise ValueError(f"{value!r} is not a real date: use an existing api-version") from None
    return value


def _image(value: str) -> str:
    m = _IMAGE_RE.fullmatch(value)
    if not m or not m.group("tag") or not m.group("digest"):
        raise ValueError(
            f"{value!r} is not a pinned image reference: use repo:tag@sha256:<64 hex digest> "
            "(a tag alone can move under you)"
        )
    return value


_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _https_endpoint(value: str) -> str:
    m = re.fullmatch(r"https://([A-Za-z0-9.-]+)(?::(\d{1,5}))?/?", value)
    if not m:
        if value.startswith("http://"):
            raise ValueError(f"{value!r} must use https://")
        raise ValueError(
            f"{value!r} must be a bare https endpoint such as "
            "https://<resource>.openai.azure.com (no path: LiteLLM adds /openai itself)"
        )
    host, port = m.group(1), m.group(2)
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(part) for part in host.split(".")):
        raise ValueError(f"{value!r}: {host!r} is not a host name")
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError(f"{value!r}: port {port} is not between 1 and 65535")
    return value.rstrip("/")


def _ipv4_cidr(value: Any) -> Any:
    """An IPv4 address or CIDR block; a bare address means /32. Container Apps ingress rules
    take IPv4 CIDR only (learn.microsoft.com/azure/container-apps/ip-restrictions)."""
    if not isinstance(value, str):
        return value  # pydantic reports the type
    text = value.strip()
    if ":" in text:
        raise ValueError(f"{value!r} is IPv6: Container Apps IP restrictions take IPv4 only")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?", text):
        raise ValueError(f"{value!r} is not an IPv4 address or CIDR block such as 203.0.113.0/24")
    try:
        net = ipaddress.IPv4Network(text if "/" in text else f"{text}/32", strict=False)
    except ValueError as e:
        raise ValueError(f"{value!r} is not a valid IPv4 CIDR block ({e})") from None
    if str(net) != (text if "/" in text else f"{text}/32"):
        raise ValueError(
            f"{value!r} has host bits set: the block it names is {net} (write that, or "
            f"{text.split('/')[0]}/32 for one address)"
        )
    return str(net)


def _env_var(value: str) -> str:
    if not _ENV_VAR_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not an environment variable name")
    return value


ApiVersion = Annotated[str, BeforeValidator(_api_version)]
# YAML 1.1 reads `yes`/`no` as booleans and pydantic would take True as 1: numbers must be numbers.
Int = Annotated[int, Strict()]
ImageRef = Annotated[str, AfterValidator(_image)]
HttpsEndpoint = Annotated[str, AfterValidator(_https_endpoint)]
EnvVarName = Annotated[str, AfterValidator(_env_var)]
Ipv4Cidr = Annotated[str, BeforeValidator(_ipv4_cidr)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


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


_COGNITIVE_ACCOUNT_ID = re.compile(
    r"/subscriptions/[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
    r"/resourceGroups/[-\w._()]{1,90}"
    r"/providers/Microsoft\.CognitiveServices/accounts/[A-Za-z0-9][A-Za-z0-9_.-]{1,63}",
    re.IGNORECASE,
)


def _account_id(value: str) -> str:
    if not _COGNITIVE_ACCOUNT_ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not the ARM id of an Azure OpenAI account: use /subscriptions/<id>/"
            "resourceGroups/<group>/providers/Microsoft.CognitiveServices/accounts/<name> "
            "(az cognitiveservices account show -n <name> -g <group> --query id)"
        )
    return value


AccountId = Annotated[str, AfterValidator(_account_id)]


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


# "Tag names can't contain these characters: <, >, %, &, \, ?, /" and the prefixes microsoft,
# azure and windows are reserved: learn.microsoft.com/azure/azure-resource-manager/management/
# tag-resources#limitations. Names are case-insensitive there too (same page).
_RESERVED_TAG_PREFIXES = ("microsoft", "azure", "windows")


def _check_tag(key: str, value: str) -> None:
    if not key.strip():
        raise ValueError("a tag name is empty: give every tag a name")
    if len(key) > 512 or len(value) > 256 or any(c in key for c in "<>%&\\?/"):
        raise ValueError(f"tag {key!r} is not a valid Azure tag")
    if key.lower().startswith(_RESERVED_TAG_PREFIXES):
        raise ValueError(
            f"tag {key!r}: names starting with microsoft, azure or windows are reserved by Azure"
        )
    # aigw's own tags (aigw.owned): tag names are case-insensitive on Azure, none set again
    if key.lower() in OWNERSHIP_TAGS:
        raise ValueError(
            f"tag {key!r} is aigw's own (tag names are case-insensitive): use another name"
        )


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
            _check_tag(key, tag_value)
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
        for key, value in self.tags.items():
            if len(key) > 512 or len(value) > 256 or any(c in key for c in "<>%&\\?/"):
                raise ValueError(f"tag {key!r} is not a valid Azure tag")
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
