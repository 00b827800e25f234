"""Desired state (pure): every resource aigw owns for one environment, its dependencies, and
the fields aigw manages. Only managed fields are ever compared, so server-side fields
(ids, provisioningState, systemData...) never show up as drift.

Values that exist only once another resource does (an identity's principalId, a workspace's
customerId, a vault's URI) are `Ref`s, resolved at apply time from earlier results.
"""

from __future__ import annotations

import uuid
from typing import Any

from aigw.config.model import EnvConfig
from aigw.config.naming import (
    AZURE_OPENAI_KEY_SECRET,
    GATEWAY_KEY_SECRET,
    GUARD_SECRET,
    LITELLM_CONFIG_SECRET,
)
from aigw.gateway.config import (
    AZURE_OPENAI_KEY_VAR,
    CLIENT_ID_VAR,
    CONFIG_FILE_NAME,
    CONFIG_MOUNT_DIR,
    GATEWAY_KEY_VAR,
    GUARD_FILE_NAME,
    render_gateway,
)
from aigw.model import SECRET_VALUE, Desired, Kind, Ref, Resource

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
# azure_openai.auth: identity: the app's identity calls Azure OpenAI with Entra ID tokens.
COGNITIVE_SERVICES_OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
REQUIRED_PROVIDERS = (
    "Microsoft.App",
    "Microsoft.KeyVault",
    "Microsoft.ManagedIdentity",
    "Microsoft.OperationalInsights",
)
# The config volume: secret name -> file name below CONFIG_MOUNT_DIR.
VOLUME_FILES = {LITELLM_CONFIG_SECRET: CONFIG_FILE_NAME, GUARD_SECRET: GUARD_FILE_NAME}


def role_assignment_name(scope: str, principal: str, role: str) -> str:
    """Deterministic assignment name: a re-run, a crash-resume or a concurrent deploy PUTs the
    same assignment instead of adding a duplicate."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aigw:{scope.lower()}:{principal}:{role}"))


def openai_user_role(config: EnvConfig, identity_id: str) -> Resource:
    """Cognitive Services OpenAI User for the app's identity on the Azure OpenAI account: the
    YAML's resource_id, else the account found by the endpoint's host at observe time (the
    role_assignment adapter). The account is not aigw's: destroy removes only this grant."""
    upstream = config.azure_openai
    where = upstream.resource_id.lower() if upstream.resource_id else f"openai:{upstream.host}"
    account = {"resourceId": upstream.resource_id, "endpoint": upstream.endpoint}
    return Resource(
        "role:app-openai-user",
        Kind.role_assignment,
        role_assignment_name(where, f"identity:{identity_id}", COGNITIVE_SERVICES_OPENAI_USER),
        depends_on=("identity",),
        managed={
            "openaiAccount": account,
            "roleDefinitionId": COGNITIVE_SERVICES_OPENAI_USER,
            "principalId": Ref("identity", "principal_id"),
            "principalType": "ServicePrincipal",
        },
        owned=False,
        display=f"Cognitive Services OpenAI User on {upstream.host} for the app's identity",
    )


def ip_rules(allowed_ips: list[str]) -> list[dict[str, str]]:
    """Container Apps ingress IP restrictions for gateway.allowed_ips: Allow rules only (Azure
    refuses a mix of Allow and Deny; with Allow rules, every other address is denied)."""
    return [
        {
            "name": f"aigw-allow-{i + 1}",
            "ipAddressRange": cidr,
            "action": "Allow",
            "description": "gateway.allowed_ips (aigw)",
        }
        for i, cidr in enumerate(allowed_ips)
    ]


