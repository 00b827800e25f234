"""Azure resource names, derived deterministically from the config (pure).

Scheme (kept from the scaffold): `<prefix>-<env>-<project>-<kind>-<location_short>`, e.g.
`pvc-prod-aigateway-rg-san`. Where a name is too long for its resource type, the project and
env segments are shortened (longest first) and a 4-character hash of the full name is added,
so shortened names stay unique and valid (never a trailing hyphen, never `--`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class NameRule:
    label: str
    min_len: int
    max_len: int
    pattern: str
    description: str
    tag: str = ""  # the kind segment of the scheme, e.g. "kv"
    lowercase: bool = False

    def problem(self, name: str) -> str | None:
        """Why `name` is not valid for this resource type, or None."""
        if not self.min_len <= len(name) <= self.max_len:
            return f"{self.label} name {name!r} must be {self.min_len}-{self.max_len} characters"
        if not re.fullmatch(self.pattern, name):
            return f"{self.label} name {name!r} is invalid: {self.description}"
        if "--" in name and self.label in {"container app", "key vault"}:
            return f"{self.label} name {name!r} must not contain '--'"
        return None


RULES: dict[str, NameRule] = {
    "resource_group": NameRule(
        "resource group", 1, 90, r"[-\w._()]*[-\w_()]", "letters, digits, _-.(), no trailing '.'"
    ),
    "log_analytics": NameRule(
        "log analytics workspace",
        4,
        63,
        r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and '-', starting and ending alphanumeric",
    ),
    "container_env": NameRule(
        "container apps environment",
        2,
        60,
        r"[a-z0-9][a-z0-9-]*[a-z0-9]",
        "lowercase letters, digits and '-', starting and ending alphanumeric",
    ),
    "container_app": NameRule(
        "container app",
        2,
        32,
        r"[a-z][a-z0-9-]*[a-z0-9]",
        "lowercase letters, digits and '-', starting with a letter, ending alphanumeric",
    ),
    "key_vault": NameRule(
        "key vault",
        3,
        24,
        r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and '-', starting with a letter, ending alphanumeric",
    ),
    "identity": NameRule(
        "managed identity",
        3,
        128,
        r"[A-Za-z0-9][A-Za-z0-9_-]*",
        "letters, digits, '-' and '_', starting alphanumeric",
    ),
    "kv_secret": NameRule("key vault secret", 1, 127, r"[A-Za-z0-9-]+", "letters, digits, '-'"),
}

KIND_TAGS = {
    "resource_group": "rg",
    "log_analytics": "law",
    "container_env": "cae",
    "container_app": "ca",
    "key_vault": "kv",
    "identity": "id",
}

# Key Vault secret names aigw owns, and the container-app secret names that reference them.
GATEWAY_KEY_SECRET = "gateway-key"
AZURE_OPENAI_KEY_SECRET = "azure-openai-api-key"
LITELLM_CONFIG_SECRET = "litellm-config"
GUARD_SECRET = "aigw-guard"  # the guard module beside the config (gateway/config.py)
# The developer keys (issue 14): their hashes, written by `aigw keys`, never by deploy.
TEAM_KEYS_SECRET = "aigw-dev-keys"
USAGE_SECRET = "aigw-usage"  # the usage logger beside it (gateway/config.py)
RESPONSES_SECRET = "aigw-responses"  # the Responses state keeper (gateway/config.py)


@dataclass(frozen=True)
class Names:
    resource_group: str
    log_analytics: str
    container_env: str
    container_app: str
    key_vault: str
    identity: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class NamingError(ValueError):
    """No valid name can be made from these values."""


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:4]


def compose(
    prefix: str,
    env: str,
    project: str,
    kind: str | NameRule,
    location_short: str,
    suffix: str = "",
) -> str:
    """One resource name following the scheme, shortened deterministically if needed. `kind`:
    a key of RULES, or the NameRule (with its `tag`) of a kind that declares its own."""
    rule = RULES[kind] if isinstance(kind, str) else kind
    lower = rule.lowercase or kind in {"container_env", "container_app"}
    tail = [rule.tag or KIND_TAGS[str(kind)], location_short]
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


def derive_names(
    *,
    prefix: str,
    env: str,
    project: str,
    location: str,
    location_short: str,
    vault_name_suffix: str | None = None,
) -> Names:
    """Every Azure name for one environment. Raises NamingError naming the resource."""
    args = (prefix, env, project)
    suffix = vault_suffix(vault_name_suffix, project=project, env=env, location=location)
    return Names(
        resource_group=compose(*args, "resource_group", location_short),
        log_analytics=compose(*args, "log_analytics", location_short),
        container_env=compose(*args, "container_env", location_short),
        container_app=compose(*args, "container_app", location_short),
        key_vault=compose(*args, "key_vault", location_short, suffix),
        identity=compose(*args, "identity", location_short),
    )
