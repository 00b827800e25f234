"""The resource kinds aigw manages: one module per kind, each registering its adapter here.

`adapter(kind)` is how the engine reaches a kind: typed by the `Adapter` protocol, so mypy
checks every adapter's methods. The modules are imported on first use (keeps the Azure SDK
off `aigw --help`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aigw.model import Kind, Observed, Resource

if TYPE_CHECKING:
    from aigw.azure.context import Ctx
    from aigw.resources.base import Base


class Adapter(Protocol):
    """What the engine asks of a resource kind. Optional operations (register, restart, purge)
    raise NotImplementedError where a kind has none (resources.base.Base)."""

    @property
    def kind(self) -> Kind: ...

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
