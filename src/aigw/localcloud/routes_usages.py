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

from .app_ids import ENV_TYPE, LOC_OPS, NS
from .engine import Engine
from .http import Request, Response, Router
from .locations import require_location
from .util import norm_location

router = Router()
DEFAULT_ENVIRONMENT_QUOTA = 15  # Learn, "Quotas for Azure Container Apps": Environments, Region
QUOTA_KEY = "managed_environment_quota"


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
        prefix = f"/subscriptions/{sub}/".lower()
        used = sum(
            1
            for k, r in st["resources"].items()
            if k.startswith(prefix)
            and r["type"].lower() == ENV_TYPE.lower()
            and norm_location(r["location"]) == loc
        )
        quota = st.get(QUOTA_KEY)
        limit = DEFAULT_ENVIRONMENT_QUOTA if quota is None else int(quota)
    usage = {
        "unit": "Count",
        "currentValue": used,
        "limit": limit,
        "name": {"value": "ManagedEnvironmentCount", "localizedValue": "Managed Environment Count"},
    }
    return Response(200, {"value": [usage]})
