"""A run's session (config, target, desired state, clients) and the plan / apply / outputs
steps behind plan, deploy and destroy: config -> desired -> observe -> plan -> apply."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aigw.config.model import EnvConfig
from aigw.engine.desired import build_desired
from aigw.engine.plan import Plan, plan_deploy, plan_destroy
from aigw.resources import names_of
from aigw.secrets import Secrets
from aigw.state import Desired, Key, Observed

if TYPE_CHECKING:
    from aigw.azure.context import Ctx
    from aigw.azure.session import Target
    from aigw.engine.apply import ApplyResult, Listener


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
    from aigw.azure.session import Clients, whoami_principal_type

    principal, tenant, principal_type = whoami_principal_type(target)
    desired = build_desired(
        config,
        subscription_id=target.subscription_id,
        tenant_id=tenant,
        deployer_principal_id=principal,
        deployer_principal_type=principal_type,
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
