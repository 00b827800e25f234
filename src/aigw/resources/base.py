"""Shared skeleton of the adapters: the optional operations a kind may not have."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from aigw.model import Kind, Observed, Resource

if TYPE_CHECKING:
    from aigw.azure.context import Ctx


class Base:
    """Subclass per kind, set `kind`, override what the kind supports."""

    kind: ClassVar[Kind]
    needs_role_wait: ClassVar[bool] = False
    inside_vault: ClassVar[bool] = False
    registration: ClassVar[bool] = False
    immutable: ClassVar[bool] = False
    soft_delete: ClassVar[bool] = False
    reads_vault_secrets: ClassVar[bool] = False

    def fixed_fields(self, obs: Observed) -> frozenset[str]:
        return frozenset()

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
