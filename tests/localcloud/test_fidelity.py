"""Fidelity: each Microsoft example in tests/fixtures/azure-rest-examples (copied from
Azure/azure-rest-api-specs, MIT; MANIFEST.json names each file's source path and commit),
replayed against the emulator, must give the same status family, the example's headers, a
superset of its JSON keys (top level and `properties`) and a body the SDK's model accepts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.credential import LocalCredential

from .conftest import SECRETS_OFFICER, make_clients

# In the repository, so a clone (and CI) runs these tests; nothing here ever skips.
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "azure-rest-examples"
MANIFEST = EXAMPLES / "MANIFEST.json"


# Keys Microsoft's examples show that the emulator deliberately leaves out (features aigw does
# not use and that Azure only returns when configured: private endpoints, replication...).
TOLERATED = {
    "hsmPoolResourceId",
    "networkAcls",
    "privateEndpointConnections",
    "replication",
    "failover",
    "daprConfiguration",
    "kedaConfiguration",
    "peerTrafficConfiguration",
    "vnetConfiguration",
    "ingressConfiguration",
    "appLogsConfiguration",
    "deploymentErrors",
    "runningStatus",
    "kind",
    "managedBy",
    "systemData",
    "latestRevisionFqdn",
    "eventStreamEndpoint",
    "previousVersion",  # only when the secret had a version before
    # a scheduled query rule's settings aigw does not send, answered when set
    "muteActionsDuration",
    "ruleResolveConfiguration",
}


def _model(dotted: str) -> Any:
    mod, _, name = dotted.rpartition(".")
    return getattr(__import__(mod, fromlist=[name]), name)


# operationId -> (method, path template, body parameter name or None, SDK model or None)
OPS: dict[str, tuple[str, str, str | None, str | None]] = {
    "ResourceGroups_CreateOrUpdate": (
        "PUT",
        "/subscriptions/{sub}/resourcegroups/{resourceGroupName}",
        "parameters",
        "azure.mgmt.resource.resources.models.ResourceGroup",
    ),
    "ResourceGroups_Delete": (
        "DELETE",
        "/subscriptions/{sub}/resourcegroups/{resourceGroupName}",
        None,
        None,
    ),
    "Providers_Get": (
        "GET",
        "/subscriptions/{sub}/providers/Microsoft.App",
        None,
        "azure.mgmt.resource.resources.models.Provider",
    ),
    "Workspaces_CreateOrUpdate": (
        "PUT",
        "{rg}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}",
        "parameters",
        "azure.mgmt.loganalytics.models.Workspace",
    ),
    "Workspaces_Get": (
        "GET",
        "{rg}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}",
        None,
        "azure.mgmt.loganalytics.models.Workspace",
    ),
    "Workspaces_Delete": (
        "DELETE",
        "{rg}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}",
        None,
        None,
    ),
    "SharedKeys_GetSharedKeys": (
        "POST",
        "{rg}/providers/Microsoft.OperationalInsights/workspaces/{workspaceName}/sharedKeys",
        None,
        "azure.mgmt.loganalytics.models.SharedKeys",
    ),
    "UserAssignedIdentities_CreateOrUpdate": (
        "PUT",
        "{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
        "parameters",
        "azure.mgmt.msi.v2024_11_30.models.Identity",
    ),
    "UserAssignedIdentities_Get": (
        "GET",
        "{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
        None,
        "azure.mgmt.msi.v2024_11_30.models.Identity",
    ),
    "UserAssignedIdentities_Delete": (
        "DELETE",
        "{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
        None,
        None,
    ),
    "Vaults_CreateOrUpdate": (
        "PUT",
        "{rg}/providers/Microsoft.KeyVault/vaults/{vaultName}",
        "parameters",
        "azure.mgmt.keyvault.models.Vault",
    ),
    "Vaults_Get": (
        "GET",
        "{rg}/providers/Microsoft.KeyVault/vaults/{vaultName}",
        None,
        "azure.mgmt.keyvault.models.Vault",
    ),
    "Vaults_CheckNameAvailability": (
        "POST",
        "/subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability",
        "vaultName",
        "azure.mgmt.keyvault.models.CheckNameAvailabilityResult",
    ),
    "Vaults_Delete": ("DELETE", "{rg}/providers/Microsoft.KeyVault/vaults/{vaultName}", None, None),
    "Vaults_GetDeleted": (
        "GET",
        "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}",
        None,
        "azure.mgmt.keyvault.models.DeletedVault",
    ),
    "Vaults_PurgeDeleted": (
        "POST",
        "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}/purge",
        None,
        None,
    ),
    "ManagedEnvironments_CreateOrUpdate": (
        "PUT",
        "{rg}/providers/Microsoft.App/managedEnvironments/{environmentName}",
        "environmentEnvelope",
        "azure.mgmt.appcontainers.models.ManagedEnvironment",
    ),
    "ManagedEnvironments_Get": (
        "GET",
        "{rg}/providers/Microsoft.App/managedEnvironments/{environmentName}",
        None,
        "azure.mgmt.appcontainers.models.ManagedEnvironment",
    ),
    "ManagedEnvironments_Delete": (
        "DELETE",
        "{rg}/providers/Microsoft.App/managedEnvironments/{environmentName}",
        None,
        None,
    ),
    "ContainerApps_CreateOrUpdate": (
        "PUT",
        "{rg}/providers/Microsoft.App/containerApps/{containerAppName}",
        "containerAppEnvelope",
        "azure.mgmt.appcontainers.models.ContainerApp",
    ),
    "ContainerApps_Get": (
        "GET",
        "{rg}/providers/Microsoft.App/containerApps/{containerAppName}",
        None,
        "azure.mgmt.appcontainers.models.ContainerApp",
    ),
    "ContainerApps_ListSecrets": (
        "POST",
        "{rg}/providers/Microsoft.App/containerApps/{containerAppName}/listSecrets",
        None,
        "azure.mgmt.appcontainers.models.SecretsCollection",
    ),
    "ContainerAppsRevisions_ListRevisions": (
        "GET",
        "{rg}/providers/Microsoft.App/containerApps/{containerAppName}/revisions",
        None,
        "azure.mgmt.appcontainers.models.Revision",
    ),
    "ContainerAppsRevisions_RestartRevision": (
        "POST",
        "{rg}/providers/Microsoft.App/containerApps/{containerAppName}/revisions/{revisionName}/restart",
        None,
        None,
    ),
    "ContainerApps_Delete": (
        "DELETE",
        "{rg}/providers/Microsoft.App/containerApps/{containerAppName}",
        None,
        None,
    ),
    "RoleAssignments_Create": (
        "PUT",
        "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
        "parameters",
        "azure.mgmt.authorization.v2022_04_01.models.RoleAssignment",
    ),
    "RoleAssignments_Get": (
        "GET",
        "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
        None,
        "azure.mgmt.authorization.v2022_04_01.models.RoleAssignment",
    ),
    "RoleAssignments_Delete": (
        "DELETE",
        "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
        None,
        "azure.mgmt.authorization.v2022_04_01.models.RoleAssignment",
    ),
    "ActionGroups_Get": (
        "GET",
        "{rg}/providers/Microsoft.Insights/actionGroups/{actionGroupName}",
        None,
        "azure.mgmt.monitor.models.ActionGroupResource",
    ),
    "ScheduledQueryRules_Get": (
        "GET",
        "{rg}/providers/Microsoft.Insights/scheduledQueryRules/{ruleName}",
        None,
        "azure.mgmt.monitor.models.ScheduledQueryRuleResource",
    ),
    "RedisEnterprise_Create": (
        "PUT",
        "{rg}/providers/Microsoft.Cache/redisEnterprise/{clusterName}",
        "parameters",
        "azure.mgmt.redisenterprise.models.Cluster",
    ),
    "Databases_Get": (
        "GET",
        "{rg}/providers/Microsoft.Cache/redisEnterprise/{clusterName}/databases/{databaseName}",
        None,
        "azure.mgmt.redisenterprise.models.Database",
    ),
    "SetSecret": (
        "PUT",
        "/secrets/{secret-name}",
        "parameters",
        "azure.keyvault.secrets._generated.models.SecretBundle",
    ),
    "GetSecret": (
        "GET",
        "/secrets/{secret-name}",
        None,
        "azure.keyvault.secrets._generated.models.SecretBundle",
    ),
    "DeleteSecret": (
        "DELETE",
        "/secrets/{secret-name}",
        None,
        "azure.keyvault.secrets._generated.models.DeletedSecretBundle",
    ),
}
# Replay order: each example's preconditions are created by the ones before it.
ORDER = [
    "Providers_Get",
    "ResourceGroups_CreateOrUpdate",
    "Workspaces_CreateOrUpdate",
    "Workspaces_Get",
    "SharedKeys_GetSharedKeys",
    "UserAssignedIdentities_CreateOrUpdate",
    "UserAssignedIdentities_Get",
    "Vaults_CheckNameAvailability",
    "Vaults_CreateOrUpdate",
    "Vaults_Get",
    "RoleAssignments_Create",
    "RoleAssignments_Create_ForResource",
    "RoleAssignments_Get",
    "SetSecret",
    "GetSecret",
    "DeleteSecret",
    "ManagedEnvironments_CreateOrUpdate",
    "ManagedEnvironments_Get",
    "ContainerApps_CreateOrUpdate",
    "ContainerApps_Get",
    "ContainerApps_ListSecrets",
    "ContainerAppsRevisions_ListRevisions",
    "ContainerAppsRevisions_RestartRevision",
    "ActionGroups_Get",
    "ScheduledQueryRules_Get",
    "RedisEnterprise_Create",
    "Databases_Get",
    "ContainerApps_Delete",
    "ManagedEnvironments_Delete",
    "RoleAssignments_Delete",
    "Vaults_Delete",
    "Vaults_GetDeleted",
    "Vaults_PurgeDeleted",
    "UserAssignedIdentities_Delete",
    "Workspaces_Delete",
    "ResourceGroups_Delete",
]


def _examples() -> dict[str, tuple[Path, dict[str, Any]]]:
    out = {}
    for f in sorted(EXAMPLES.glob("*/*/*.json")):
        out[f.stem] = (f, json.loads(f.read_text()))
    return out


def _keys_missing(example: Any, actual: Any, path: str = "") -> list[str]:
    missing: list[str] = []
    if isinstance(example, dict) and isinstance(actual, dict):
        for k, v in example.items():
            if k in TOLERATED or v is None:
                continue
            if k not in actual:
                missing.append(f"{path}{k}")
            elif k in ("properties", "value") or path == "":
                missing += _keys_missing(v, actual[k], f"{path}{k}.")
    elif (
        isinstance(example, list)
        and isinstance(actual, list)
        and example
        and actual
        and path.endswith("value.")
    ):
        missing += _keys_missing(example[0], actual[0], path)
    return missing


def _deserialize(dotted: str, body: Any) -> Any:
    cls = _model(dotted)
    if hasattr(cls, "deserialize"):
        return cls.deserialize(body)
    return cls(body)


@pytest.fixture(scope="module")
def replay(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[dict[str, Any], requests.Response]]:
    examples = _examples()
    assert set(examples) == set(ORDER)
    results: dict[str, tuple[dict[str, Any], requests.Response]] = {}
    with LocalCloud(
        tmp_path_factory.mktemp("fidelity"), retry_after=1, propagation_delay=0.0
    ) as cloud:
        sub = cloud.subscription_id
        token = LocalCredential(cloud.deployer_principal_id, cloud.tenant_id).get_token("x").token
        session = requests.Session()
        session.verify = str(cloud.ca_file)
        session.headers["Authorization"] = f"Bearer {token}"
        c = make_clients(cloud)
        vault_url = ""
        for op_id in ORDER:
            _f, ex = examples[op_id]
            key = op_id if op_id in OPS else "RoleAssignments_Create"
            method, template, body_param, _ = OPS[key]
            params = dict(ex["parameters"])
            text = json.dumps(params)
            for other in sorted(
                {
                    "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345",
                    "00000000-0000-0000-0000-000000000000",
                    "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2",
                    "8efdecc5-919e-44eb-b179-915dca89ebf9",
                    "subid",
                    "00000000-0000-0000-0000-00000000000",
                },
                key=len,
                reverse=True,
            ):
                text = text.replace(other, sub)
            params = json.loads(text)
            rg_name = params.get("resourceGroupName", "rg")
            if (
                method == "PUT"
                and op_id != "ResourceGroups_CreateOrUpdate"
                and "resourceGroupName" in params
            ):
                c.resource.resource_groups.create_or_update(rg_name, {"location": "eastus"})
            if op_id in ("ManagedEnvironments_CreateOrUpdate", "ContainerApps_CreateOrUpdate"):
                c.resource.resource_groups.create_or_update("rg", {"location": "eastus"})
                c.msi.user_assigned_identities.create_or_update(
                    "rg", "myidentity", {"location": "eastus"}
                )
                c.msi.user_assigned_identities.create_or_update(
                    "contoso-resources"
                    if c.resource.resource_groups.create_or_update(
                        "contoso-resources", {"location": "eastus"}
                    )
                    else "",
                    "contoso-identity",
                    {"location": "eastus"},
                )
            if op_id == "ContainerApps_CreateOrUpdate":
                c.apps.managed_environments.begin_create_or_update(
                    "rg", "demokube", {"location": "eastus", "properties": {}}
                ).result()
            if op_id.startswith("RoleAssignments_Create"):
                c.resource.resource_groups.create_or_update("testrg", {"location": "eastus"})
            if op_id in ("ActionGroups_Get", "ScheduledQueryRules_Get"):
                _alert_preconditions(session, cloud.arm_url, sub, rg_name, params)
            if op_id == "Databases_Get":
                _database_precondition(session, cloud.arm_url, sub, rg_name, params, examples)
            values = {k: str(v) for k, v in params.items() if isinstance(v, str | int)}
            values["sub"] = sub
            values["rg"] = f"/subscriptions/{sub}/resourceGroups/{rg_name}"
            if op_id in ("ContainerAppsRevisions_RestartRevision",):
                values["revisionName"] = "testcontainerApp0--0000001"
                values["containerAppName"] = "testcontainerApp0"
            if op_id in (
                "ContainerApps_Get",
                "ContainerApps_ListSecrets",
                "ContainerAppsRevisions_ListRevisions",
                "ContainerApps_Delete",
            ):
                values["containerAppName"] = "testcontainerApp0"
                values["resourceGroupName"] = "rg"
                values["rg"] = f"/subscriptions/{sub}/resourceGroups/rg"
            if op_id in ("ManagedEnvironments_Get", "ManagedEnvironments_Delete"):
                values["environmentName"] = "testcontainerenv"
                values["rg"] = f"/subscriptions/{sub}/resourceGroups/examplerg"
            if op_id in ("Workspaces_Get", "Workspaces_Delete", "SharedKeys_GetSharedKeys"):
                values["workspaceName"] = "oiautorest6685"
                values["rg"] = f"/subscriptions/{sub}/resourceGroups/oiautorest6685"
            if op_id in ("UserAssignedIdentities_Get", "UserAssignedIdentities_Delete"):
                values["rg"] = f"/subscriptions/{sub}/resourceGroups/rgName"
            if op_id in ("RoleAssignments_Get", "RoleAssignments_Delete"):
                values["scope"] = f"subscriptions/{sub}/resourceGroups/testrg"
                values["roleAssignmentName"] = "05c5a614-a7d6-4502-b150-c2fb455033ff"
            if op_id in ("Vaults_GetDeleted", "Vaults_PurgeDeleted"):
                values["location"] = "westus"
            path = template
            for k, v in values.items():
                path = path.replace("{" + k + "}", v)
            if op_id in ("SetSecret", "GetSecret", "DeleteSecret"):
                base = vault_url.rstrip("/")
                url = f"{base}{path}?api-version={params['api-version']}"
                if op_id != "SetSecret":
                    url = f"{base}/secrets/crpsecret?api-version={params['api-version']}"
            else:
                url = f"{cloud.arm_url}{path}?api-version={params.get('api-version')}"
            body = params.get(body_param) if body_param else None
            if op_id == "Vaults_CreateOrUpdate":
                body["properties"]["tenantId"] = cloud.tenant_id
            if op_id.startswith("RoleAssignments_Create"):
                body["properties"]["principalType"] = "ServicePrincipal"
                body["properties"]["roleDefinitionId"] = (
                    f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_OFFICER}"
                )
            resp = session.request(method, url, json=body, timeout=30, verify=str(cloud.ca_file))
            results[op_id] = (ex, resp)
            if op_id == "Vaults_CreateOrUpdate":
                vault_url = resp.json()["properties"]["vaultUri"]
                c.grant(resp.json()["id"], SECRETS_OFFICER, cloud.deployer_principal_id, "User")
            if (
                op_id == "ContainerApps_CreateOrUpdate"
                or op_id.endswith("_Delete")
                or op_id == "Vaults_PurgeDeleted"
            ):
                import time

                time.sleep(0.2)  # instant LROs complete on the next settle
    return results


def _database_precondition(
    session: requests.Session,
    arm: str,
    sub: str,
    rg: str,
    params: dict[str, Any],
    examples: dict[str, tuple[Path, dict[str, Any]]],
) -> None:
    """The database the GET example reads, PUT with that example's own settings (a real
    redis-server starts; Databases_Create's example is not kept here)."""
    shown = examples["Databases_Get"][1]["responses"]["200"]["body"]["properties"]
    wanted = ("clientProtocol", "clusteringPolicy", "evictionPolicy", "persistence", "port")
    props = {k: shown[k] for k in wanted} | {"accessKeysAuthentication": "Enabled"}
    props["modules"] = [{"name": m["name"], "args": m["args"]} for m in shown["modules"]]
    path = f"/providers/Microsoft.Cache/redisEnterprise/{params['clusterName']}/databases/default"
    url = f"{arm}/subscriptions/{sub}/resourceGroups/{rg}{path}?api-version=2025-07-01"
    resp = session.put(url, json={"properties": props}, timeout=30, verify=session.verify)
    assert resp.status_code in (200, 201), resp.text
    import time

    for _ in range(100):  # Creating until its server answers
        got = session.get(url, timeout=30, verify=session.verify).json()
        if got["properties"]["provisioningState"] != "Creating":
            break
        time.sleep(0.05)


