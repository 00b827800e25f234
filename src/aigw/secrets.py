"""The secrets aigw handles (the gateway key, the Azure OpenAI keys of the upstreams that use
one), typed.

A base module: it imports only `aigw.errors` and `aigw.redact`. A `Secret` never shows its
value in repr, str or logs; every value read is registered with `aigw.redact` at once.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from aigw import redact
from aigw.errors import MissingSecretError

GATEWAY_KEY_ENV: Final = "AIGW_GATEWAY_KEY"
AZURE_OPENAI_KEY_ENV: Final = "AIGW_AZURE_OPENAI_API_KEY"
# The scaffold's CI secrets, accepted as fallbacks so existing pipelines keep working.
SCAFFOLD_FALLBACK_ENV: Final[Mapping[str, str]] = {
    GATEWAY_KEY_ENV: "TF_VAR_gateway_key",
    AZURE_OPENAI_KEY_ENV: "TF_VAR_azure_openai_api_key",
}
#: Environment variables that carry secret values (aigw's names, the names the scaffold's
#: workflows used, the scaffold's fallbacks): their values are always redacted from a summary.
SECRET_ENV_VARS: Final[tuple[str, ...]] = (
    GATEWAY_KEY_ENV,
    AZURE_OPENAI_KEY_ENV,
    "AIGATEWAY_KEY",
    "AZURE_OPENAI_API_KEY",
    "AIGW_ALERT_WEBHOOK_URL",  # alerts.webhook_url_env's suggested name: a URL with a token
    *SCAFFOLD_FALLBACK_ENV.values(),
)

#: The names of the secrets: the fields of `Secrets`, and the `source` a Key Vault secret
#: resource names (engine/desired.py); a named upstream's key is UPSTREAM_KEY_PREFIX + name.
SecretName = Literal["gateway_key", "azure_openai_key"]
GATEWAY_KEY: Final = "gateway_key"
AZURE_OPENAI_KEY: Final = "azure_openai_key"
#: A named upstream's key (auth: key): `azure_openai_key:<upstream name>`.
UPSTREAM_KEY_PREFIX: Final = "azure_openai_key:"
#: The alerts' webhook URL (`alerts.webhook_url_env`): it may carry a token, so a secret.
ALERT_WEBHOOK: Final = "alert_webhook"


@dataclass(frozen=True)
class Secret:
    """A secret value that never shows itself in repr, str or logs."""

    source: str
    _value: str

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from ${self.source})"

    __str__ = __repr__


@dataclass(frozen=True)
class Secrets:
    """The secrets of one run; None: not given (a plan in a pull request has none)."""

    gateway_key: Secret | None = None
    azure_openai_key: Secret | None = None
    # the other upstreams' keys (auth: key), by upstream name
    upstream_keys: tuple[tuple[str, Secret], ...] = ()
    alert_webhook: Secret | None = None  # alerts.webhook_url_env's URL

    def named(self, name: str) -> Secret | None:
        """The secret a resource's `source` names ("gateway_key", "azure_openai_key" or
        "azure_openai_key:<upstream>")."""
        if name.startswith(UPSTREAM_KEY_PREFIX):
            return dict(self.upstream_keys).get(name[len(UPSTREAM_KEY_PREFIX) :])
        if name == ALERT_WEBHOOK:
            return self.alert_webhook
        if name not in (GATEWAY_KEY, AZURE_OPENAI_KEY):
            raise KeyError(f"no secret named {name!r}")
        value: Secret | None = getattr(self, name)
        return value

    def with_gateway_key(self, key: Secret) -> Secrets:
        return dataclasses.replace(self, gateway_key=key)

    def __repr__(self) -> str:
        given = f"gateway_key={self.gateway_key!r}, azure_openai_key={self.azure_openai_key!r}"
        return f"Secrets({given})"

    __str__ = __repr__


def read_secret(var: str, environ: Mapping[str, str] | None = None, *, what: str) -> Secret:
    """The secret from `var` (or the scaffold's fallback variable). Raises MissingSecretError."""
    env = os.environ if environ is None else environ
    names = [var]
    if var in SCAFFOLD_FALLBACK_ENV:
        names.append(SCAFFOLD_FALLBACK_ENV[var])
    for name in names:
        value = env.get(name, "")
        if value.strip():
            redact.register(value.strip())
            return Secret(name, value.strip())
    raise MissingSecretError(
        f"{what} is not set: environment variable {' or '.join('$' + n for n in names)} is empty",
        hint=f"export {var}=... (the YAML names the variable, never the value)",
    )


def read_secrets(
    gateway_key_env: str,
    azure_openai_key_env: str | None,
    *,
    required: bool,
    environ: Mapping[str, str] | None = None,
    upstream_key_envs: Mapping[str, str] | None = None,
    alert_webhook_env: str | None = None,
) -> Secrets:
    """Both keys from the environment variables the YAML names (no Azure OpenAI key variable:
    `azure_openai.auth: identity`, none is read); when not required, a missing one is None.
    Raises MissingSecretError (required and not set)."""

    def one(var: str, what: str) -> Secret | None:
        try:
            return read_secret(var, environ, what=what)
        except MissingSecretError:
            if required:
                raise
            return None

    return Secrets(
        gateway_key=one(gateway_key_env, "the gateway key"),
        azure_openai_key=(
            one(azure_openai_key_env, "the Azure OpenAI key") if azure_openai_key_env else None
        ),
        upstream_keys=tuple(
            (name, key)
            for name, var in (upstream_key_envs or {}).items()
            if (key := one(var, f"the Azure OpenAI key of upstream {name}")) is not None
        ),
        alert_webhook=(
            one(alert_webhook_env, "the alerts' webhook URL") if alert_webhook_env else None
        ),
    )
