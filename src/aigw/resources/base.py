"""Shared skeleton of the adapters: the optional operations a kind may not have."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from aigw.model import Kind, Observed, Resource

if TYPE_CHECKING:
    from aigw.azure.context import Ctx
    from aigw.config.model import EnvConfig
    from aigw.config.naming import Names
    from aigw.gateway.config import RenderedGateway


@dataclass(frozen=True)
class Inputs:
    """What a kind's `desired` is built from (pure data: no I/O)."""

    config: EnvConfig
    names: Names
    tags: dict[str, str]
    subscription_id: str
    tenant_id: str
    deployer_principal_id: str
    deployer_principal_type: str | None
    rendered: RenderedGateway

    @property
    def rg_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.names.resource_group}"


class Base:
    """Subclass per kind, set `kind`, override what the kind supports."""

    kind: ClassVar[Kind]
    # Dependency order (print order and tie-break): larger than the order of every kind it
    # references. The shipped kinds use 10..90 in steps of 10.
    order: ClassVar[int]
    # Its resource provider namespace (registered before it is created) and ARM type.
    namespace: ClassVar[str | None] = None
    arm_type: ClassVar[str | None] = None
    needs_role_wait: ClassVar[bool] = False
    inside_vault: ClassVar[bool] = False
    registration: ClassVar[bool] = False
    immutable: ClassVar[bool] = False
    soft_delete: ClassVar[bool] = False
    reads_vault_secrets: ClassVar[bool] = False

    def fixed_fields(self, obs: Observed) -> frozenset[str]:
        return frozenset()

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        """This kind's resources of one environment (pure)."""
        return ()

    def arm_id(self, inp: Inputs, name: str) -> str:
        return f"{inp.rg_id}/providers/{self.namespace}/{self.arm_type}/{name}"

    def needs(self, *keys: str) -> tuple[str, ...]:
        """depends_on: its provider's registration, then `keys`."""
        return (f"provider:{self.namespace}", *keys) if self.namespace else keys

    def _unsupported(self, what: str) -> NotImplementedError:
        return NotImplementedError(f"{self.kind.value} has no {what}")

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        raise self._unsupported("observe")

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        raise self._unsupported("ensure")

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        raise self._unsupported("delete")

    def register(self, ctx: Ctx, res: Resource) -> Mapping[str, Any]:
        raise self._unsupported("register")

    def restart(self, ctx: Ctx, res: Resource) -> Mapping[str, Any]:
        raise self._unsupported("restart")

    def purge(self, ctx: Ctx, res: Resource) -> None:
        raise self._unsupported("purge")
