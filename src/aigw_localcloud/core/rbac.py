"""Azure RBAC in miniature: built-in role definitions, the directory's principal types and the
permission checks (management and data plane)."""

from __future__ import annotations

import fnmatch
from typing import Any

from .state import State
from .util import id_in_scope, now

OWNER = "8e3af657-a8ff-443c-a75d-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
KV_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
KV_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"

_KV_READ_ACTIONS = [
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
]

# name -> (roleName, description, actions, notActions, dataActions)
BUILT_IN: dict[str, tuple[str, str, list[str], list[str], list[str]]] = {
    OWNER: ("Owner", "Grants full access to manage all resources.", ["*"], [], []),
    CONTRIBUTOR: (
        "Contributor",
        "Grants full access to manage all resources, but does not allow you to assign roles.",
        ["*"],
        [
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
        ],
        [],
    ),
    READER: (
        "Reader",
        "View all resources, but does not allow you to make any changes.",
        ["*/read"],
        [],
        [],
    ),
    USER_ACCESS_ADMINISTRATOR: (
        "User Access Administrator",
        "Lets you manage user access to Azure resources.",
        ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        [],
        [],
    ),
    KV_ADMINISTRATOR: (
        "Key Vault Administrator",
        "Perform all data plane operations on a key vault and all objects in it, including "
        "certificates, keys, and secrets.",
        _KV_READ_ACTIONS,
        [],
        ["Microsoft.KeyVault/vaults/*"],
    ),
    KV_SECRETS_OFFICER: (
        "Key Vault Secrets Officer",
        "Perform any action on the secrets of a key vault, except manage permissions.",
        [*_KV_READ_ACTIONS, "Microsoft.KeyVault/vaults/secrets/*"],
        [],
        ["Microsoft.KeyVault/vaults/secrets/*"],
    ),
    # Built-in role "AcrPull" (learn.microsoft.com/azure/role-based-access-control/built-in-roles
    # /containers#acrpull): pull artifacts from a container registry.
    ACR_PULL: (
        "AcrPull",
        "acr pull",
        ["Microsoft.ContainerRegistry/registries/pull/read"],
        [],
        [],
    ),
    # Built-in role "Cognitive Services OpenAI User" (learn.microsoft.com/azure/
    # role-based-access-control/built-in-roles/ai-machine-learning#cognitive-services-openai-user):
    # read the account, call inference on its deployments. Actions as there, dataActions the
    # inference ones the emulator checks (aoai_account._ACTIONS).
    OPENAI_USER: (
        "Cognitive Services OpenAI User",
        "Read access to view files, models, deployments. The ability to create completion and "
        "embedding calls.",
        [
            "Microsoft.CognitiveServices/*/read",
            "Microsoft.Authorization/roleAssignments/read",
            "Microsoft.Authorization/roleDefinitions/read",
        ],
        [],
        [
            "Microsoft.CognitiveServices/accounts/OpenAI/*/read",
            "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action",
            "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
            "Microsoft.CognitiveServices/accounts/OpenAI/deployments/completions/action",
            "Microsoft.CognitiveServices/accounts/OpenAI/responses/*",
        ],
    ),
    KV_SECRETS_USER: (
        "Key Vault Secrets User",
        "Read secret contents.",
        [],
        [],
        [
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    ),
}

# Data-plane actions of the secret operations.
SECRET_GET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
SECRET_READ_METADATA = "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
SECRET_SET = "Microsoft.KeyVault/vaults/secrets/setSecret/action"
SECRET_DELETE = "Microsoft.KeyVault/vaults/secrets/delete"
SECRET_RECOVER = "Microsoft.KeyVault/vaults/secrets/recover/action"
SECRET_PURGE = "Microsoft.KeyVault/vaults/secrets/purge/action"


def role_definition(subscription_id: str, role_id: str, scope: str | None = None) -> dict[str, Any]:
    name, desc, actions, not_actions, data_actions = BUILT_IN[role_id]
    prefix = scope.rstrip("/") if scope else f"/subscriptions/{subscription_id}"
    return {
        "id": f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{role_id}",
        "name": role_id,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "description": desc,
            "assignableScopes": ["/"],
            "permissions": [
                {
                    "actions": actions,
                    "notActions": not_actions,
                    "dataActions": data_actions,
                    "notDataActions": [],
                }
            ],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": None,
            "updatedBy": None,
        },
    }


