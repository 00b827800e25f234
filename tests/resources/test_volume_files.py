"""Every file the gateway's config volume holds (gateway/render.py render_gateway) reaches the
container: the container app mounts each as a secret (resources/container_app.py
VOLUME_FILES). A rendered file without its secret is a file the deployed gateway never sees
(found: the limits file, which `aigw serve` had and a deployed gateway would not)."""

from __future__ import annotations

import pytest

from aigw.config.load import load_env
from aigw.gateway.render import render_gateway
from aigw.resources.container_app import VOLUME_FILES
from helpers import ENV_DIR


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_rendered_file_is_mounted(env: str) -> None:
    rendered = render_gateway(load_env(env, ENV_DIR).config)
    assert set(rendered.files) == set(VOLUME_FILES.values())


def test_only_the_developer_keys_move_restarts_nothing() -> None:
    """resources/container_app.py only_moved: the references of the upgrade that renamed the
    developer keys' secret (issue 25), and nothing else, spare the running revisions."""
    from aigw.resources.container_app import only_moved

    kv = "https://kv.vault.azure.net/secrets"
    before = [f"{kv}/aigw-dev-keys/1", f"{kv}/gateway-key/7"]
    moved = [f"{kv}/aigw-developer-keys/2", f"{kv}/aigw-developer-keys/2", f"{kv}/gateway-key/7"]
    assert only_moved(before, moved)
    rotated = [*moved[:2], f"{kv}/gateway-key/8"]  # and a rotated gateway key: restart
    assert not only_moved(before, rotated)
    assert not only_moved([*moved], [f"{kv}/aigw-developer-keys/3", f"{kv}/gateway-key/7"])
    assert not only_moved(before, [*before, f"{kv}/aigw-developer-keys/2"])  # former kept
