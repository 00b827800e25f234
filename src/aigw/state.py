"""The data every layer shares: resource kinds, desired resources, what Azure holds.

Pure data, no I/O, importing nothing of aigw's (an import-linter contract checks it): the
engine builds and plans with it, the adapters in resources/ observe and ensure with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

# A Key Vault secret's value is compared in memory during observe; only the verdict is kept.
SECRET_VALUE = "(value from the environment, not shown)"
CONTAINER_NAME = "litellm"
CONFIG_VOLUME = "litellm-config"


class Kind(str):
    """A resource kind's name. The registry in `aigw.resources` is the source of truth: a kind
    is a module there whose adapter declares `kind = Kind("...")` and its `order`. The
    constants below name the kinds aigw ships, for code that refers to one of them."""

    __slots__ = ()

    provider: ClassVar[Kind]
    resource_group: ClassVar[Kind]
    log_analytics: ClassVar[Kind]
    identity: ClassVar[Kind]
    key_vault: ClassVar[Kind]
    role_assignment: ClassVar[Kind]
    container_env: ClassVar[Kind]
    secret: ClassVar[Kind]
    container_app: ClassVar[Kind]

    @property
    def value(self) -> str:
        return str(self)


Kind.provider = Kind("provider")
Kind.resource_group = Kind("resource_group")
Kind.log_analytics = Kind("log_analytics")
Kind.identity = Kind("identity")
Kind.key_vault = Kind("key_vault")
Kind.role_assignment = Kind("role_assignment")
Kind.container_env = Kind("container_env")
Kind.secret = Kind("secret")
Kind.container_app = Kind("container_app")


@dataclass(frozen=True)
class Ref:
    """A value known only after another resource exists: `outputs[key][attr]`."""

    key: str
    attr: str

    def __str__(self) -> str:
        return f"(known after {self.key} exists)"


@dataclass(frozen=True)
class Resource:
    key: str  # unique within an environment, e.g. "key_vault" or "secret:gateway-key"
    kind: Kind
    name: str
    depends_on: tuple[str, ...] = ()
    managed: dict[str, Any] = field(default_factory=dict)  # fields aigw owns, with Refs
    owned: bool = True  # carries aigw's tags (providers and role assignments don't)
    display: str = ""  # what people read instead of `name` (role assignments are GUIDs)

    @property
    def label(self) -> str:
        return f"{self.kind.value} {self.name}"


@dataclass(frozen=True)
class Desired:
    env: str
    subscription_id: str
    resource_group: str
    location: str
    tags: dict[str, str]
    resources: tuple[Resource, ...]
    config_sha256: str
    config_yaml: str
    # secret name -> content, for each file of the config volume (config.yaml, the guard)
    volume_files: dict[str, str]

    def by_key(self) -> dict[str, Resource]:
        return {r.key: r for r in self.resources}


@dataclass(frozen=True)
class Observed:
    """What Azure holds for one resource, reduced to the fields aigw manages."""

    exists: bool
    fields: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] | None = None
    outputs: dict[str, Any] = field(default_factory=dict)  # principal_id, vault_uri, fqdn...
    soft_deleted: bool = False  # a vault of this name waits in the deleted state
    purge_protected: bool = False
    value_matches: bool | None = None  # Key Vault secrets: None = could not compare
    foreign_contents: tuple[str, ...] = ()  # resource group: resources aigw does not own

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Observed:
        data = dict(data)
        data["foreign_contents"] = tuple(data.get("foreign_contents", ()))
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return {
            "exists": self.exists,
            "fields": self.fields,
            "tags": self.tags,
            "outputs": self.outputs,
            "soft_deleted": self.soft_deleted,
            "purge_protected": self.purge_protected,
            "value_matches": self.value_matches,
            "foreign_contents": list(self.foreign_contents),
        }


ABSENT = Observed(exists=False)


def resolve(value: Any, outputs: Mapping[str, Mapping[str, Any]]) -> Any:
    """Replace Refs with values from `outputs` (key -> attrs); unknown ones stay Refs."""
    if isinstance(value, Ref):
        return outputs.get(value.key, {}).get(value.attr, value)
    if isinstance(value, Mapping):
        return {k: resolve(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs) for v in value]
    return value


class Key:
    """The keys (`Resource.key`, `Desired.by_key()`, `Ctx.outputs`) of the resources there is
    one of per environment: their kind's value (engine/desired.py builds them)."""

    resource_group = Kind.resource_group.value
    log_analytics = Kind.log_analytics.value
    identity = Kind.identity.value
    key_vault = Kind.key_vault.value
    container_env = Kind.container_env.value
    container_app = Kind.container_app.value
