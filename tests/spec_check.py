"""Check captured traffic ({liveRequest, liveResponse} files) against Microsoft's definitions
for exactly the api-versions sent: each URL is mapped to its operation (the table below), the
operation to the SDK models of its api-version (tests/spec_models.py), and every request and
response body is checked.

Findings: a required property missing, a readOnly property sent in a request, a value outside
its enum, a wrong JSON type, a property the definition does not have, a constraint broken, a
status code the operation does not declare, an api-version without definitions, a URL matching
no operation.

This module shares no code with the local cloud or with aigw's adapters: it reads only the
captured JSON and the SDK packages' model classes.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from spec_models import Field, Schema, validate

KINDS = (
    "missing-required",
    "readonly-sent",
    "bad-enum",
    "wrong-type",
    "unknown-property",
    "constraint",
    "undeclared-status",
    "no-definition",
)


@dataclass(frozen=True)
class Finding:
    exchange: str
    direction: str  # request | response
    where: str  # JSON path in the body
    kind: str
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.exchange} {self.direction} {self.where or '<body>'}: {self.kind}: {self.detail}"
        )


# --- operations -------------------------------------------------------------------------------

SUB = r"/subscriptions/[^/]+"
RG = SUB + r"/resource[gG]roups/[^/]+"


@dataclass(frozen=True)
class Operation:
    """One REST operation: its URL, the SDK package whose models define it, the request model
    and the model of each declared status (None: no body). Statuses and models are read from the
    SDK's method for the operationId (e.g. ContainerApps_CreateOrUpdate:
    ContainerAppsOperations._create_or_update_initial, `if response.status_code not in [200,
    201]`, `_deserialize(_models.ContainerApp, ...)`); `error` is its `default` response model
    (`_failsafe_deserialize(_models.ErrorResponse, ...)`)."""

    operation_id: str
    method: str
    path: str  # regex, anchored
    package: str
    request: str | None
    responses: dict[int, str | None]
    error: str


PACKAGES = {
    "app": "azure.mgmt.appcontainers",  # 5.1.0: Microsoft.App 2026-07-01
    "kv": "azure.mgmt.keyvault",  # 14.1.0: Microsoft.KeyVault 2026-05-15
    "la": "azure.mgmt.loganalytics",  # 14.0.0: Microsoft.OperationalInsights 2025-07-01
    "res": "azure.mgmt.resource.resources",  # 26.0.0: Microsoft.Resources 2025-04-01
    "msi": "azure.mgmt.msi",  # 7.1.0: v2024_11_30
    "auth": "azure.mgmt.authorization",  # 4.0.0: v2022_04_01
    "secrets": "azure.keyvault.secrets._generated",  # 4.12.0: Key Vault secrets 2026-04-01
    "cog": "azure.mgmt.cognitiveservices",  # 14.1.0: Microsoft.CognitiveServices 2025-09-01
    # 7.0.0: one api-version per operation group (action groups 2023-01-01, scheduled query
    # rules 2023-12-01), all in one models module
    "mon": "azure.mgmt.monitor",
    "redis": "azure.mgmt.redisenterprise",  # 3.1.0: Microsoft.Cache redisEnterprise 2025-07-01
}
PATHS = {
    "rg": RG,
    "providers": SUB + r"/providers/[^/]+",
    "ca": RG + r"/providers/Microsoft\.App/containerApps/[^/]+",
    "ca-secrets": RG + r"/providers/Microsoft\.App/containerApps/[^/]+/listSecrets",
    "ca-revisions": RG + r"/providers/Microsoft\.App/containerApps/[^/]+/revisions",
    "ca-restart": RG + r"/providers/Microsoft\.App/containerApps/[^/]+/revisions/[^/]+/restart",
    "env": RG + r"/providers/Microsoft\.App/managedEnvironments/[^/]+",
    "vault": RG + r"/providers/Microsoft\.KeyVault/vaults/[^/]+",
    "deleted-vault": SUB + r"/providers/Microsoft\.KeyVault/locations/[^/]+/deletedVaults/[^/]+",
    "purge": SUB + r"/providers/Microsoft\.KeyVault/locations/[^/]+/deletedVaults/[^/]+/purge",
    "vault-name": SUB + r"/providers/Microsoft\.KeyVault/checkNameAvailability",
    "law": RG + r"/providers/Microsoft\.OperationalInsights/workspaces/[^/]+",
    "law-keys": RG + r"/providers/Microsoft\.OperationalInsights/workspaces/[^/]+/sharedKeys",
    "law-status": SUB
    + r"/providers/Microsoft\.OperationalInsights/locations/[^/]+/operation[sS]tatuses/[^/]+",
    "rg-resources": RG + r"/resources",
    "app-usages": SUB + r"/providers/Microsoft\.App/locations/[^/]+/usages",
    "uai": RG + r"/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+",
    "ra": r"/.+/providers/Microsoft\.Authorization/roleAssignments/[^/]+",
    "ra-sub": SUB + r"/providers/Microsoft\.Authorization/roleAssignments",
    "rd": r"/.+/providers/Microsoft\.Authorization/roleDefinitions/[^/]+",
    "ca-rev-active": RG
    + r"/providers/Microsoft\.App/containerApps/[^/]+/revisions/[^/]+/(de)?activate",
    "cog-accounts": SUB + r"/providers/Microsoft\.CognitiveServices/accounts",
    "cog-account": RG + r"/providers/Microsoft\.CognitiveServices/accounts/[^/]+",
    "cog-deployments": RG + r"/providers/Microsoft\.CognitiveServices/accounts/[^/]+/deployments",
    "cog-deployment": RG
    + r"/providers/Microsoft\.CognitiveServices/accounts/[^/]+/deployments/[^/]+",
    "ag": RG + r"/providers/Microsoft\.Insights/actionGroups/[^/]+",
    "sqr": RG + r"/providers/Microsoft\.Insights/scheduledQueryRules/[^/]+",
    "amr": RG + r"/providers/Microsoft\.Cache/redisEnterprise/[^/]+",
    "amr-db": RG + r"/providers/Microsoft\.Cache/redisEnterprise/[^/]+/databases/[^/]+",
    "amr-keys": RG + r"/providers/Microsoft\.Cache/redisEnterprise/[^/]+/databases/[^/]+/listKeys",
    "amr-status": SUB + r"/providers/Microsoft\.Cache/locations/[^/]+/operationsStatus/[^/]+",
    "secret": r"/secrets/[^/]+",
    "secret-version": r"/secrets/[^/]+(/[^/]*)?",
}
ERRORS = {  # each package's `default` response model (`_failsafe_deserialize(_models.X, ...)`)
    "app": "ErrorResponse",
    "kv": "CloudError",
    "la": "ErrorResponse",
    "res": "CloudError",
    "msi": "CloudError",
    "auth": "ErrorResponse",
    "secrets": "KeyVaultError",
    "cog": "ErrorResponse",
    "mon": "ErrorResponse",  # action groups' flat {code, message}; rules: ErrorContract
    "redis": "ErrorResponse",
}
# operationId method path package request-model (- none) status[+status]=model (empty: no body)
# [!error model when not the package's]; "[X]" is a page {value: [X], nextLink}; a line ending
# in a backslash continues on the next.
_TABLE = """
ContainerApps_Get GET ca app - 200=ContainerApp
ContainerApps_CreateOrUpdate PUT ca app ContainerApp 200+201=ContainerApp
ContainerApps_Delete DELETE ca app - 200+202+204=
ContainerApps_ListSecrets POST ca-secrets app - 200=SecretsCollection
ContainerAppsRevisions_ListRevisions GET ca-revisions app - 200=[Revision]
ContainerAppsRevisions_RestartRevision POST ca-restart app - 200= !DefaultErrorResponse
ContainerAppsRevisions_DeactivateRevision POST ca-rev-active app - 200= !DefaultErrorResponse
ContainerApps_Update PATCH ca app ContainerApp 200=ContainerApp 202=
Accounts_List GET cog-accounts cog - 200=[Account]
Accounts_Get GET cog-account cog - 200=Account
Deployments_List GET cog-deployments cog - 200=[Deployment]
Deployments_Get GET cog-deployment cog - 200=Deployment
Usages_List GET app-usages app - 200=[Usage]
ManagedEnvironments_Get GET env app - 200=ManagedEnvironment
ManagedEnvironments_CreateOrUpdate PUT env app ManagedEnvironment 200+201=ManagedEnvironment
ManagedEnvironments_Delete DELETE env app - 200+202+204=
Vaults_Get GET vault kv - 200=Vault
Vaults_CreateOrUpdate PUT vault kv VaultCreateOrUpdateParameters 200+201=Vault
Vaults_Delete DELETE vault kv - 200+204=
Vaults_GetDeleted GET deleted-vault kv - 200=DeletedVault
Vaults_PurgeDeleted POST purge kv - 200+202=
Vaults_CheckNameAvailability POST vault-name kv VaultCheckNameAvailabilityParameters \
    200=CheckNameAvailabilityResult
