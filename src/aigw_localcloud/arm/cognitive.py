"""Microsoft.CognitiveServices accounts and their deployments, read-only: the accounts are the
Azure OpenAI emulators of this cloud (aoai_account). aigw never writes an account.

Paths and bodies: specification/cognitiveservices/resource-manager/Microsoft.CognitiveServices/
stable/2025-09-01/cognitiveservices.json (Accounts_List, Accounts_Get, Deployments_List,
Deployments_Get); 404 ResourceNotFound as ARM answers for a missing resource.
"""

from __future__ import annotations

from typing import Any

from ..core.engine import Engine, Router
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..openai.account import account_body, deployment_body
from .common import NAME, RG, SUB

router = Router()
NS = r"/providers/Microsoft\.CognitiveServices/accounts"
ACCOUNT = RG + NS + "/" + NAME


def _find(eng: Engine, req: Request) -> Any:
    p = req.params
    for em in eng.openai_accounts:
        acct = em.account
        if acct.name.lower() == p["name"].lower() and (
            acct.resource_group.lower() == p["rg"].lower()
        ):
            return em
    raise CloudError(
        404,
        "ResourceNotFound",
        f"The Resource 'Microsoft.CognitiveServices/accounts/{p['name']}' under resource group "
        f"'{p['rg']}' was not found. For more details please go to https://aka.ms/"
        "ARMResourceNotFoundFix",
    )


@router.route("GET", SUB + NS)
def list_accounts(eng: Engine, req: Request) -> Response:
    sub = req.params["sub"]
    return Response(
        200, {"value": [account_body(em.account, sub, em.url) for em in eng.openai_accounts]}
    )


@router.route("GET", ACCOUNT)
def get_account(eng: Engine, req: Request) -> Response:
    em = _find(eng, req)
    return Response(200, account_body(em.account, req.params["sub"], em.url))


@router.route("GET", ACCOUNT + r"/deployments")
def list_deployments(eng: Engine, req: Request) -> Response:
    em = _find(eng, req)
    sub = req.params["sub"]
    deps = em.deployments.values()
    return Response(200, {"value": [deployment_body(em.account, sub, d) for d in deps]})


@router.route("GET", ACCOUNT + r"/deployments/(?P<dep>[^/]+)")
def get_deployment(eng: Engine, req: Request) -> Response:
    em = _find(eng, req)
    dep = em.deployments.get(req.params["dep"])
    if dep is None:
        raise CloudError(
            404,
            "DeploymentNotFound",
            f"Deployment '{req.params['dep']}' not found.",
        )
    return Response(200, deployment_body(em.account, req.params["sub"], dep))