def role_id_from_definition_id(definition_id: str) -> str:
    return definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def _grants(patterns: list[str], action: str) -> bool:
    a = action.lower()
    return any(fnmatch.fnmatchcase(a, p.lower()) for p in patterns)


def directory_principal_type(st: State, principal: str) -> str | None:
    """The directory's principalType for `principal` (None: unknown). Users are `User`; service
    principals and managed identities (whose service principal Entra creates) are
    `ServicePrincipal` (roleAssignments spec 2022-04-01, PrincipalType enum)."""
    if principal.lower() == st["deployer_principal_id"].lower():
        p = st["principals"].get(principal.lower()) or {"kind": "User"}
    else:
        p = st["principals"].get(principal.lower()) or st["principals"].get(principal)
    if p is None:
        return None
    return "User" if p.get("kind") == "User" else "ServicePrincipal"


def drop_assignments_in_scope(st: State, scope: str) -> list[str]:
    """Remove the role assignments scoped at `scope` or under it (a deleted resource takes its
    assignments with it); returns their ids. Key Vault: "When a Key Vault is soft-deleted,
    services that are integrated with the Key Vault are deleted. For example: Azure RBAC roles
    assignments ... Recovering a soft-deleted Key Vault does not restore these services. They
    must be recreated." (learn.microsoft.com/azure/key-vault/general/soft-delete-overview)."""
    gone = [
        k
        for k, ra in st["role_assignments"].items()
        if id_in_scope(ra["properties"]["scope"], scope)
    ]
    return [st["role_assignments"].pop(k)["id"] for k in gone]


def is_managed_identity(st: State, principal_id: str) -> bool:
    p = st["principals"].get(principal_id.lower()) or st["principals"].get(principal_id) or {}
    kind = str(p.get("kind", "")).lower()
    return "managedidentity" in kind or "/userassignedidentities/" in str(p.get("id", "")).lower()


# Seconds before a new role assignment takes effect, unless a cloud is started with another
# value. Azure documents "up to 10 minutes" (learn.microsoft.com/azure/role-based-access-
# control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected), measured
# grants take tens of seconds: scaled down here so a deploy still waits for it, never zero
# (issue 23 #6). `--propagation-delay 0` remains for a test that means instant.
DEFAULT_PROPAGATION_DELAY = 2.0


def delay_for(st: State, principal_id: str, default: float) -> float:
    """Seconds before `principal_id`'s new role assignments take effect. Propagation is per
    principal on Azure: a managed identity can lag behind the deployer (Container Apps then
    refuses Key Vault references at PUT time: microsoft/azure-container-apps#930, #1174).
    `st["propagation_delays"]`: principal id -> seconds, or "identities" for every managed
    identity; anything else uses `default`."""
    delays = st.get("propagation_delays") or {}
    if principal_id.lower() in delays:
        return float(delays[principal_id.lower()])
    if "identities" in delays and is_managed_identity(st, principal_id):
        return float(delays["identities"])
    return default


def has_data_action(
    st: State, principal_id: str, resource_id: str, action: str, propagation_delay: float
) -> bool:
    """Does `principal_id` hold a role granting `action` on `resource_id` (or above), in effect?
    `propagation_delay` is the default; delay_for() gives a principal its own."""
    return _holds(st, principal_id, resource_id, action, propagation_delay, data=True)


def has_action(
    st: State, principal_id: str, resource_id: str, action: str, propagation_delay: float
) -> bool:
    """The same for a control-plane action (roles' actions minus notActions)."""
    return _holds(st, principal_id, resource_id, action, propagation_delay, data=False)


def _holds(
    st: State,
    principal_id: str,
    resource_id: str,
    action: str,
    propagation_delay: float,
    *,
    data: bool,
) -> bool:
    t = now()
    propagation_delay = delay_for(st, principal_id, propagation_delay)
    for ra in st["role_assignments"].values():
        props = ra["properties"]
        if props["principalId"].lower() != principal_id.lower():
            continue
        if not id_in_scope(resource_id, props["scope"]):
            continue
        if ra["_created"] + propagation_delay > t:
            continue  # Azure RBAC caches: new assignments take a while to take effect
        role = BUILT_IN.get(role_id_from_definition_id(props["roleDefinitionId"]))
        if role is None:
            continue
        if data and _grants(role[4], action):
            return True
        if not data and _grants(role[2], action) and not _grants(role[3], action):
            return True
    return False