Workspaces_Get GET law la - 200=Workspace
Workspaces_CreateOrUpdate PUT law la Workspace 200+201=Workspace 202=
Workspaces_Delete DELETE law la - 200+202+204=
SharedKeys_GetSharedKeys POST law-keys la - 200=SharedKeys
OperationStatuses_Get GET law-status la - 200=OperationStatus
ResourceGroups_Get GET rg res - 200=ResourceGroup
ResourceGroups_CreateOrUpdate PUT rg res ResourceGroup 200+201=ResourceGroup
ResourceGroups_Delete DELETE rg res - 200+202=
Resources_ListByResourceGroup GET rg-resources res - 200=[GenericResourceExpanded]
Providers_Get GET providers res - 200=Provider
UserAssignedIdentities_Get GET uai msi - 200=Identity
UserAssignedIdentities_CreateOrUpdate PUT uai msi Identity 200+201=Identity
UserAssignedIdentities_Delete DELETE uai msi - 200+204=
RoleAssignments_Get GET ra auth - 200=RoleAssignment
RoleAssignments_Create PUT ra auth RoleAssignmentCreateParameters 200+201=RoleAssignment
RoleAssignments_Delete DELETE ra auth - 200=RoleAssignment 204=
RoleAssignments_ListForSubscription GET ra-sub auth - 200=[RoleAssignment]
RoleDefinitions_GetById GET rd auth - 200=RoleDefinition
ActionGroups_Get GET ag mon - 200=ActionGroupResource
ActionGroups_CreateOrUpdate PUT ag mon ActionGroupResource 200+201=ActionGroupResource
ActionGroups_Delete DELETE ag mon - 200+204=
ScheduledQueryRules_Get GET sqr mon - 200=ScheduledQueryRuleResource !ErrorContract
ScheduledQueryRules_CreateOrUpdate PUT sqr mon ScheduledQueryRuleResource \
    200+201=ScheduledQueryRuleResource !ErrorContract
