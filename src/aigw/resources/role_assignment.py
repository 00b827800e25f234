"""Role assignments on the vault: the app's identity reads secrets, the deployer writes them.

Assignment names are deterministic (see assignment_name), so a rerun or a
concurrent deploy PUTs the same assignment and never adds a duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from aigw.azure.context import Ctx
from aigw.azure.errors import error_code
from aigw.azure.rest import get_or_none, to_rest
from aigw.config.upstreams import UpstreamConfig
from aigw.errors import AigwError
from aigw.resources import adapter, registered, upstreams
from aigw.resources.base import Base, Inputs
from aigw.state import ABSENT, Key, Kind, Observed, Ref, Resource, resolve


def _role_definition_id(ctx: Ctx, guid: str) -> str:
    return f"/subscriptions/{ctx.sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _scope(ctx: Ctx, res: Resource) -> str:
    """The assignment's scope; for a registry (`registryServer`), its ARM id found by name; for
    the Azure OpenAI account (`openaiAccount`), its ARM id given or found by endpoint."""
    if "openaiAccount" in res.managed:
        from aigw.resources.openai_account import account_scope

        return account_scope(ctx, res)
    if "registryServer" not in res.managed:
        return str(res.managed["scope"])
    server = str(res.managed["registryServer"])
    cached = ctx.outputs.get(res.key, {}).get("scope")
    if cached:
        return str(cached)
    name = server.split(".", 1)[0]
    query = f"resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq '{name}'"
    found = [r.id for r in ctx.clients.resources().resources.list(filter=query)]
    if not found:
        raise AigwError(
            f"container registry {server} (gateway.registry.server) is not in subscription "
            f"{ctx.sub}",
            hint="check the server name, or import the image into a registry of this subscription",
        )
    ctx.set_outputs(res.key, {"scope": found[0]})
    return str(found[0])


def observe(ctx: Ctx, res: Resource) -> Observed:
    ops = ctx.clients.authorization().role_assignments
    scope = _scope(ctx, res)
    found = get_or_none(lambda: ops.get(scope, res.name))
    if found is None:
        return ABSENT
    return from_body(
        to_rest(found),
        registry_scope=scope if set(res.managed) & {"registryServer", "openaiAccount"} else None,
    )


def from_body(body: dict[str, Any], *, registry_scope: str | None = None) -> Observed:
    """The Observed of an assignment's GET body; `registry_scope`: the registry it was found on."""
    props = body.get("properties") or {}
    return Observed(
        exists=True,
        fields={
            "principalId": props.get("principalId"),
            "roleDefinitionId": str(props.get("roleDefinitionId", "")).rsplit("/", 1)[-1],
        },
        outputs={"scope": registry_scope} if registry_scope else {},
    )


def ensure(ctx: Ctx, res: Resource) -> dict[str, Any]:
    m = resolve(res.managed, ctx.outputs)
    ops = ctx.clients.authorization().role_assignments
    body = {
        "properties": {
            "roleDefinitionId": _role_definition_id(ctx, m["roleDefinitionId"]),
            "principalId": m["principalId"],
        }
    }
    if m.get("principalType"):  # None for a deployer whose token does not say what it is
        body["properties"]["principalType"] = m["principalType"]

    # PrincipalNotFound (a fresh identity) is retried by apply, like every RETRYABLE error.
    try:
        ops.create(_scope(ctx, res), res.name, body)
    except Exception as err:
        if error_code(err) != "RoleAssignmentExists":
            raise
        # the same grant exists under another name: nothing to add
    return {"principal_id": m["principalId"]}


def delete(ctx: Ctx, res: Resource) -> None:
    ops = ctx.clients.authorization().role_assignments
    scope = _scope(ctx, res)
    get_or_none(lambda: ops.delete(scope, res.name))


KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
# azure_openai.auth: identity: the app's identity calls Azure OpenAI with Entra ID tokens
# (learn.microsoft.com/azure/ai-services/openai/how-to/role-based-access-control).
COGNITIVE_SERVICES_OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"


