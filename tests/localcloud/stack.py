"""A deploy-like sequence of SDK calls (what aigw deploy does), shared by several tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .conftest import SECRETS_OFFICER, SECRETS_USER, Clients

RG = "rg-test"
LOC = "eastus"
CONFIG_YAML = "model_list: []\n"
GATEWAY_KEY_FILE = "aigw_gateway_key"  # aigw.gateway.render.GATEWAY_KEY_FILE_NAME
# where the runner's spec holds the mounted gateway key
GATEWAY_KEY_PATH = f"/app/config/{GATEWAY_KEY_FILE}"


@dataclass
class Stack:
    rg: Any
    workspace: Any
    identity: Any
    vault: Any
    secret_id: str
    env: Any
    app: Any


def app_body(
    stack_env_id: str,
    identity_id: str,
    vault_uri: str,
    *,
    image: str = "litellm:1",
    extra_env: str = "a",
) -> dict[str, Any]:
    return {
        "location": LOC,
        "tags": {"managed-by": "aigw"},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
        "properties": {
            "managedEnvironmentId": stack_env_id,
            "configuration": {
                "ingress": {"external": True, "targetPort": 4000},
                "secrets": [
                    {
                        "name": "gateway-key",
                        "keyVaultUrl": f"{vault_uri}secrets/gateway-key",
                        "identity": identity_id,
                    },
                    {"name": "litellm-config", "value": CONFIG_YAML},
                ],
            },
            "template": {
                "containers": [
                    {
                        "name": "litellm",
                        "image": image,
                        "args": ["--config", "/app/config/config.yaml", "--port", "4000"],
                        # the gateway key is a file of the config volume, as aigw mounts it
                        "env": [{"name": "CONFIG_SHA", "value": extra_env}],
                        "probes": [
                            {
                                "type": "Startup",
                                "httpGet": {"path": "/health/liveliness", "port": 4000},
                            },
                            {
                                "type": "Readiness",
                                "httpGet": {"path": "/health/readiness", "port": 4000},
                            },
                        ],
                        "volumeMounts": [{"volumeName": "config", "mountPath": "/app/config"}],
                    }
                ],
                "volumes": [
                    {
                        "name": "config",
                        "storageType": "Secret",
                        "secrets": [
                            {"secretRef": "litellm-config", "path": "config.yaml"},
                            {"secretRef": "gateway-key", "path": GATEWAY_KEY_FILE},
                        ],
                    }
                ],
                "scale": {"minReplicas": 1, "maxReplicas": 1},
            },
        },
    }


def deploy(c: Clients, vault_name: str = "kv-test-1") -> Stack:
    cloud = c.cloud
    rg = c.resource.resource_groups.create_or_update(
        RG, {"location": LOC, "tags": {"managed-by": "aigw"}}
    )
    ws = c.loganalytics.workspaces.begin_create_or_update(
        RG,
        "law-test",
        {"location": LOC, "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30}},
    ).result()
    ident = c.msi.user_assigned_identities.create_or_update(RG, "id-test", {"location": LOC})
    vault = c.keyvault.vaults.begin_create_or_update(
        RG,
        vault_name,
        {
            "location": LOC,
            "properties": {
                "tenantId": cloud.tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": True,
                "accessPolicies": [],
            },
        },
    ).result()
    c.grant(vault.id, SECRETS_OFFICER, cloud.deployer_principal_id, "User")
    c.grant(vault.id, SECRETS_USER, ident.principal_id)
    secret = c.secrets(vault.properties.vault_uri).set_secret("gateway-key", "sk-gateway-123")
    keys = c.loganalytics.shared_keys.get_shared_keys(RG, "law-test")
    env = c.apps.managed_environments.begin_create_or_update(
        RG,
        "cae-test",
        {
            "location": LOC,
            "properties": {
                "appLogsConfiguration": {
                    "destination": "log-analytics",
                    "logAnalyticsConfiguration": {
                        "customerId": ws.properties.customer_id,
                        "sharedKey": keys.primary_shared_key,
                    },
                }
            },
        },
    ).result()
    app = c.apps.container_apps.begin_create_or_update(
        RG, "ca-test", app_body(env.id, ident.id, vault.properties.vault_uri)
    ).result()
    return Stack(rg, ws, ident, vault, secret.id, env, app)