ScheduledQueryRules_Delete DELETE sqr mon - 200+204= !ErrorContract
RedisEnterprise_Get GET amr redis - 200=Cluster
RedisEnterprise_Create PUT amr redis Cluster 200+201=Cluster
RedisEnterprise_Update PATCH amr redis ClusterUpdate 200=Cluster 202=
RedisEnterprise_Delete DELETE amr redis - 200+202+204=
Databases_Get GET amr-db redis - 200=Database
Databases_Create PUT amr-db redis Database 200+201=Database
Databases_Update PATCH amr-db redis DatabaseUpdate 200=Database 202=
Databases_ListKeys POST amr-keys redis - 200=AccessKeys
OperationsStatus_Get GET amr-status redis - 200=OperationStatus
SetSecret PUT secret secrets SecretSetParameters 200=SecretBundle
GetSecret GET secret-version secrets - 200=SecretBundle
DeleteSecret DELETE secret secrets - 200=DeletedSecretBundle
"""


def _operations() -> list[Operation]:
    out = []
    for line in _TABLE.strip().splitlines():
        op_id, method, path, package, request, *rest = line.split()
        error = ERRORS[package]
        responses: dict[int, str | None] = {}
        for item in rest:
            if item.startswith("!"):
                error = item[1:]
                continue
            codes, _, model = item.partition("=")
            responses.update({int(code): model or None for code in codes.split("+")})
        out.append(
            Operation(
                op_id,
                method,
                PATHS[path],
                PACKAGES[package],
                None if request == "-" else request,
                responses,
                error,
            )
        )
    return out


OPERATIONS = _operations()

# Long-running operations' polling URLs are not operations of the REST specs: ARM's resource
# provider contract defines them (Azure-AsyncOperation: a status body; Location: the result, here
# empty) in https://github.com/cloud-and-ai-microsoft/resource-provider-contract/blob/master/v1.0/async-api-reference.md
# and ARM common-types v5 `OperationStatusResult` (status required; error as ErrorDetail).
_ERROR_DETAIL = Schema("object", fields_={})
assert _ERROR_DETAIL.fields_ is not None
_ERROR_DETAIL.fields_.update(
    {
        "code": Field("code", Schema("string")),
        "message": Field("message", Schema("string")),
        "target": Field("target", Schema("string")),
        "details": Field("details", Schema("array", item=_ERROR_DETAIL)),
        "additionalInfo": Field("additionalInfo", Schema("array", item=Schema("any"))),
    }
)
ASYNC_STATUS = Schema(
    "object",
    fields_={
        "id": Field("id", Schema("string")),
        "resourceId": Field("resourceId", Schema("string")),
        "name": Field("name", Schema("string")),
        "status": Field("status", Schema("string"), required=True),
        "percentComplete": Field("percentComplete", Schema("number")),
        "startTime": Field("startTime", Schema("datetime")),
        "endTime": Field("endTime", Schema("datetime")),
        "operations": Field("operations", Schema("array", item=Schema("any"))),
        "properties": Field("properties", Schema("any")),
        "error": Field("error", _ERROR_DETAIL),
    },
)
ARM_ERROR = Schema("object", fields_={"error": Field("error", _ERROR_DETAIL, required=True)})
POLLING = [
    (SUB + r"/providers/Microsoft\.App/locations/[^/]+/\w+OperationStatuses/[^/]+", ASYNC_STATUS),
    (SUB + r"/providers/Microsoft\.App/locations/[^/]+/\w+OperationResults/[^/]+", None),
    (SUB + r"/providers/Microsoft\.KeyVault/locations/[^/]+/operationResults/[^/]+", None),
    (SUB + r"/operationresults/[^/]+", None),
]


# --- api-version -> models ----------------------------------------------------------------------


@functools.cache
def models_for(package: str, api_version: str) -> types.ModuleType | None:
    """The models generated for exactly `api_version`, or None when the SDK has none."""
    versioned = f"{package}.v{api_version.replace('-', '_').replace('.', '_')}"
    with contextlib.suppress(ModuleNotFoundError):
        return importlib.import_module(versioned + ".models")
    if sdk_api_version(package) == api_version or api_version in operation_api_versions(package):
        return importlib.import_module(package + ".models")
    return None


@functools.cache
def sdk_api_version(package: str) -> str | None:
    """The api-version a single-version package's client sends (its configuration's default)."""
    module = importlib.import_module(package + "._configuration")
    source = Path(module.__file__ or "").read_text()
    found = re.search(r'kwargs\.pop\("api_version", "([^"]+)"\)', source)
    return found.group(1) if found else None


@functools.cache
def operation_api_versions(package: str) -> frozenset[str]:
    """The api-versions a package's operation groups send, for a package whose client has none
    of its own (azure-mgmt-monitor: `_params.pop("api-version", "2023-01-01")` per operation)."""
    module = importlib.import_module(package + ".operations")
    folder = Path(module.__file__ or "").parent
    found: set[str] = set()
    for source in folder.glob("_*_operations.py"):
        found.update(re.findall(r'_params\.pop\("api-version", "([^"]+)"\)', source.read_text()))
    return frozenset(found)


def _schema_for(models: types.ModuleType, name: str) -> Schema:
    if name.startswith("["):  # a page: {value: [...], nextLink}
        item = Schema("object", model=getattr(models, name[1:-1]))
        return Schema(
            "object",
            fields_={
                "value": Field("value", Schema("array", item=item), required=True),
                "nextLink": Field("nextLink", Schema("string")),
            },
        )
    cls = getattr(models, name, None)
    if cls is None and name == "CloudError":  # msrest packages keep only the body model
        body = models.CloudErrorBody
        return Schema("object", fields_={"error": Field("error", Schema("object", model=body))})
    if cls is None:
        raise LookupError(f"{models.__name__} has no model {name}")
    return Schema("object", model=cls)


# --- exchanges ----------------------------------------------------------------------------------


def match(method: str, path: str) -> Operation | None:
    for op in OPERATIONS:
        if op.method == method and re.fullmatch(op.path, path):
            return op
    return None


Issue = tuple[str, str, str, str]  # direction, where, kind, detail


def _polling(path: str, status: int, body: Any) -> list[Issue] | None:
    """Issues of a polling GET, or None when `path` is not a polling URL."""
    for pattern, schema in POLLING:
        if re.fullmatch(pattern, path):
            if status // 100 != 2:
                schema = ARM_ERROR
            elif schema is None:
                schema = Schema("any")
            return [("response", *i) for i in validate(body, schema, request=False)]
    return None


def _exchange(method: str, url: str, status: int, body: Any, rbody: Any) -> list[Issue]:
    parts = urlsplit(url)
    api_version = (parse_qs(parts.query).get("api-version") or [""])[0]
    polled = _polling(parts.path, status, rbody) if method == "GET" else None
    if polled is not None:
        return polled
    op = match(method, parts.path)
    if op is None:
        return [("request", "", "no-definition", f"no operation for {method} {parts.path}")]
    models = models_for(op.package, api_version)
    if models is None:
        return [("request", "", "no-definition", f"{op.package}: no api-version {api_version}")]
    out: list[Issue] = []
    if op.request is None and body is not None:
        out.append(("request", "", "unknown-property", f"{op.operation_id} takes no body"))
    elif op.request is not None and body is None:
        out.append(("request", "", "missing-required", f"{op.operation_id} needs a body"))
    elif op.request is not None:
        issues = validate(body, _schema_for(models, op.request), request=True)
        out += [("request", *i) for i in issues]
    if status // 100 != 2:
        model: str | None = op.error
    elif status in op.responses:
        model = op.responses[status]
    else:
        declared = sorted(op.responses)
        return [*out, ("response", "", "undeclared-status", f"{status} not in {declared}")]
    if model is None and rbody is not None:
        out.append(("response", "", "unknown-property", f"{status} has no body"))
    elif model is not None and rbody is None:
        out.append(("response", "", "missing-required", f"{status} returns {model}"))
    elif model is not None:
        issues = validate(rbody, _schema_for(models, model), request=False)
        out += [("response", *i) for i in issues]
    return out


def check_exchange(name: str, doc: dict[str, Any]) -> list[Finding]:
    req, resp = doc["liveRequest"], doc["liveResponse"]
    issues = _exchange(
        req["method"].upper(), req["url"], int(resp["statusCode"]), req["body"], resp["body"]
    )
    return [Finding(name, *issue) for issue in issues]


def check_files(files: list[Path]) -> list[Finding]:
    out: list[Finding] = []
    for f in files:
        out += check_exchange(f.name, json.loads(f.read_text()))
    return out
