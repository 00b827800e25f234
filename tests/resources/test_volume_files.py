"""Every file the gateway's config volume holds (gateway/config.py render_gateway) reaches the
container: the container app mounts each as a secret (resources/container_app.py
VOLUME_FILES). A rendered file without its secret is a file the deployed gateway never sees
(found: the limits file, which `aigw serve` had and a deployed gateway would not)."""

from __future__ import annotations

import pytest

from aigw.config.load import load_env
from aigw.gateway.config import render_gateway
from aigw.resources.container_app import VOLUME_FILES
from helpers import ENV_DIR


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_rendered_file_is_mounted(env: str) -> None:
    rendered = render_gateway(load_env(env, ENV_DIR).config)
    assert set(rendered.files) == set(VOLUME_FILES.values())
