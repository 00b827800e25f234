"""Azure resource names, derived deterministically from the config (pure).

Scheme (kept from the scaffold): `<prefix>-<env>-<project>-<kind>-<location_short>`, e.g.
`pvc-prod-aigateway-rg-san`. Where a name is too long for its resource type, the project and
env segments are shortened (longest first) and a 4-character hash of the full name is added,
so shortened names stay unique and valid (never a trailing hyphen, never `--`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    label: str
    min_len: int
    max_len: int
    pattern: str
    description: str
    tag: str = ""  # the kind segment of the scheme, e.g. "kv"
    lowercase: bool = False
    no_double_hyphen: bool = False  # '--' refused (container apps: revision names; vaults)

    def problem(self, name: str) -> str | None:
        """Why `name` is not valid for this resource type, or None."""
        if not self.min_len <= len(name) <= self.max_len:
            return f"{self.label} name {name!r} must be {self.min_len}-{self.max_len} characters"
        if not re.fullmatch(self.pattern, name):
            return f"{self.label} name {name!r} is invalid: {self.description}"
        if "--" in name and self.no_double_hyphen:
            return f"{self.label} name {name!r} must not contain '--'"
        return None


# Each kind's rule is declared in its module under aigw/resources/ (`name_rule` on its adapter);
# `aigw.resources.names(config)` derives every name of an environment from the registry.

# Key Vault secret names aigw owns, and the container-app secret names that reference them.
GATEWAY_KEY_SECRET = "gateway-key"
AZURE_OPENAI_KEY_SECRET = "azure-openai-api-key"
LITELLM_CONFIG_SECRET = "litellm-config"
GUARD_SECRET = "aigw-guard"  # the guard module beside the config (gateway/render.py)
# The developer keys (issue 14): their hashes, written by `aigw keys`, never by deploy.
DEVELOPER_KEYS_SECRET = "aigw-developer-keys"
# Their name before issue 25 (aigw up to 05b4759). A deploy over such a gateway copies it into
# DEVELOPER_KEYS_SECRET (resources/secrets.py) and keeps a container-app secret of this name
# pointing at the new one for the revisions the previous aigw made (resources/container_app.py
# FORMER_SECRETS); Key Vault keeps the old secret, unread. A later version may drop both.
FORMER_DEVELOPER_KEYS_SECRET = "aigw-dev-keys"
USAGE_SECRET = "aigw-usage"  # the usage logger beside it (gateway/render.py)
RESPONSES_SECRET = "aigw-responses"  # the Responses state keeper (gateway/render.py)
LIMITS_SECRET = "aigw-limits"  # default limits and prices of developer keys (gateway/render.py)


class Names(Mapping[str, str]):
    """Every Azure name of one environment, by kind (`aigw.resources.names`): each registered
    kind that declares a name rule. The shipped kinds' names are attributes too."""

    def __init__(self, by_kind: Mapping[str, str]) -> None:
        self._by_kind = dict(by_kind)

    def __getitem__(self, kind: str) -> str:
        return self._by_kind[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_kind)

    def __len__(self) -> int:
        return len(self._by_kind)

    def __repr__(self) -> str:
        return f"Names({self._by_kind!r})"

    def as_dict(self) -> dict[str, str]:
        return dict(self._by_kind)

    @property
    def resource_group(self) -> str:
        return self._by_kind["resource_group"]

    @property
    def log_analytics(self) -> str:
        return self._by_kind["log_analytics"]

    @property
    def container_env(self) -> str:
        return self._by_kind["container_env"]

    @property
    def container_app(self) -> str:
        return self._by_kind["container_app"]

    @property
    def key_vault(self) -> str:
        return self._by_kind["key_vault"]

    @property
    def identity(self) -> str:
        return self._by_kind["identity"]


class NamingError(ValueError):
    """No valid name can be made from these values."""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:4]


def compose(
    prefix: str,
    env: str,
    project: str,
    rule: NameRule,
    location_short: str,
    suffix: str = "",
) -> str:
    """One resource name following the scheme, shortened deterministically if needed: `rule`
    is the kind's (its `tag` the kind segment)."""
    lower = rule.lowercase
    tail = [rule.tag, location_short]
    head = [p for p in (prefix, env, project) if p]
    full = "-".join(head + tail + ([suffix] if suffix else []))
    if lower:
        full = full.lower()
    if len(full) <= rule.max_len:
        name = full
    else:
        # A suffix already tells this name apart; otherwise a hash of the full name does.
        name = _shorten(head, tail, rule.max_len, suffix or _short_hash(full))
        if lower:
            name = name.lower()
    problem = rule.problem(name)
    if problem:
        raise NamingError(problem)
    return name


def _shorten(head: list[str], tail: list[str], max_len: int, digest: str) -> str:
    # head = [prefix, env, project]; env and project may shrink (longest first, down to 1
    # character each); the digest keeps shortened names distinct.
    segs = list(head)
    fixed = [*tail, digest]
    shrinkable = [i for i in range(len(segs)) if i > 0 or len(segs) == 1]

    def length() -> int:
        return len("-".join([s for s in segs if s] + fixed))

    while length() > max_len:
        candidates = [i for i in shrinkable if len(segs[i]) > 1]
        if not candidates:
            break
        i = max(candidates, key=lambda j: (len(segs[j]), j))
        segs[i] = segs[i][:-1].rstrip("-_.")
    if length() > max_len and segs and len(segs) > 1:
        segs[0] = ""  # drop the prefix as a last resort
    name = "-".join([s for s in segs if s] + fixed)
    if len(name) > max_len:
        raise NamingError(f"cannot fit a name into {max_len} characters: {name!r}")
    return name


def vault_suffix(setting: str | None, *, project: str, env: str, location: str) -> str:
    """The optional Key Vault name suffix: none, 'auto' (a stable hash), or a given one."""
    if not setting:
        return ""
    if setting == "auto":
        return _short_hash(f"{project}/{env}/{location}")
    return setting