def _alert_preconditions(
    session: requests.Session, arm: str, sub: str, rg: str, params: dict[str, Any]
) -> None:
    """What the GET examples of Microsoft.Insights read, made with those examples' names
    (Microsoft's own PUT examples name receivers and scopes the local cloud refuses: SMS, a
    virtual machine, the Perf table)."""

    def put(path: str, version: str, body: dict[str, Any]) -> None:
        url = f"{arm}/subscriptions/{sub}/resourceGroups/{rg}{path}?api-version={version}"
        resp = session.put(url, json=body, timeout=30, verify=session.verify)
        assert resp.status_code in (200, 201), resp.text

    put("", "2025-04-01", {"location": "eastus"})
    group = {
        "location": "Global",
        "properties": {
            "groupShortName": "sample",
            "enabled": True,
            "emailReceivers": [{"name": "email", "emailAddress": "johndoe@email.com"}],
        },
    }
    name = params.get("actionGroupName", "myactiongroup")
    put(f"/providers/Microsoft.Insights/actionGroups/{name}", "2023-01-01", group)
    if "ruleName" not in params:
        return
    workspace = "/providers/Microsoft.OperationalInsights/workspaces/law-fidelity"
    put(workspace, "2025-07-01", {"location": "eastus", "properties": {}})
    ids = f"/subscriptions/{sub}/resourceGroups/{rg}"
    rule = {
        "location": "eastus",
        "properties": {
            "description": "Performance rule",
            "severity": 4,
            "enabled": True,
            "evaluationFrequency": "PT5M",
            "scopes": [ids + workspace],
            "windowSize": "PT10M",
            "criteria": {
                "allOf": [
                    {
                        "query": "ContainerAppConsoleLogs_CL | where Log_s == 'x'",
                        "timeAggregation": "Count",
                        "operator": "GreaterThan",
                        "threshold": 70,
                    }
                ]
            },
            "actions": {
                "actionGroups": [f"{ids}/providers/Microsoft.Insights/actionGroups/{name}"]
            },
            "checkWorkspaceAlertsStorageConfigured": False,
            "skipQueryValidation": True,
        },
    }
    put(
        f"/providers/Microsoft.Insights/scheduledQueryRules/{params['ruleName']}",
        "2023-12-01",
        rule,
    )


