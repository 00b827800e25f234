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

Enforcement (apps/front.py asks `verdict` for each connection to the app's URL and to each
label's URL, `<app>---<label>.<domain>`: the rules are part of the app's ingress, in the
app's configuration, and "application-scope changes can affect all revisions"
(learn.microsoft.com/azure/container-apps/revisions), so a label URL is held to them too):
- Allow rules: an address inside one of the ranges gets through, every other address is
  refused; Deny rules: the reverse; no rules: everyone gets through (ip-restrictions, above).
- Refused: HTTP 403 with the body `RBAC: access denied` (text/plain). Container Apps' ingress is
  envoy, and that is the local reply of envoy's RBAC filter (envoyproxy/envoy
  source/extensions/filters/http/rbac/rbac_filter.cc: sendLocalReply(Http::Code::Forbidden,
  "RBAC: access denied")); users of IP restrictions report exactly that answer
  (microsoft/azure-container-apps#835 "RBAC: access denied" from an APIM outside the list,
  #527 "403 RBAC").
- `external: false` (internal ingress): "Makes the app's own fully qualified domain name
  (FQDN) reachable only from within the same Container Apps environment"
  (learn.microsoft.com/azure/container-apps/ingress-overview, "External and internal
  ingress"); aigw's environments have no virtual network of the user's.
  Every caller of the local cloud's ports stands outside the environment, so the connection
  is closed without an answer: the client gets no HTTP response at all, as a name that does
  not resolve from outside gives none (stricter than Azure where unsure: what a request that
  reaches the environment's public envoy with an internal app's host name gets is not
  documented).

The caller address: every local caller is 127.0.0.1, so the address the rules are checked
against is a setting of the cloud (`caller_address`): `AIGW_LOCALCLOUD_CALLER_IP`, default
192.0.2.10. That default is in TEST-NET-1 (RFC 5737 section 3: for documentation, never
routed on the internet), so it is nobody's real egress address and stands for "a laptop or CI
runner somewhere on the internet", outside any real allow list; 203.0.113.0/24 would not do,
as aigw's own messages and tests give it as the example of an allowed block.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, Literal

from ..core.errors import CloudError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..core.engine import Engine

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


# ------------------------------------------------------------------------------ enforcement
CALLER_ENV = "AIGW_LOCALCLOUD_CALLER_IP"
DEFAULT_CALLER = "192.0.2.10"  # RFC 5737 TEST-NET-1 (see the module docstring)
Verdict = Literal["pass", "forbidden", "unreachable"]


def caller_address(value: str | None) -> str:
    """The caller address the cloud enforces the rules against: `value`, else the
    environment's AIGW_LOCALCLOUD_CALLER_IP, else the default. ValueError (naming the setting)
    unless it is one IPv4 address: the rules take IPv4 only."""
    import os

    raw = value if value is not None else os.environ.get(CALLER_ENV) or DEFAULT_CALLER
    try:
        return str(ipaddress.IPv4Address(raw.strip()))
    except ValueError:
        raise ValueError(
            f"{CALLER_ENV}={raw!r} is not an IPv4 address: give the single address the local "
            f"cloud's apps see callers come from, e.g. {DEFAULT_CALLER}"
        ) from None


def verdict(ingress: dict[str, Any], caller: str) -> Verdict:
    """What the app's ingress does with a connection from `caller` (the module docstring)."""
    if ingress.get("external") is False:
        return "unreachable"
    rules = ingress.get("ipSecurityRestrictions") or []
    if not rules:
        return "pass"
    address = ipaddress.IPv4Address(caller)
    inside = any(address in ipaddress.IPv4Network(r["ipAddressRange"], strict=False) for r in rules)
    allow = rules[0]["action"] == "Allow"  # all rules share one action (validate)
    return "pass" if inside == allow else "forbidden"


def gate(eng: Engine, app: dict[str, Any]) -> Callable[[], Verdict]:
    """The app's ingress as it stands now (rules copied), judged per connection against the
    cloud's caller address at that moment (apps/front.py)."""
    import copy

    ingress = copy.deepcopy((app["properties"].get("configuration") or {}).get("ingress") or {})
    return lambda: verdict(ingress, eng.caller_ip)
