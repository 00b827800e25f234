"""The Azure OpenAI (Foundry) account behind the gateway: found by its ARM id or its endpoint,
read with azure-mgmt-cognitiveservices (accounts, deployments). Not aigw's: never written.

ARM: Microsoft.CognitiveServices/accounts and accounts/deployments (specification/
cognitiveservices/resource-manager/Microsoft.CognitiveServices/stable/2025-09-01/
cognitiveservices.json, the api-version azure-mgmt-cognitiveservices 14.1 uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aigw.azure.context import Ctx
from aigw.azure.rest import get_or_none, to_rest
from aigw.errors import AigwError
from aigw.state import Resource

# The host suffixes of an account's endpoints: <customSubDomainName>.<suffix>.
_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    resource_group: str
    disable_local_auth: bool


def _netloc(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port and parts.port != 443 else host


def serves(body: dict[str, Any], endpoint: str) -> bool:
    """Whether the account `body` answers at `endpoint` (its endpoint(s) or custom subdomain)."""
    props = body.get("properties") or {}
    want = _netloc(endpoint)
    urls = [props.get("endpoint") or "", *((props.get("endpoints") or {}).values())]
    if any(u and _netloc(str(u)) == want for u in urls):
        return True
    sub = str(props.get("customSubDomainName") or "").lower()
    return bool(sub) and any(want == sub + suffix for suffix in _SUFFIXES)


def _account(body: dict[str, Any]) -> Account:
    rid = str(body.get("id", ""))
    parts = rid.split("/")
    rg = parts[parts.index("resourceGroups") + 1] if "resourceGroups" in parts else ""
    props = body.get("properties") or {}
    return Account(rid, str(body.get("name", "")), rg, bool(props.get("disableLocalAuth")))


def find(ctx: Ctx, endpoint: str, resource_id: str | None) -> Account:
    """The account: by `resource_id` (azure_openai.resource_id), else the one of the
    subscription whose endpoint is `endpoint`. AigwError (exit 1) with the fix if none."""
    ops = ctx.clients.cognitive().accounts
    if resource_id:
        parts = resource_id.split("/")
        rg, name = parts[parts.index("resourceGroups") + 1], parts[-1]
        found = get_or_none(lambda: ops.get(rg, name))
        if found is None:
            raise AigwError(
                f"azure_openai.resource_id: account {name} is not in resource group {rg}",
                hint="check azure_openai.resource_id (az cognitiveservices account show)",
            )
        return _account(to_rest(found))
    for acct in ops.list():
        body = to_rest(acct)
        if serves(body, endpoint):
            return _account(body)
    raise AigwError(
        f"no Microsoft.CognitiveServices account of subscription {ctx.sub} serves "
        f"{endpoint} (azure_openai.endpoint)",
        hint="set azure_openai.resource_id to the account's ARM id (it may live in another "
        "subscription), or fix azure_openai.endpoint",
    )


def account_scope(ctx: Ctx, res: Resource) -> str:
    """The ARM id the Cognitive Services OpenAI User role is assigned at (cached per run)."""
    cached = ctx.outputs.get(res.key, {}).get("scope")
    if cached:
        return str(cached)
    spec = res.managed["openaiAccount"]
    account = find(ctx, str(spec["endpoint"]), spec.get("resourceId"))
    ctx.set_outputs(res.key, {"scope": account.id})
    return account.id


def deployments(ctx: Ctx, account: Account) -> dict[str, dict[str, Any]]:
    """Deployment name -> its ARM body (properties.model, sku)."""
    ops = ctx.clients.cognitive().deployments
    return {str(d.name): to_rest(d) for d in ops.list(account.resource_group, account.name)}
