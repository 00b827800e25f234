"""Microsoft.App usages in a region: how many managed environments the subscription has there,
and its quota.

GET /subscriptions/{sub}/providers/Microsoft.App/locations/{location}/usages, operation
Usages_List of specification/app/resource-manager/Microsoft.App/ContainerApps/stable/2026-07-01
(azure-mgmt-appcontainers 5.1.0 `usages.list`): a page {value: [Usage], nextLink}, each Usage
{unit: "Count", currentValue, limit, name: {value, localizedValue}}, all but localizedValue
required. Azure answers exactly one usage, `ManagedEnvironmentCount` (the Azure CLI's
containerapp test `test_containerapp_env_usages` asserts one usage of that name).

The limit: "Quotas for Azure Container Apps" (learn.microsoft.com/azure/container-apps/quotas)
documents 15 environments per subscription per region by default ("Quota name: Managed
Environment Count"; the global default is 20). Azure lowers it for some subscriptions (free
trial and student subscriptions: one environment), so a test sets it with
`LocalCloud.set_environment_quota` or the state's `managed_environment_quota`.
"""

from __future__ import annotations

from ..core.engine import Engine, Router
from ..core.errors import CloudError
from ..core.http import Request, Response
from ..core.state import State
from ..core.util import norm_location
from .locations import require_location
from .microsoft_app import ENV_TYPE, LOC_OPS, NS

router = Router()
DEFAULT_ENVIRONMENT_QUOTA = 15  # Learn, "Quotas for Azure Container Apps": Environments, Region
QUOTA_KEY = "managed_environment_quota"


def environments_in_region(st: State, sub: str, loc: str) -> int:
    prefix = f"/subscriptions/{sub}/".lower()
    return sum(
        1
        for k, r in st["resources"].items()
        if k.startswith(prefix)
        and r["type"].lower() == ENV_TYPE.lower()
        and norm_location(r["location"]) == norm_location(loc)
    )


def environment_quota(st: State) -> int:
    quota = st.get(QUOTA_KEY)
    return DEFAULT_ENVIRONMENT_QUOTA if quota is None else int(quota)


def require_environment_slot(st: State, sub: str, loc: str) -> None:
    """A new managed environment beyond the region's quota is refused at PUT, with the code
    and message Azure gives (Azure/terraform-provider-azapi#193 quotes the ARM answer:
    `MaxNumberOfRegionalEnvironmentsInSubExceeded`, "The subscription '<id>' cannot have more
    than 1 environments in East US."; microsoft/azure-container-apps#429, #1226)."""
    limit = environment_quota(st)
    if environments_in_region(st, sub, loc) >= limit:
        raise CloudError(
            400,
            "MaxNumberOfRegionalEnvironmentsInSubExceeded",
            f"The subscription '{sub}' cannot have more than {limit} environments in {loc}.",
        )


@router.route("GET", LOC_OPS + r"/usages")
def list_usages(eng: Engine, req: Request) -> Response:
    sub, loc = req.params["sub"], norm_location(req.params["loc"])
    with eng.store.read() as st:
        eng.require_subscription(st, sub)
        # A provider's API answers 409 MissingSubscriptionRegistration until it is registered.
        eng.require_provider(st, NS)
        # Stricter than Azure (its answer for such a region is not documented): a region
        # without Container Apps is refused as a PUT there would be.
        require_location(ENV_TYPE, loc)
        used = environments_in_region(st, sub, loc)
        limit = environment_quota(st)
    usage = {
        "unit": "Count",
        "currentValue": used,
        "limit": limit,
        "name": {"value": "ManagedEnvironmentCount", "localizedValue": "Managed Environment Count"},
    }
    return Response(200, {"value": [usage]})
