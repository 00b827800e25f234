"""Shared skeleton of the adapters: the optional operations a kind may not have."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from aigw.state import Kind, Observed, Resource

if TYPE_CHECKING:
    from aigw.azure.context import Ctx
    from aigw.config.model import EnvConfig
    from aigw.config.naming import NameRule, Names
    from aigw.gateway.render import RenderedGateway


@dataclass(frozen=True)
class Finding:
    """One line of `aigw doctor` a kind adds about itself (engine.findings.Finding's fields)."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class AppWiring:
    """What a kind hands the gateway's container app (container_app.py asks every kind):
    plain environment values (strings or Refs to its outputs), the Key Vault secrets it reads
    (secret name -> the variable that gets it as a Key Vault reference), and the resource keys
    the app then waits for."""

    env: dict[str, Any]
    vault_secrets: dict[str, str]
    depends_on: tuple[str, ...] = ()


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
    # Offered per region: preflight and `aigw doctor` check `namespace/arm_type` against the
    # provider GET's resourceTypes[].locations for the YAML's location.
    located: ClassVar[bool] = False
    # Its status row says running only if the gateway answers its liveness probe.
    serves_gateway: ClassVar[bool] = False
    # Its Azure name: a rule (with its `tag`, the kind segment of the naming scheme); None: the
    # kind has no name of its own in `Names` (providers, role assignments, secrets).
    name_rule: ClassVar[NameRule | None] = None
    # The SDK management client it uses: (module, class), built by `client(ctx)`.
    sdk_client: ClassVar[tuple[str, str] | None] = None

    def name(self, config: EnvConfig) -> str:
        """Its Azure name in this environment (`config.naming.compose` with its rule)."""
        from aigw.config.naming import compose

        assert self.name_rule is not None and config.location_short is not None
        args = (config.name_prefix, config.env, config.project)
        return compose(*args, self.name_rule, config.location_short)

    def client(self, ctx: Ctx) -> Any:
        """Its SDK management client (`sdk_client`), shared by the run's other calls."""
        if self.sdk_client is None:
            raise self._unsupported("SDK client")
        return ctx.clients.mgmt(*self.sdk_client)

    def status(self, obs: Observed) -> tuple[bool, str] | None:
        """Its `aigw status` row when it exists in Azure (ok, state); None: "present"."""
        return None

    # `aigw doctor` observes it before preflight (its checks need what Azure holds of it).
    doctor_reads: ClassVar[bool] = False

    def doctor(
        self, ctx: Ctx, res: Resource, observed: Mapping[str, Observed], refused: set[str]
    ) -> list[Finding]:
        """What `aigw doctor` says of it (read only, after preflight): `observed` holds what the
        doctor read so far, `refused` the environment-file fields preflight refused."""
        return []

    def from_body(self, body: dict[str, Any]) -> Observed:
        """The Observed of its GET body (a caller that GETs it itself, e.g. serving_urls)."""
        raise self._unsupported("from_body")

    def probe(self, ctx: Ctx, res: Resource, vault_uri: str) -> Observed | None:
        """Inside-vault kinds: observe at a predicted vault URI (None: read after the GET)."""
        return None

    def current_version(self, ctx: Ctx, vault_uri: str, name: str) -> str:
        """Inside-vault kinds: the version Key Vault serves for `name` now."""
        raise self._unsupported("current_version")

    def volume_files(self, inp: Inputs) -> dict[str, str]:
        """Secret name -> file of the rendered gateway it mounts in the config volume."""
        return {}

    def app_wiring(self, inp: Inputs) -> AppWiring | None:
        """What it hands the gateway's container app (None: nothing)."""
        return None

    def secret_value(self, ctx: Ctx, res: Resource) -> str | None:
        """A secret it issues (e.g. a cache's access key), read from Azure for the Key Vault
        secret that names it (`managed["read_from"]`); None while `res` does not exist."""
        raise self._unsupported("secret_value")

    def example_outputs(self, res: Resource) -> dict[str, Any]:
        """The outputs a deployed `res` has in the test fixtures (tests/plan_support.py,
        tests/tools/refresh_plan_fixtures.py): fake but well-formed."""
        return {}

    def example_observed(self, res: Resource, fields: dict[str, Any]) -> Observed:
        """A deployed `res` as the fixtures observe it, `fields` its resolved managed fields."""
        fields = dict(fields)
        tags = fields.pop("tags", None)
        return Observed(exists=True, fields=fields, tags=tags, outputs=self.example_outputs(res))

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
