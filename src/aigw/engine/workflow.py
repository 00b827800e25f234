"""The workflows behind plan, deploy, destroy and status: config -> desired -> observe -> plan
-> apply. No rendering here (the CLI does that) and no SDK import at module level."""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aigw.config.model import EnvConfig
from aigw.engine.desired import build_desired
from aigw.engine.plan import Plan, plan_deploy, plan_destroy
from aigw.errors import AigwError, UserError
from aigw.model import Desired, Key, Observed
from aigw.resources import names_of
from aigw.secrets import Secret, Secrets

if TYPE_CHECKING:
    from aigw.azure.context import Ctx
    from aigw.azure.session import Target
    from aigw.engine.apply import ApplyResult, Listener


def localcloud_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aigw" / "localcloud"
    return Path(os.environ.get("AIGW_LOCALCLOUD_DIR", default)).expanduser()


def local_target(state_dir: Path | None = None) -> Target:
    """The local cloud (started if needed): its ARM URL, CA and a static-token credential."""
    from aigw.azure.session import Target
    from aigw.engine.localcloud import ensure_running
    from aigw_localcloud.core.credential import LocalCredential, token_kind

    directory = state_dir or localcloud_dir()
    ep = ensure_running(directory)
    # The local cloud's deployer principal (Owner of its subscription), unless a test asks
    # to act as somebody else.
    principal = os.environ.get("AIGW_LOCALCLOUD_PRINCIPAL") or ep.deployer_principal_id
    cred = LocalCredential(principal, ep.tenant_id, token_kind(directory, principal))
    return Target(
        subscription_id=ep.subscription_id,
        credential=cred,
        tenant_id=ep.tenant_id,
        base_url=ep.arm_url,
        ca_file=Path(ep.ca_file),
        local=True,
        local_state_dir=Path(ep.state_dir),
        polling_interval=0.2,
    )


def make_target(config: EnvConfig, *, cloud: str, subscription: str | None, debug: bool) -> Target:
    if cloud == "local":
        target = local_target()
        target.debug_http = debug
        return target
    if cloud != "azure":
        raise UserError(f"unknown --cloud {cloud!r}", hint="use azure or local")
    from aigw.azure.session import azure_target

    return azure_target(subscription or config.subscription_id, debug_http=debug)


def read_secrets(config: EnvConfig, *, required: bool) -> Secrets:
    """Both keys from the environment variables the YAML names; when not required, missing
    ones are None (plan in a pull request has no secrets: values are then not compared)."""
    from aigw.secrets import read_secrets as read

    others = {  # the other upstreams' keys (several upstreams per model, auth: key)
        name: var
        for name, u in config.used_upstreams().items()
        if u is not config.azure_openai and (var := u.key_env) is not None
    }
    out = read(
        config.gateway.key_env,
        config.azure_openai.key_env,
        required=required,
        upstream_key_envs=others,
    )
    gateway_key = out.gateway_key
    if gateway_key is not None:  # refused before any Azure call (issue 17 S3)
        from aigw.gateway.key_strength import check_gateway_key

        check_gateway_key(gateway_key.reveal(), gateway_key.source)
    return out


@dataclass
class Session:
    config: EnvConfig
    target: Target
    desired: Desired
    ctx: Ctx

    def close(self) -> None:
        self.ctx.clients.close()


def open_session(
    config: EnvConfig,
    target: Target,
    *,
    secrets: Secrets,
    role_wait_timeout: float = 600.0,
) -> Session:
    from aigw.azure.context import Ctx
    from aigw.azure.session import Clients, whoami_kind

    principal, tenant, kind = whoami_kind(target)
    desired = build_desired(
        config,
        subscription_id=target.subscription_id,
        tenant_id=tenant,
        deployer_principal_id=principal,
        deployer_principal_type=kind,
    )
    ctx = Ctx(
        clients=Clients(target),
        desired=desired,
        secrets=secrets,
        role_wait_timeout=role_wait_timeout,
        poll_interval=0.2 if target.local else 2.0,
    )
    return Session(config=config, target=target, desired=desired, ctx=ctx)


def observe(session: Session, *, destroy: bool = False, wait: bool = False) -> dict[str, Observed]:
    from aigw.engine.observe import observe_all

    return observe_all(session.ctx, destroy=destroy, wait=wait)


def make_plan(session: Session, *, destroy: bool = False, purge: bool = False) -> Plan:
    if destroy:
        return plan_destroy(session.desired, observe(session, destroy=True), purge=purge)
    from aigw.engine import preflight, upstream_preflight

    # The upstream preflight's reads (the Azure OpenAI account, its deployments) go out first
    # and beside the observation's, not after them; what they find is checked, and its errors
    # raised, in the same order as ever: after the observation and its own preflight.
    with ThreadPoolExecutor(max_workers=1) as pool:
        upstream = pool.submit(upstream_preflight.read, session.ctx, session.config)
        # A deploy plan waits for operations still running (e.g. left by a crashed deploy).
        observed = observe(session, wait=True)
        preflight.raise_first(preflight.problems(session.desired, observed))
        file = f"{session.desired.env}.yaml"
        upstream_preflight.check(session.ctx, session.config, file, upstream.result())
    return plan_deploy(session.desired, observed)


def apply(session: Session, plan: Plan, listener: Listener | None = None) -> ApplyResult:
    from aigw.engine.apply import apply_plan

    return apply_plan(session.ctx, plan, listener=listener)


