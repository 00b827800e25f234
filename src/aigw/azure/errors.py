"""Azure errors as data: which ones aigw retries itself, and the one-line fix for the rest.

azure-core already retries 429/5xx and dropped connections (3 times, exponential backoff), and
honours Retry-After. What it cannot know is listed in RETRYABLE: errors that are transient for
*this* workflow (a fresh identity not yet replicated, a role not yet effective, an environment
busy with another operation) or a dropped POST, which azure-core does not retry.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aigw.errors import AzureError

T = TypeVar("T")

# error code -> why it is transient
RETRYABLE: dict[str, str] = {
    "PrincipalNotFound": "a new identity takes a while to replicate to Entra ID",
    "ManagedEnvironmentOperationInProgress": "the environment is busy with another operation",
    "ContainerAppOperationInProgress": "the container app is busy with another operation",
    "ManagedEnvironmentNotProvisioned": "the environment is still being created (e.g. by a "
    "concurrent deploy)",
    "AnotherOperationInProgress": "another operation on this resource is running",
    "Conflict.OperationInProgress": "another operation on this resource is running",
    "Forbidden.RolePropagation": "a role assignment takes minutes to take effect",
    "ServiceUnavailable": "Azure is briefly unavailable",
    "TooManyRequests": "throttled",
    "RetryableError": "Azure says so",
}


# Container Apps reads every Key Vault reference when the app is PUT and refuses the PUT with
# this code and text while the app identity may not read the secret yet: its Key Vault Secrets
# User role is still propagating (microsoft/azure-container-apps#930, #1174, #1159). Only this
# pairing is waited for; the same code with other text is a template mistake.
KV_REFERENCE_CODE = "InvalidParameterValueInContainerTemplate"
# The same check can fail later, inside the PUT's long-running operation, when the revision
# provisions: the operation ends Failed with this code and the same text wrapped in "Failed to
# provision revision for container app '<app>'. Error details: ..." (the wrapper as
# microsoft/azure-container-apps#1061 and learn.microsoft.com/answers/questions/5814504 report
# it; RBAC propagation failing the revision after the PUT was accepted:
# microsoft/GitHub-Copilot-for-Azure#1701). Waited for alike: the PUT is repeated.
LATE_FAILURE_CODE = "ContainerAppOperationError"
ROLE_WAIT_CODES = (KV_REFERENCE_CODE, LATE_FAILURE_CODE)
KV_REFERENCE_TEXT = "unable to get value using managed identity"
KV_REFERENCE_WAIT = (
    "waiting for the app identity's Key Vault Secrets User role to take effect (Azure checks "
    "the Key Vault references when the container app is saved)"
)


# The same code when the identity may not pull the image from Azure Container Registry yet (its
# AcrPull still propagating): "... GET https:?scope=repository%3A...%3Apull&service=<x>.azurecr
# .io: UNAUTHORIZED: authentication required ..." (Azure/container-apps-deploy-action#85,
# microsoft/azure-container-apps#212).
ACR_PULL_TEXT = "unauthorized: authentication required"
ACR_PULL_WAIT = (
    "waiting for the app identity's AcrPull role on the registry to take effect (Azure checks "
    "the image pull when the container app is saved)"
)


def _message(err: Any) -> str:
    return str(getattr(getattr(err, "error", None), "message", None) or err).lower()


def role_wait(err: Any) -> str:
    """Why a container app PUT refusal is the app identity's role still propagating ('' if it
    is not): a Key Vault reference it cannot read yet, or an ACR image it cannot pull yet,
    refused at once (400) or failing the revision late (the PUT's operation Failed)."""
    if error_code(err) not in ROLE_WAIT_CODES:
        return ""
    message = _message(err)
    if KV_REFERENCE_TEXT in message:
        return KV_REFERENCE_WAIT
    if ACR_PULL_TEXT in message and ".azurecr.io" in message:
        return ACR_PULL_WAIT
    return ""


def is_kv_reference_wait(err: Any) -> bool:
    """The container app PUT refused (or its revision failed) because its identity cannot read
    a Key Vault secret yet."""
    return role_wait(err) == KV_REFERENCE_WAIT


@dataclass(frozen=True)
class Fix:
    message: str
    hint: str


# error code -> what went wrong and how to fix it ({name} and {kind} filled in)
FIXES: dict[str, Fix] = {
    "AuthorizationFailed": Fix(
        "the deployer may not do this on {kind} {name}",
        "grant the deploying principal Contributor on the subscription (and Role Based Access "
        "Control Administrator for the Key Vault roles); see README 'CI'",
    ),
    "LinkedAuthorizationFailed": Fix(
        "the deployer may not use a linked resource of {kind} {name}",
        "grant the deploying principal Contributor on the resource group",
    ),
    "MaxNumberOfRegionalEnvironmentsInSubExceeded": Fix(
        "the subscription has no Container Apps environment left in this region for {kind} {name}",
        "delete an unused environment there or request more quota (az quota update, or the "
        "portal's Quotas page); aigw doctor --env <env> shows how many are used",
    ),
    "MissingSubscriptionRegistration": Fix(
        "the subscription is not registered for the provider of {kind} {name}",
        "aigw registers providers itself when allowed; otherwise run "
        "'az provider register --namespace <namespace>'",
    ),
    "VaultAlreadyExists": Fix(
        "the Key Vault name {name} is taken (vault names are global)",
        "set key_vault.name_suffix: auto (or a short suffix) in the environment file",
    ),
    "ConflictError": Fix(
        "{kind} {name} conflicts with a soft-deleted vault of the same name",
        "aigw recovers it on the next deploy; or purge it with 'aigw destroy --purge'",
    ),
    "QuotaExceeded": Fix(
        "the subscription's quota is exhausted for {kind} {name}",
        "delete unused resources or request a quota increase in the Azure portal",
    ),
    "Forbidden": Fix(
        "Key Vault refused access to {name}",
        "the deployer needs Key Vault Secrets Officer on the vault; aigw assigns it, but "
        "assignments take minutes to apply: rerun deploy",
    ),
    "InvalidTemplateDeployment": Fix("Azure rejected {kind} {name}", "see the message above"),
    "RoleAssignmentExists": Fix(
        "an equivalent role assignment already exists for {name}",
        "nothing to do; rerun deploy",
    ),
}


def error_code(err: Any) -> str:
    """The Azure error code of an SDK exception ('' when there is none)."""
    code = getattr(getattr(err, "error", None), "code", None)
    if not code:
        code = getattr(err, "code", None)
    if not code:
        response = getattr(err, "response", None)
        try:
            body = response.json() if response is not None else {}
            code = (body.get("error") or {}).get("code")
        except Exception:
            code = None
    return str(code or "")


def _first_line(err: Any) -> str:
    message = getattr(getattr(err, "error", None), "message", None) or str(err)
    return " ".join(str(message).split())[:300]


def translate(err: Exception, *, kind: str, name: str) -> AzureError:
    """An SDK exception as one actionable line naming the resource and the fix."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

    if isinstance(err, ClientAuthenticationError):
        return AzureError(
            f"cannot authenticate to Azure while working on {kind} {name}",
            hint="run 'az login' or check the OIDC login step",
        )
    code = error_code(err)
    status = getattr(err, "status_code", 0) or 0
    if role_wait(err) == ACR_PULL_WAIT:
        return AzureError(
            f"the identity of {kind} {name} still may not pull its image [{code}]",
            hint="check that the app's identity has AcrPull on the registry (gateway.registry), "
            "then rerun deploy",
            code=code,
            status=status,
        )
    if is_kv_reference_wait(err):
        return AzureError(
            f"the identity of {kind} {name} still may not read its Key Vault secrets [{code}]",
            hint="check that the identity has Key Vault Secrets User on the vault (and that the "
            "vault's firewall admits Container Apps), then rerun deploy",
            code=code,
            status=status,
        )
    fix = FIXES.get(code)
    if fix is not None:
        return AzureError(
            fix.message.format(kind=kind, name=name) + f" [{code}]",
            hint=fix.hint,
            code=code,
            status=status,
        )
    if isinstance(err, HttpResponseError):
        return AzureError(
            f"Azure refused {kind} {name}: {code or status}: {_first_line(err)}",
            code=code,
            status=status,
        )
    return AzureError(f"{kind} {name}: {type(err).__name__}: {_first_line(err)}")


# Server errors azure-core already retried 3 times: aigw tries the whole step this many more
# times (every step is a reconcile, so safe to repeat), then reports the error.
SERVER_ERROR_ATTEMPTS = 3


def retry_budget(err: Exception) -> int | None:
    """How many times aigw may retry after `err`: 0 (never), a count, or None (until the
    timeout: transient by nature, see RETRYABLE)."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    if isinstance(err, ServiceRequestError | ServiceResponseError):
        return None  # dropped connection; azure-core does not retry POSTs
    status = getattr(err, "status_code", 0)
    if error_code(err) in RETRYABLE or status in (429, 503) or role_wait(err):
        return None
    if status in (500, 502, 504):
        return SERVER_ERROR_ATTEMPTS
    return 0


def is_retryable(err: Exception) -> bool:
    return retry_budget(err) != 0


def with_retries(
    call: Callable[[], T],
    *,
    what: str,
    timeout: float = 300.0,
    base: float = 1.0,
    cap: float = 15.0,
    retryable: Callable[[Exception], bool] = is_retryable,
    on_wait: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    budget: Callable[[Exception], int | None] | None = None,
) -> T:
    """Call until it succeeds or fails for good; bounded, jittered exponential backoff.
    `budget(err)`, when given, caps the retries for that kind of error (None: until timeout)."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        try:
            return call()
        except Exception as err:
            attempt += 1
            delay = min(cap, base * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            limit = budget(err) if budget is not None else None
            if not retryable(err) or time.monotonic() + delay > deadline:
                raise
            if limit is not None and attempt > limit:
                raise
            if on_wait:
                why = role_wait(err)
                on_wait(
                    f"{what}: {why or error_code(err) or type(err).__name__}, "
                    f"retrying in {delay:.1f}s"
                )
            sleep(delay)
