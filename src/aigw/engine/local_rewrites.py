"""--cloud local's rewrites of a config: the YAML's Azure OpenAI endpoints pointed at the local
cloud's emulators, and the local account's key for a gateway run outside Azure."""

from __future__ import annotations

import dataclasses
import os

from aigw.config.model import EnvConfig
from aigw.engine.targets import localcloud_dir
from aigw.errors import AigwError, UserError
from aigw.secrets import Secrets


def with_local_key(config: EnvConfig, secrets: Secrets) -> tuple[EnvConfig, Secrets]:
    """`config` calling Azure OpenAI with the local account's key, for a gateway run outside
    Azure against the local cloud, where no managed identity exists: the key the world was
    seeded with (`key_env` in the world file, AIGW_AZURE_OPENAI_API_KEY in the example)."""
    from aigw import redact
    from aigw.secrets import AZURE_OPENAI_KEY_ENV, Secret

    value = os.environ.get(AZURE_OPENAI_KEY_ENV, "")
    if not value:
        raise UserError(
            f"aigw serve --cloud local with auth: identity calls the local Azure OpenAI account "
            f"with its key, and {AZURE_OPENAI_KEY_ENV} is not set",
            hint=f"export {AZURE_OPENAI_KEY_ENV} with the key the local cloud's world was "
            "seeded with (its key_env)",
        )
    redact.register(value)
    upstream = config.azure_openai.model_copy(
        update={"auth": "key", "api_key_env": AZURE_OPENAI_KEY_ENV}
    )
    keyed = config.model_copy(update={"azure_openai": upstream})
    return keyed, dataclasses.replace(secrets, azure_openai_key=Secret(AZURE_OPENAI_KEY_ENV, value))


def use_local_openai(config: EnvConfig) -> EnvConfig:
    """Under --cloud local, point each Azure OpenAI endpoint the YAML's models use (the primary
    and every named upstream) at the local emulator serving that account of the local cloud's
    world, found by the endpoint's first label (as DNS finds it on Azure). Nothing of the YAML
    is given to the cloud: an account or deployment its world lacks fails as on Azure."""
    from aigw.config.upstreams import PRIMARY
    from aigw.engine.localcloud import openai_account_url

    state_dir = localcloud_dir()
    urls = {}
    for name, upstream in config.used_upstreams().items():
        account = upstream.host.split(".", 1)[0].lower()
        url = openai_account_url(state_dir, account)
        if url is None:
            field = "azure_openai.endpoint" if name == PRIMARY else f"upstreams.{name}.endpoint"
            raise LocalWorldError(
                f"{config.env}.yaml: {field}: the local cloud has no Azure "
                f"OpenAI account {account!r} (on Azure {upstream.host} would not resolve)",
                hint="seed the local cloud's world with the accounts your Azure has: aigw "
                "localcloud seed localcloud/world.yaml (see README, 'The local cloud's world')",
            )
        urls[name] = url
    return config.with_endpoints(urls)


class LocalWorldError(AigwError):
    """The local cloud's world lacks what the YAML expects to find in Azure."""

    exit_code = 1