def outputs(session: Session) -> dict[str, Any]:
    """The scaffold's outputs: gateway URL, FQDN, resource group, vault name."""
    out = session.ctx.outputs
    names = names_of(session.config)
    from aigw.gateway.url import gateway_url

    fqdn = out.get(Key.container_app, {}).get("fqdn")
    return {
        # --cloud local: only a loopback URL, never a name to look up (None while provisioning)
        "gateway_url": gateway_url(fqdn, local=session.target.local),
        "fqdn": fqdn,
        "resource_group": names.resource_group,
        "key_vault": names.key_vault,
        "key_vault_uri": out.get(Key.key_vault, {}).get("vault_uri"),
        "container_app": names.container_app,
        "latest_revision": out.get(Key.container_app, {}).get("latest_revision"),
        "identity_client_id": out.get(Key.identity, {}).get("client_id"),
    }


def health(session: Session, observed: dict[str, Observed]) -> list[dict[str, Any]]:
    """One row per resource: exists, and what Azure says of its state (each kind's `status`)."""
    from aigw.resources import adapter

    rows = []
    for res in session.desired.resources:
        obs = observed.get(res.key)
        exists = bool(obs and obs.exists)
        state = "present" if exists else "missing"
        if obs is not None:
            line = adapter(res.kind).status(obs)
            if line is not None:
                exists, state = line
            elif obs.soft_deleted:
                state = "soft-deleted"
        name = res.display or res.name
        rows.append({"kind": res.kind.value, "name": name, "ok": exists, "state": state})
    return rows


def is_deployed(session: Session, observed: dict[str, Observed]) -> bool:
    """Whether anything of this environment exists (providers and soft-deleted vaults aside)."""
    from aigw.resources import adapter

    for res in session.desired.resources:
        obs = observed.get(res.key)
        registration = adapter(res.kind).registration
        if not registration and obs and obs.exists and not obs.soft_deleted:
            return True
    return False


def not_running_unless_answering(
    rows: list[dict[str, Any]], gateway: dict[str, Any]
) -> list[dict[str, Any]]:
    """The gateway's row (its kind `serves_gateway`: the container app) says Running only if
    the gateway answers its liveness probe (a restarted local cloud, a crashed replica: Azure
    may still say Running)."""
    from aigw.model import Kind
    from aigw.resources import adapter

    if gateway.get("ok"):
        return rows
    out = []
    for row in rows:
        if adapter(Kind(row["kind"])).serves_gateway and row["ok"]:
            state = str(row["state"]).replace("Running", "not answering")
            row = {**row, "ok": False, "state": state}
        out.append(row)
    return out


def with_local_key(config: EnvConfig, secrets: Secrets) -> tuple[EnvConfig, Secrets]:
    """`config` calling Azure OpenAI with the local account's key, for a gateway run outside
    Azure against the local cloud, where no managed identity exists: the key the world was
    seeded with (`key_env` in the world file, AIGW_AZURE_OPENAI_API_KEY in the example)."""
    from aigw import redact
    from aigw.secrets import AZURE_OPENAI_KEY_ENV, Secret

    value = os.environ.get(AZURE_OPENAI_KEY_ENV, "")
    if not value:
        raise UserError(
            f"aigw serve --cloud local with auth: identity calls the local Azure OpenAI account "
            f"with its key, and {AZURE_OPENAI_KEY_ENV} is not set",
            hint=f"export {AZURE_OPENAI_KEY_ENV} with the key the local cloud's world was "
            "seeded with (its key_env)",
        )
    redact.register(value)
    upstream = config.azure_openai.model_copy(
        update={"auth": "key", "api_key_env": AZURE_OPENAI_KEY_ENV}
    )
    keyed = config.model_copy(update={"azure_openai": upstream})
    return keyed, dataclasses.replace(secrets, azure_openai_key=Secret(AZURE_OPENAI_KEY_ENV, value))


def use_local_openai(config: EnvConfig) -> EnvConfig:
    """Under --cloud local, point each Azure OpenAI endpoint the YAML's models use (the primary
    and every named upstream) at the local emulator serving that account of the local cloud's
    world, found by the endpoint's first label (as DNS finds it on Azure). Nothing of the YAML
    is given to the cloud: an account or deployment its world lacks fails as on Azure."""
    from aigw.config.model import PRIMARY
    from aigw.engine.localcloud import openai_account_url

    state_dir = localcloud_dir()
    urls = {}
    for name, upstream in config.used_upstreams().items():
        account = upstream.host.split(".", 1)[0].lower()
        url = openai_account_url(state_dir, account)
        if url is None:
            field = "azure_openai.endpoint" if name == PRIMARY else f"upstreams.{name}.endpoint"
            raise LocalWorldError(
                f"{config.env}.yaml: {field}: the local cloud has no Azure "
                f"OpenAI account {account!r} (on Azure {upstream.host} would not resolve)",
                hint="seed the local cloud's world with the accounts your Azure has: aigw "
                "localcloud seed localcloud/world.yaml (see README, 'The local cloud's world')",
            )
        urls[name] = url
    return config.with_endpoints(urls)


class LocalWorldError(AigwError):
    """The local cloud's world lacks what the YAML expects to find in Azure."""

    exit_code = 1


def gateway_key_from_vault(session: Session) -> Secret | None:
    """The gateway key as stored in Key Vault (when its env var is not set here)."""
    from aigw import redact
    from aigw.config.naming import GATEWAY_KEY_SECRET

    vault_uri = session.ctx.outputs.get(Key.key_vault, {}).get("vault_uri")
    if not vault_uri:
        return None
    value = session.ctx.clients.secrets(vault_uri).get_secret(GATEWAY_KEY_SECRET).value
    if not value:
        return None
    redact.register(value)
    return Secret(f"Key Vault {GATEWAY_KEY_SECRET}", value)
