"""Microsoft.App names shared by the environment and container app routes."""

from __future__ import annotations

from ..core.http import Request
from .common import NAME, RG, SUB, resource_id

NS = "Microsoft.App"
ENV_TYPE = "Microsoft.App/managedEnvironments"
APP_TYPE = "Microsoft.App/containerApps"
ENV_PATH = RG + r"/providers/Microsoft.App/managedEnvironments/" + NAME
APP_PATH = RG + r"/providers/Microsoft.App/containerApps/" + NAME
LOC_OPS = SUB + r"/providers/Microsoft.App/locations/(?P<loc>[^/]+)"
# Azure's azurecontainerapps.io / azurecontainerapps.dev, under the reserved .localhost TLD
# (RFC 6761 section 6.3) so nothing the local cloud hands out resolves outside this machine.
LOCAL_APPS_DOMAIN = "azurecontainerapps.localhost"
LOCAL_EVENTS_DOMAIN = "azurecontainerapps-dev.localhost"


def env_rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "managedEnvironments", p["name"])


def app_rid(req: Request) -> str:
    p = req.params
    return resource_id(p["sub"], p["rg"], NS, "containerApps", p["name"])


def ops_path(sub: str, location: str, kind: str, op_id: str) -> str:
    return f"/subscriptions/{sub}/providers/{NS}/locations/{location}/{kind}/{op_id}"
