"""The run's secrets from the environment (the gateway key checked for strength before any
Azure call)."""

from __future__ import annotations

from aigw.config.model import EnvConfig
from aigw.secrets import Secrets


def read_secrets(config: EnvConfig, *, required: bool) -> Secrets:
    """Both keys from the environment variables the YAML names; when not required, missing
    ones are None (plan in a pull request has no secrets: values are then not compared)."""
    from aigw.secrets import read_secrets as read

    others = {  # the other upstreams' keys (several upstreams per model, auth: key)
        name: var
        for name, u in config.used_upstreams().items()
        if u is not config.azure_openai and (var := u.key_env) is not None
    }
    out = read(
        config.gateway.key_env,
        config.azure_openai.key_env,
        required=required,
        upstream_key_envs=others,
        # the alerts' webhook URL (alerts.webhook_url_env): it may carry a token
        alert_webhook_env=config.alerts.webhook_url_env if config.alerts else None,
    )
    gateway_key = out.gateway_key
    if gateway_key is not None:  # refused before any Azure call (issue 17 S3)
        from aigw.gateway.key_strength import check_gateway_key

        check_gateway_key(gateway_key.reveal(), gateway_key.source)
    return out