def assignment_name(scope: str, principal: str, role: str) -> str:
    """Deterministic assignment name: a re-run, a crash-resume or a concurrent deploy PUTs the
    same assignment instead of adding a duplicate."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aigw:{scope.lower()}:{principal}:{role}"))


def openai_user_role(
    inp: Inputs,
    identity_id: str,
    principal: Ref,
    upstream: UpstreamConfig | None = None,
    name: str | None = None,
) -> Resource:
    """Cognitive Services OpenAI User for the app's identity on the Azure OpenAI account: the
    YAML's resource_id, else the account found by the endpoint's host at observe time
    (`resources.openai_account`). The account is not aigw's: destroy removes only this grant.
    `upstream`/`name`: a named upstream's account (default: the primary's)."""
    upstream = upstream or inp.config.azure_openai
    where = upstream.resource_id.lower() if upstream.resource_id else f"openai:{upstream.host}"
    account = {"resourceId": upstream.resource_id, "endpoint": upstream.endpoint}
    return Resource(
        f"role:app-openai-user-{name}" if name else "role:app-openai-user",
        Kind.role_assignment,
        assignment_name(where, f"identity:{identity_id}", COGNITIVE_SERVICES_OPENAI_USER),
        depends_on=(Key.identity,),
        managed={
            "openaiAccount": account,
            "roleDefinitionId": COGNITIVE_SERVICES_OPENAI_USER,
            "principalId": principal,
            "principalType": "ServicePrincipal",
        },
        owned=False,
        display=f"Cognitive Services OpenAI User on {upstream.host} for the app's identity",
    )


@registered
class RoleAssignmentAdapter(Base):
    kind = Kind.role_assignment
    order = 60

    def desired(self, inp: Inputs) -> Sequence[Resource]:
        """The app's identity reads the vault's secrets, the deployer writes them; with a
        private registry (gateway.registry) the identity pulls with AcrPull on it (the
        registry's ARM id is found by its name at apply time)."""
        vault_id = adapter(Kind.key_vault).arm_id(inp, inp.names.key_vault)
        identity_id = adapter(Kind.identity).arm_id(inp, inp.names.identity)
        app_principal = Ref(Key.identity, "principal_id")
        roles = [
            Resource(
                "role:deployer-secrets-officer",
                self.kind,
                assignment_name(vault_id, inp.deployer_principal_id, KEY_VAULT_SECRETS_OFFICER),
                depends_on=("key_vault",),
                managed={
                    "scope": vault_id,
                    "roleDefinitionId": KEY_VAULT_SECRETS_OFFICER,
                    "principalId": inp.deployer_principal_id,
                    "principalType": inp.deployer_principal_type,
                },
                owned=False,
                display="Key Vault Secrets Officer for the deployer",
            ),
            Resource(
                "role:app-secrets-user",
                self.kind,
                assignment_name(vault_id, f"identity:{identity_id}", KEY_VAULT_SECRETS_USER),
                depends_on=(Key.key_vault, "identity"),
                managed={
                    "scope": vault_id,
                    "roleDefinitionId": KEY_VAULT_SECRETS_USER,
                    "principalId": app_principal,
                    "principalType": "ServicePrincipal",
                },
                owned=False,
                display="Key Vault Secrets User for the app's identity",
            ),
        ]
        registry = inp.config.gateway.registry
        if registry is not None:
            server = registry.server
            roles.append(
                Resource(
                    "role:app-acr-pull",
                    self.kind,
                    assignment_name(f"acr:{server}", f"identity:{identity_id}", ACR_PULL),
                    depends_on=("identity",),
                    managed={
                        "registryServer": server,
                        "roleDefinitionId": ACR_PULL,
                        "principalId": app_principal,
                        "principalType": "ServicePrincipal",
                    },
                    owned=False,
                    display=f"AcrPull on {server} for the app's identity",
                )
            )
        if inp.config.azure_openai.auth == "identity":
            roles.append(openai_user_role(inp, identity_id, app_principal))
        for name, other in upstreams.identity_accounts(inp):  # one per other account
            roles.append(openai_user_role(inp, identity_id, app_principal, other, name))
        return roles

    needs_role_wait = True  # the principal may not have reached Entra ID's replicas yet
    immutable = True  # its name is derived from scope, principal and role

    def observe(self, ctx: Ctx, res: Resource, *, destroy: bool = False) -> Observed:
        return observe(ctx, res)

    def ensure(self, ctx: Ctx, res: Resource, *, recover: bool = False) -> Mapping[str, Any]:
        return ensure(ctx, res)

    def delete(self, ctx: Ctx, res: Resource) -> Mapping[str, Any] | None:
        delete(ctx, res)
        return None
