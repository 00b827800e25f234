"""Container app ingress IP security restrictions, validated as Azure documents them.

Sources:
- IpSecurityRestrictionRule in specification/app/resource-manager/Microsoft.App/ContainerApps/
  stable/2026-07-01/openapi.json (the api-version azure-mgmt-appcontainers 5.1.0 sends):
  `name`, `ipAddressRange` and `action` are required, `description` optional; `action` is
  Allow|Deny, "Rules can only consist of ALL Allow or ALL Deny"; the array's x-ms-identifiers is
  `name` (a rule is identified by its name).
- learn.microsoft.com/azure/container-apps/ip-restrictions: "The ipAddressRange parameter
  accepts IPv4 addresses ... in CIDR notation"; "All rules must be the same type. You cannot
  combine allow rules and deny rules."

Azure's exact error code for these refusals is not documented; the local cloud answers 400
`InvalidIpSecurityRestrictions` with a message naming the rule. Stricter than Azure where unsure:
names must be unique (they identify rules), a rule's range must be a plain IPv4 CIDR.

Enforcement: the local gateway is a LiteLLM process on 127.0.0.1 and every caller here comes
from 127.0.0.1, so restricting by source address would mean nothing; the rules are validated,
stored and echoed back, never applied (README: "The local cloud").
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ..core.errors import CloudError

CODE = "InvalidIpSecurityRestrictions"
ACTIONS = ("Allow", "Deny")
_CIDR = re.compile(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}")


def _refuse(message: str) -> CloudError:
    return CloudError(
        400, CODE, f"Field 'configuration.ingress.ipSecurityRestrictions' is invalid: {message}"
    )


def validate(ingress: dict[str, Any] | None) -> None:
    """Raise CloudError(400) unless the ingress's IP restriction rules are valid."""
    rules = (ingress or {}).get("ipSecurityRestrictions")
    if rules is None:
        return
    if not isinstance(rules, list):
        raise _refuse("must be an array of rules.")
    names: set[str] = set()
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise _refuse(f"rule {i} is not an object.")
        for field in ("name", "ipAddressRange", "action"):
            if not isinstance(rule.get(field), str) or not rule[field]:
                raise _refuse(f"rule {i}: '{field}' is required.")
        name, cidr, action = rule["name"], rule["ipAddressRange"], rule["action"]
        if name.lower() in names:
            raise _refuse(f"rule name '{name}' is used twice.")
        names.add(name.lower())
        if action not in ACTIONS:
            raise _refuse(f"rule '{name}': action '{action}' must be Allow or Deny.")
        if not _CIDR.fullmatch(cidr):
            raise _refuse(f"rule '{name}': '{cidr}' is not an IPv4 range in CIDR notation.")
        try:
            ipaddress.IPv4Network(cidr, strict=False)
        except ValueError:
            raise _refuse(f"rule '{name}': '{cidr}' is not a valid IPv4 CIDR range.") from None
        if "description" in rule and not isinstance(rule["description"], str | None):
            raise _refuse(f"rule '{name}': description must be a string.")
    actions = {r["action"] for r in rules}
    if len(actions) > 1:
        raise _refuse("rules can only consist of ALL Allow or ALL Deny.")
