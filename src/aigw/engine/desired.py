"""Desired state (pure): every resource aigw owns for one environment, its dependencies, and
the fields aigw manages. Only managed fields are ever compared, so server-side fields
(ids, provisioningState, systemData...) never show up as drift.

Each kind builds its own resources (`desired` on its adapter in `aigw.resources`); this module
composes them in the registry's dependency order. Values that exist only once another resource
does (an identity's principalId, a workspace's customerId, a vault's URI) are `Ref`s, resolved
at apply time from earlier results.
"""

from __future__ import annotations

from aigw.config.model import EnvConfig
from aigw.gateway.render import render_gateway
from aigw.resources import adapters, names_of
from aigw.resources.base import Inputs
from aigw.state import Desired


def build_desired(
    config: EnvConfig,
    *,
    subscription_id: str,
    tenant_id: str,
    deployer_principal_id: str,
    deployer_principal_type: str | None = None,
) -> Desired:
    """Every resource of one environment, in dependency order (pure).

    `deployer_principal_type`: User or ServicePrincipal, from the token (ARM refuses a wrong one
    with UnmatchedPrincipalType); None leaves it out and ARM looks the principal up."""
    names = names_of(config)
    rendered = render_gateway(config)
    inp = Inputs(
        config=config,
        names=names,
        tags=config.all_tags(),
        subscription_id=subscription_id,
        tenant_id=tenant_id,
        deployer_principal_id=deployer_principal_id,
        deployer_principal_type=deployer_principal_type,
        rendered=rendered,
    )
    resources = tuple(r for a in adapters() for r in a.desired(inp))
    keys = [r.key for r in resources]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"two resources share a key: {sorted(k for k in keys if keys.count(k) > 1)}"
        )
    return Desired(
        env=config.env,
        subscription_id=subscription_id,
        resource_group=names.resource_group,
        location=config.location,
        tags=inp.tags,
        resources=resources,
        config_sha256=rendered.sha256,
        config_yaml=rendered.config_yaml,
        volume_files={k: v for a in adapters() for k, v in a.volume_files(inp).items()},
    )