@pytest.mark.parametrize("op_id", ORDER)
def test_example_fidelity(
    op_id: str, replay: dict[str, tuple[dict[str, Any], requests.Response]]
) -> None:
    ex, resp = replay[op_id]
    codes = {int(c) for c in ex["responses"]}
    assert resp.status_code in codes or resp.status_code // 100 in {c // 100 for c in codes}, (
        resp.text
    )
    example_resp = ex["responses"].get(str(resp.status_code)) or ex["responses"][str(min(codes))]
    for h in (example_resp or {}).get("headers") or {}:
        assert h.lower() in {k.lower() for k in resp.headers}, f"missing header {h}"
    ex_body = (example_resp or {}).get("body")
    if ex_body is not None:
        body = resp.json()
        assert _keys_missing(ex_body, body) == []
        key = op_id if op_id in OPS else "RoleAssignments_Create"
        model = OPS[key][3]
        if model:
            if op_id == "ContainerAppsRevisions_ListRevisions":
                body = body["value"][0]
            obj = _deserialize(model, body)
            assert obj is not None


def test_every_example_is_in_the_repository_with_its_source() -> None:
    """All replayed examples are present (none drops out of the parametrized list), and the
    manifest names the upstream path and commit of exactly the files kept, byte for byte."""
    files = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.glob("*/*/*.json")}
    assert set(_examples()) == set(ORDER)
    manifest = json.loads(MANIFEST.read_text())["files"]
    assert {e["file"] for e in manifest} == files
    for e in manifest:
        assert e["repository"] == "Azure/azure-rest-api-specs"
        assert e["path"].startswith("specification/") and e["path"].endswith(".json")
        assert len(e["commit"]) == 40 and int(e["commit"], 16) >= 0
        digest = hashlib.sha256((EXAMPLES / e["file"]).read_bytes()).hexdigest()
        assert digest == e["sha256"], e["file"]
    assert "Copyright (c) Microsoft Corporation" in (EXAMPLES / "LICENSE").read_text()
