"""`aigw doctor`: is this principal, subscription and region ready for a first deploy?

Read-only (GETs and checkNameAvailability only), a few seconds. Each check gives one finding;
a problem carries the fix. Checks: who is signed in and as what kind of principal, the
subscription, provider registration, whether the caller may create role assignments at the
vault's scope, the vault name's availability, the location of every resource type, the
Container Apps environment quota in the region, and whether prod pulls its image anonymously
from Docker Hub (a warning: printed as WARN, it does not change the exit code).
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from aigw.engine.findings import Finding
from aigw.state import Key

if TYPE_CHECKING:
    from aigw.engine.session import Session
    from aigw.state import Observed

ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write"
SUBSCRIPTION_API = "2022-12-01"  # Microsoft.Resources/stable/2022-12-01/subscriptions.json


def _in_scope(target: str, scope: str) -> bool:
    """Does an assignment at `scope` cover `target`? Management groups listed for a
    subscription are the ones above it, so they cover everything in it."""
    t, s = target.lower().rstrip("/"), scope.lower().rstrip("/")
    if s.startswith("/providers/microsoft.management/managementgroups/"):
        return True
    return s == "" or t == s or t.startswith(s + "/")


def _grants(permissions: list[Any], action: str) -> bool:
    a = action.lower()
    for perm in permissions:
        allowed = any(fnmatch.fnmatchcase(a, x.lower()) for x in perm.actions or [])
        denied = any(fnmatch.fnmatchcase(a, x.lower()) for x in perm.not_actions or [])
        if allowed and not denied:
            return True
    return False


def signed_in(session: Session) -> tuple[Finding, str, str]:
    from aigw.azure.session import whoami_principal_type

    oid, tid, principal_type = whoami_principal_type(session.target)
    what = principal_type or "a principal of unknown type (the token has no idtyp)"
    return Finding("signed in", True, f"{what} {oid} in tenant {tid}"), oid, tid


def subscription(session: Session, tenant: str) -> Finding:
    from azure.core.rest import HttpRequest

    sub = session.target.subscription_id
    client = session.ctx.clients.resources()
    resp = client.send_request(
        HttpRequest("GET", f"/subscriptions/{sub}?api-version={SUBSCRIPTION_API}")
    )
    fix = "pass --subscription, set subscription_id in the YAML or AZURE_SUBSCRIPTION_ID"
    if resp.status_code != 200:
        return Finding(
            "subscription", False, f"{sub} is not visible (HTTP {resp.status_code})", fix
        )
    body = resp.json()
    if body.get("state") != "Enabled":
        return Finding("subscription", False, f"{sub} is {body.get('state')}", fix)
    if str(body.get("tenantId", tenant)).lower() != tenant.lower():
        return Finding(
            "subscription",
            False,
            f"{sub} belongs to tenant {body.get('tenantId')}, the token to {tenant}",
            "sign in to the subscription's tenant (az login --tenant ...)",
        )
    return Finding("subscription", True, f"{sub} ({body.get('displayName')}) is Enabled")


def role_rights(session: Session, principal: str) -> Finding:
    """May `principal` create role assignments at the vault's scope? Its assignments at or
    above that scope (assignedTo, so group memberships count), their roles' actions."""
    from azure.core.exceptions import HttpResponseError

    from aigw.azure.errors import error_code

    ctx = session.ctx
    vault = session.desired.by_key()[Key.key_vault]
    scope = f"/subscriptions/{ctx.sub}/resourceGroups/{ctx.rg}/providers/Microsoft.KeyVault/vaults/{vault.name}"  # noqa: E501
    auth = ctx.clients.authorization()
    try:
        found = list(
            auth.role_assignments.list_for_subscription(filter=f"assignedTo('{principal}')")
        )
    except HttpResponseError as err:
        return Finding(
            "role assignments",
            False,
            f"cannot read the role assignments of {principal}: "
            f"{error_code(err) or err.status_code}",
            "the deployer needs at least Reader on the subscription",
        )
    for ra in found:
        if not _in_scope(scope, ra.scope or ""):
            continue
        role = auth.role_definitions.get_by_id(ra.role_definition_id)
        if _grants(list(role.permissions or []), ROLE_ASSIGNMENT_WRITE):
            return Finding(
                "role assignments",
                True,
                f"may create them at the vault's scope ({role.role_name} at {ra.scope})",
            )
    return Finding(
        "role assignments",
        False,
        f"the signed-in principal may not create role assignments at {scope} (deploy assigns "
        "Key Vault Secrets User to the app and Secrets Officer to itself)",
        f"ask an Owner for 'Role Based Access Control Administrator' or 'User Access "
        f"Administrator' on /subscriptions/{ctx.sub}/resourceGroups/{ctx.rg} or above "
        f"(az role assignment create --assignee {principal} --role 'User Access Administrator' "
        f"--scope /subscriptions/{ctx.sub})",
    )


def run(session: Session) -> list[Finding]:
    """Every check, in order. Nothing is written."""
    from aigw.engine import doctor_pull, preflight
    from aigw.resources import adapter

    me, principal, tenant = signed_in(session)
    findings = [me, subscription(session, tenant)]
    desired = session.desired
    observed: dict[str, Observed] = {}
    for res in desired.resources:
        if adapter(res.kind).registration:
            obs = adapter(res.kind).observe(session.ctx, res)
            observed[res.key] = obs
            state = obs.fields.get("registrationState")
            detail = f"{res.name} is {state}"
            if state != "Registered":
                detail += " (deploy registers it: Contributor may)"
            findings.append(Finding("provider", True, detail))
    findings.append(role_rights(session, principal))
    for res in desired.resources:  # what preflight needs of Azure (the vault's name, retention)
        if adapter(res.kind).doctor_reads:
            observed[res.key] = adapter(res.kind).observe(session.ctx, res)
    problems = preflight.problems(desired, observed)
    for p in problems:
        findings.append(Finding(p.field or "environment file", False, p.message, p.hint or ""))
    if not any(p.field == "location" for p in problems):
        findings.append(
            Finding("location", True, f"{desired.location} offers every resource type aigw uses")
        )
    refused = {p.field for p in problems}
    for res in desired.resources:  # each kind's own checks, in dependency order
        for f in adapter(res.kind).doctor(session.ctx, res, observed, refused):
            findings.append(Finding(f.check, f.ok, f.detail, f.fix))
    gw = session.config.gateway
    server = gw.registry.server if gw.registry else None
    findings.append(doctor_pull.image_pull(session.config.env, gw.image, server))
    return findings