def arm_ids(subscription_id: str, rg: str) -> dict[str, str]:
    base = f"/subscriptions/{subscription_id}/resourceGroups/{rg}"
    return {
        "rg": base,
        "law": f"{base}/providers/Microsoft.OperationalInsights/workspaces/",
        "cae": f"{base}/providers/Microsoft.App/managedEnvironments/",
        "ca": f"{base}/providers/Microsoft.App/containerApps/",
        "kv": f"{base}/providers/Microsoft.KeyVault/vaults/",
        "id": f"{base}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/",
    }


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
    names = config.names()
    tags = config.all_tags()
    loc = config.location
    ids = arm_ids(subscription_id, names.resource_group)
    vault_id = ids["kv"] + names.key_vault
    identity_id = ids["id"] + names.identity
    rendered = render_gateway(config)
    gw = config.gateway

    providers = [
        Resource(
            f"provider:{ns}",
            Kind.provider,
            ns,
            managed={"registrationState": "Registered"},
            owned=False,
        )
        for ns in REQUIRED_PROVIDERS
    ]

    def needs(ns: str, *keys: str) -> tuple[str, ...]:
        return (f"provider:{ns}", *keys)

    rg = Resource(
        "resource_group",
        Kind.resource_group,
        names.resource_group,
        managed={"location": loc, "tags": tags},
    )
    law = Resource(
        "log_analytics",
        Kind.log_analytics,
        names.log_analytics,
        depends_on=needs("Microsoft.OperationalInsights", "resource_group"),
        managed={"location": loc, "tags": tags, "sku": "PerGB2018", "retentionInDays": 30},
    )
    identity = Resource(
        "identity",
        Kind.identity,
        names.identity,
        depends_on=needs("Microsoft.ManagedIdentity", "resource_group"),
        managed={"location": loc, "tags": tags},
    )
    vault = Resource(
        "key_vault",
        Kind.key_vault,
        names.key_vault,
        depends_on=needs("Microsoft.KeyVault", "resource_group"),
        managed={
            "location": loc,
            "tags": tags,
            "sku": "standard",
            "tenantId": tenant_id,
            "enableRbacAuthorization": True,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": config.key_vault.soft_delete_retention_days,
            "enablePurgeProtection": config.key_vault.purge_protection,
            # Stated, not left to the default: the container app reads both keys as Key Vault
            # references through its identity, and Container Apps is not a Key Vault "trusted
            # service" (learn.microsoft.com/azure/key-vault/general/network-security;
            # microsoft/azure-container-apps#1287, #888), so with "Disabled" (private endpoint
            # only) a consumption environment without VNet + private endpoint cannot resolve
            # them and provisioning fails (learn.microsoft.com/azure/container-apps/
            # manage-secrets). Data-plane access stays RBAC-only. README: "Key Vault network".
            "publicNetworkAccess": "Enabled",
        },
    )
    role_user = Resource(
        "role:app-secrets-user",
        Kind.role_assignment,
        role_assignment_name(vault_id, f"identity:{identity_id}", KEY_VAULT_SECRETS_USER),
        depends_on=("key_vault", "identity"),
        managed={
            "scope": vault_id,
            "roleDefinitionId": KEY_VAULT_SECRETS_USER,
            "principalId": Ref("identity", "principal_id"),
            "principalType": "ServicePrincipal",
        },
        owned=False,
        display="Key Vault Secrets User for the app's identity",
    )
    role_officer = Resource(
        "role:deployer-secrets-officer",
        Kind.role_assignment,
        role_assignment_name(vault_id, deployer_principal_id, KEY_VAULT_SECRETS_OFFICER),
        depends_on=("key_vault",),
        managed={
            "scope": vault_id,
            "roleDefinitionId": KEY_VAULT_SECRETS_OFFICER,
            "principalId": deployer_principal_id,
            "principalType": deployer_principal_type,
        },
        owned=False,
        display="Key Vault Secrets Officer for the deployer",
    )
    # A private registry (gateway.registry): the app's identity pulls with AcrPull on it. The
    # registry's ARM id is found by its name at apply time (role_assignment adapter).
    pull_roles = []
    if gw.registry is not None:
        server = gw.registry.server
        pull_roles.append(
            Resource(
                "role:app-acr-pull",
                Kind.role_assignment,
                role_assignment_name(f"acr:{server}", f"identity:{identity_id}", ACR_PULL),
                depends_on=("identity",),
                managed={
                    "registryServer": server,
                    "roleDefinitionId": ACR_PULL,
                    "principalId": Ref("identity", "principal_id"),
                    "principalType": "ServicePrincipal",
                },
                owned=False,
                display=f"AcrPull on {server} for the app's identity",
            )
        )
    registry_fields: dict[str, Any] = (
        {"registries": [{"server": gw.registry.server, "identity": identity_id.lower()}]}
        if gw.registry is not None
        else {}
    )
    keyed = config.azure_openai.auth == "key"
    openai_roles = [] if keyed else [openai_user_role(config, identity_id)]
    secrets = [
        Resource(
            f"secret:{name}",
            Kind.secret,
            name,
            depends_on=("key_vault", "role:deployer-secrets-officer"),
            managed={"value": SECRET_VALUE, "source": what},
            owned=False,  # lives inside our vault; ownership is the vault's
        )
        for name, what in (
            (GATEWAY_KEY_SECRET, "gateway_key"),
            *([(AZURE_OPENAI_KEY_SECRET, "azure_openai_key")] if keyed else []),
        )
    ]
    env = Resource(
        "container_env",
        Kind.container_env,
        names.container_env,
        depends_on=needs("Microsoft.App", "log_analytics"),
        managed={
            "location": loc,
            "tags": tags,
            "logAnalyticsCustomerId": Ref("log_analytics", "customer_id"),
        },
    )
    probes = [
        {"type": "Startup", "path": "/health/liveliness", "period": 2, "failureThreshold": 30},
        {"type": "Liveness", "path": "/health/liveliness", "period": 30, "failureThreshold": 3},
        {"type": "Readiness", "path": "/health/readiness", "period": 10, "failureThreshold": 3},
    ]
    kv_url = Ref("key_vault", "vault_uri")
    app = Resource(
        "container_app",
        Kind.container_app,
        names.container_app,
        depends_on=(
            "container_env",
            "identity",
            "role:app-secrets-user",
            *(r.key for r in pull_roles),
            *(r.key for r in openai_roles),
            *(s.key for s in secrets),
        ),
        managed={
            "location": loc,
            "tags": tags,
            # ARM ids compare case-insensitively; Azure echoes them in varying case.
            "identity": identity_id.lower(),
            "environmentId": (ids["cae"] + names.container_env).lower(),
            "ingress": {
                "external": gw.ingress == "external",
                "targetPort": gw.port,
                "ipSecurityRestrictions": ip_rules(gw.allowed_ips),
            },
            # Versioned references: a new secret version changes the app's secret, which the
            # platform must fetch (a versionless one follows on Azure's schedule, up to 30 min:
            # learn.microsoft.com/azure/container-apps/manage-secrets). The version is what
            # Key Vault reports as current, so an unchanged key plans nothing.
            "secrets": {
                GATEWAY_KEY_SECRET: {
                    "keyVaultSecret": GATEWAY_KEY_SECRET,
                    "vaultUri": kv_url,
                    "version": Ref(f"secret:{GATEWAY_KEY_SECRET}", "version"),
                },
                **(
                    {
                        AZURE_OPENAI_KEY_SECRET: {
                            "keyVaultSecret": AZURE_OPENAI_KEY_SECRET,
                            "vaultUri": kv_url,
                            "version": Ref(f"secret:{AZURE_OPENAI_KEY_SECRET}", "version"),
                        }
                    }
                    if keyed
                    else {}
                ),
                **{name: {"sha256": rendered.sha256} for name in VOLUME_FILES},
            },
            "image": gw.image,
            **registry_fields,
            "args": list(rendered.args),
            "env": {
                **rendered.env,
                GATEWAY_KEY_VAR: {"secretRef": GATEWAY_KEY_SECRET},
                # key: the Azure OpenAI key from Key Vault; identity: which of the app's
                # identities LiteLLM's ManagedIdentityCredential asks tokens for.
                **(
                    {AZURE_OPENAI_KEY_VAR: {"secretRef": AZURE_OPENAI_KEY_SECRET}}
                    if keyed
                    else {CLIENT_ID_VAR: Ref("identity", "client_id")}
                ),
            },
            "cpu": gw.cpu,
            "memory": gw.memory,
            "minReplicas": gw.min_replicas,
            "maxReplicas": gw.max_replicas,
            "probes": probes,
            "configMount": CONFIG_MOUNT_DIR,
            "configFiles": dict(VOLUME_FILES),
        },
    )
    resources = (
        *providers, rg, law, identity, vault, role_officer, role_user, *pull_roles,
        *openai_roles, *secrets, env, app,
    )  # fmt: skip
    return Desired(
        env=config.env,
        subscription_id=subscription_id,
        resource_group=names.resource_group,
        location=loc,
        tags=tags,
        resources=resources,
        config_sha256=rendered.sha256,
        config_yaml=rendered.config_yaml,
        volume_files={secret: rendered.files[file] for secret, file in VOLUME_FILES.items()},
    )
