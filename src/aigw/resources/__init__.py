"""The resource kinds aigw manages: one module per kind, each registering its adapter here.

`adapter(kind)` is how the engine reaches a kind: typed by the `Adapter` protocol, so mypy
checks every adapter's methods. The modules are imported on first use (keeps the Azure SDK
off `aigw --help`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aigw.state import Kind, Observed, Resource

if TYPE_CHECKING:
    from aigw.azure.context import Ctx
    from aigw.config.model import EnvConfig
    from aigw.config.naming import NameRule, Names
    from aigw.resources.base import AppWiring, Base, Finding, Inputs


class Adapter(Protocol):
    """What the engine asks of a resource kind. Optional operations (register, restart, purge)
    raise NotImplementedError where a kind has none (resources.base.Base)."""

    @property
    def kind(self) -> Kind: ...

    @property
    def order(self) -> int:
        """Dependency order: larger than the order of every kind it references."""
        ...

    @property
    def namespace(self) -> str | None:
        """Its resource provider namespace (registered before it is created)."""
        ...

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        """This kind's resources of one environment (pure)."""
        ...

    def arm_id(self, inp: Inputs, name: str) -> str: ...

    @property
    def needs_role_wait(self) -> bool:
        """Its writes may wait for Entra ID / RBAC propagation (longer retry window)."""
        ...

    @property
    def inside_vault(self) -> bool:
        """Read at the vault's URI: observed once the vault's GET (or its guess) answers."""
        ...

    @property
    def registration(self) -> bool:
        """Registered at subscription level, not created (resource providers)."""
        ...

    @property
    def immutable(self) -> bool:
        """Never updated once it exists (a changed field makes another resource)."""
        ...

    @property
    def soft_delete(self) -> bool:
        """Deleting keeps it soft-deleted: recover on create, purge on destroy --purge."""
        ...

    @property
    def reads_vault_secrets(self) -> bool:
        """References Key Vault secrets by version: a secret written now updates it."""
        ...

    def fixed_fields(self, obs: Observed) -> frozenset[str]:
        """Managed fields Azure no longer lets change on `obs`: the plan shows no diff."""
        ...

    @property
    def arm_type(self) -> str | None:
        """Its ARM resource type in `namespace` (e.g. vaults)."""
        ...

    @property
    def located(self) -> bool:
        """Offered per region: preflight and doctor check the YAML's location offers it."""
        ...

    @property
    def serves_gateway(self) -> bool:
        """Its status row says running only if the gateway answers."""
        ...

    @property
    def name_rule(self) -> NameRule | None:
        """The rule of its Azure name (None: no name of its own in `Names`)."""
        ...

    def name(self, config: EnvConfig) -> str:
        """Its Azure name in this environment."""
        ...

    def client(self, ctx: Ctx) -> Any:
        """Its SDK management client."""
        ...

    def status(self, obs: Observed) -> tuple[bool, str] | None:
        """Its `aigw status` row (ok, state) when it exists; None: present."""
        ...

    @property
    def doctor_reads(self) -> bool:
        """`aigw doctor` observes it before preflight."""
        ...

    def doctor(
        self, ctx: Ctx, res: Resource, observed: Mapping[str, Observed], refused: set[str]
    ) -> list[Finding]:
        """What `aigw doctor` says of it (read only)."""
        ...

    def from_body(self, body: dict[str, Any]) -> Observed:
        """The Observed of its GET body."""
        ...

    def probe(self, ctx: Ctx, res: Resource, vault_uri: str) -> Observed | None:
        """Inside-vault kinds: observe at a predicted vault URI (None: read after the GET)."""
        ...

    def current_version(self, ctx: Ctx, vault_uri: str, name: str) -> str:
        """Inside-vault kinds: the version Key Vault serves for `name` now."""
        ...

    def volume_files(self, inp: Inputs) -> dict[str, str]:
        """Secret name -> rendered gateway file it mounts in the config volume."""
        ...

    def app_wiring(self, inp: Inputs) -> AppWiring | None:
        """What it hands the gateway's container app: env, Key Vault references, waits."""
        ...

    def secret_value(self, ctx: Ctx, res: Resource) -> str | None:
        """A secret it issues, read from Azure (None while `res` does not exist)."""
        ...

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        """Its outputs when deployed, in the test fixtures."""
        ...

    def example_observed(self, res: Resource, fields: dict[str, Any]) -> Observed:
        """A deployed `res` as the test fixtures observe it."""
        ...

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed: ...

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]: ...

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None: ...

    def register(self, ctx: Ctx, res: Resource) -> Mapping[str, Any]: ...

    def restart(self, ctx: Ctx, res: Resource) -> Mapping[str, Any]: ...

    def purge(self, ctx: Ctx, res: Resource) -> None: ...


_REGISTRY: dict[Kind, Adapter] = {}
B = TypeVar("B", bound="Base")


def registered(cls: type[B]) -> type[B]:
    """Class decorator: the kind's module registers its adapter where it is defined."""
    instance: Adapter = cls()
    if instance.kind in _REGISTRY:
        raise RuntimeError(f"two adapters for {instance.kind.value}")
    _REGISTRY[instance.kind] = instance
    return cls


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


def adapter(kind: Kind) -> Adapter:
    """The adapter of a resource kind."""
    if kind not in _REGISTRY:
        _load_all()
    return _REGISTRY[kind]


def adapters() -> list[Adapter]:
    """Every registered kind, in dependency order (the engine iterates these)."""
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda a: (a.order, a.kind))


def unregister(kind: Kind) -> None:
    """Forget a kind (tests that register one of their own)."""
    _REGISTRY.pop(kind, None)


def names_of(config: EnvConfig) -> Names:
    """Every Azure name of one environment, by kind: each registered kind with a name rule.
    A name no value of the file can make valid is the file's error (ConfigError, exit 2)."""
    from aigw.config.naming import Names, NamingError
    from aigw.errors import ConfigError

    try:
        return Names({a.kind.value: a.name(config) for a in adapters() if a.name_rule})
    except NamingError as err:
        raise ConfigError(f"{config.env}.yaml", "", str(err)) from None


def located_types() -> dict[str, tuple[str, ...]]:
    """namespace -> the ARM types aigw creates there that must be offered in the location."""
    out: dict[str, tuple[str, ...]] = {}
    for a in adapters():
        if a.located and a.namespace and a.arm_type:
            out[a.namespace] = (*out.get(a.namespace, ()), a.arm_type)
    return out
