"""The Microsoft.CognitiveServices account an Azure OpenAI emulator stands for: its ARM body,
its deployments as ARM reports them, and its data-plane authentication (keys unless
disableLocalAuth; Entra ID tokens for principals holding a role on the account).

ARM shapes: specification/cognitiveservices/resource-manager/Microsoft.CognitiveServices/
stable/2025-09-01/cognitiveservices.json (Account, AccountProperties.endpoint/endpoints/
customSubDomainName/disableLocalAuth, Deployment.properties.model {format, name, version},
Sku.capacity), the api-version azure-mgmt-cognitiveservices 14.1 sends.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from typing import Any

from .aoai_bodies import _Reply

AUDIENCE = "https://cognitiveservices.azure.com"
OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
# The data action each data-plane path needs (built-in role "Cognitive Services OpenAI User",
# learn.microsoft.com/azure/role-based-access-control/built-in-roles/ai-machine-learning
# #cognitive-services-openai-user; Responses: its OpenAI/responses/* actions).
_ACTIONS = (
    ("/embeddings", "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action"),
    (
        "/chat/completions",
        "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
    ),
    ("/responses", "Microsoft.CognitiveServices/accounts/OpenAI/responses/write"),
)


@dataclass
class AccountSettings:
    name: str = "aoai-local"
    resource_group: str = "rg-openai-shared"
    location: str = "swedencentral"
    disable_local_auth: bool = False

    def update(self, data: dict[str, Any]) -> None:
        for k in ("name", "resource_group", "location"):
            if isinstance(data.get(k), str) and data[k]:
                setattr(self, k, data[k])
        if "disable_local_auth" in data:
            self.disable_local_auth = bool(data["disable_local_auth"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def arm_id(self, subscription_id: str) -> str:
        return (
            f"/subscriptions/{subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.CognitiveServices/accounts/{self.name}"
        )


def local_auth_disabled() -> _Reply:
    # 403 AuthenticationTypeDisabled, as Azure OpenAI answers a key when the account has
    # disableLocalAuth: true (microsoft/sample-app-aoai-chatGPT#1000,
    # Azure-Samples/azure-search-openai-demo#1617).
    return _Reply(
        403,
        {
            "error": {
                "code": "AuthenticationTypeDisabled",
                "message": "Key based authentication is disabled for this resource.",
            }
        },
    )


def is_token(value: str) -> bool:
    """A bearer token the local cloud's identity endpoint issued (a JWT whose `iss` is
    aigw-localcloud; its checks are the cloud's `token_check`), not an API key."""
    parts = value.split(".")
    if len(parts) != 3:
        return False
    try:
        data = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("iss") == "aigw-localcloud"


def _unauthorized() -> _Reply:
    # Azure OpenAI's answer to a token for another audience, expired or unreadable.
    return _Reply(
        401,
        {
            "error": {
                "code": "401",
                "message": "Unauthorized. Access token is missing, invalid, audience is "
                f"incorrect ({AUDIENCE}), or have expired.",
            }
        },
    )


def _denied(principal: str, action: str, path: str) -> _Reply:
    # 401 PermissionDenied naming the missing data action (the wording Azure AI services use:
    # "The principal `<id>` lacks the required data action `<action>` to perform `<op>`
    # operation.", davrous/AzureAgentToM365#3, microsoft/ai-agent-evals#43).
    return _Reply(
        401,
        {
            "error": {
                "code": "PermissionDenied",
                "message": f"The principal `{principal}` lacks the required data action "
                f"`{action}` to perform `POST {path}` operation.",
            }
        },
    )


def model_of(dep: Any) -> tuple[str, str]:
    """(model name, version) of an emulator deployment: as given, else from its kind."""
    if dep.model:
        return str(dep.model), str(dep.version or "1")
    if dep.kind == "embeddings":
        by_dims = {3072: "text-embedding-3-large", 1536: "text-embedding-3-small"}
        return by_dims.get(dep.dimensions or 3072, "text-embedding-3-large"), "1"
    if dep.kind == "responses":
        return (dep.name if "codex" in dep.name else "gpt-5-codex"), "2025-09-15"
    return "gpt-4.1", "2025-04-14"


def account_body(acct: AccountSettings, subscription_id: str, url: str) -> dict[str, Any]:
    rid = acct.arm_id(subscription_id)
    endpoint = url.rstrip("/") + "/"
    return {
        "id": rid,
        "name": acct.name,
        "type": "Microsoft.CognitiveServices/accounts",
        "kind": "OpenAI",
        "location": acct.location,
        "sku": {"name": "S0"},
        "tags": {},
        "properties": {
            "provisioningState": "Succeeded",
            "endpoint": endpoint,
            "endpoints": {"OpenAI Language Model Instance API": endpoint},
            "customSubDomainName": acct.name,
            "disableLocalAuth": acct.disable_local_auth,
            "publicNetworkAccess": "Enabled",
        },
    }


def deployment_body(acct: AccountSettings, subscription_id: str, dep: Any) -> dict[str, Any]:
    name, version = model_of(dep)
    return {
        "id": f"{acct.arm_id(subscription_id)}/deployments/{dep.name}",
        "name": dep.name,
        "type": "Microsoft.CognitiveServices/accounts/deployments",
        "sku": {"name": "GlobalStandard", "capacity": dep.capacity},
        "properties": {
            "model": {"format": "OpenAI", "name": name, "version": version},
            "provisioningState": "Succeeded",
            "capabilities": {"embeddings": "true"} if dep.kind == "embeddings" else {},
        },
    }
