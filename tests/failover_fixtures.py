"""The real LiteLLM serving aigw's rendered config for a model with several upstreams, one Azure
OpenAI emulator per upstream (each its own port and key). Used by tests/gateway/test_failover.py
and bench/failover.py (import it; not a conftest)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.gateway.process import GatewayProcess, start_gateway
from aigw.gateway.render import render_gateway, write_files
from aigw.gateway.routes import key_var
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment
from gateway_fixtures import litellm_env_for_tests
from helpers import ENV_DIR

GATEWAY_KEY = "sk-aigw-failover-test-key-0123456789"
CODEX = "gpt-5.3-codex"

ORDERED = """extends: base.yaml
upstreams:
  - name: payg
    endpoint: https://payg-swc.openai.azure.com
    auth: key
failover:
  num_retries: 2
  allowed_fails: 1
  cooldown_seconds: {cooldown}
models:
  - alias: gpt-5.3-codex
    kind: responses
    api_version: "2025-04-01-preview"
    upstreams:
      - {{upstream: primary, order: 1}}
      - {{upstream: payg, deployment: codex-payg, order: 2}}
  - alias: gpt-4.1-mini
    kind: chat
    api_version: "2024-10-21"
    upstreams:
      - {{upstream: primary}}
      - {{upstream: payg}}
  - alias: text-embedding-3-large
    kind: embeddings
    api_version: "2023-05-15"
    dimensions: 3072
    upstreams:
      - {{upstream: primary, weight: 3}}
      - {{upstream: payg, weight: 1}}
"""


def without_responses_keeper(config_yaml: str) -> str:
    """A `mutate` for multi_gateway: the rendered config without aigw's Responses state keeper
    (gateway/files/aigw_responses.py), the control of the tests that show what it fixes."""
    from aigw.gateway.render import RESPONSES_CALLBACK

    assert RESPONSES_CALLBACK in config_yaml
    kept = config_yaml.replace(f"- {RESPONSES_CALLBACK}\n", "")
    assert RESPONSES_CALLBACK not in kept, "the callbacks list is no longer a YAML block list"
    return kept


def failover_config(tmp: Path, cooldown: int = 3) -> EnvConfig:
    d = tmp / "environments"
    d.mkdir(parents=True, exist_ok=True)
    (d / "base.yaml").write_bytes((ENV_DIR / "base.yaml").read_bytes())
    (d / "fo.yaml").write_text(ORDERED.format(cooldown=cooldown))
    return load_env("fo", d).config


@dataclass
class Gateway:
    config: EnvConfig
    process: GatewayProcess
    emulators: Mapping[str, AzureOpenAIEmulator]  # by upstream name
    config_dir: Path  # the config volume as the process sees it

    def client(self, key: str = GATEWAY_KEY) -> httpx.Client:
        return httpx.Client(
            base_url=self.process.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
            trust_env=False,
        )

    def admin(self, upstream: str) -> httpx.Client:
        return httpx.Client(base_url=self.emulators[upstream].url, timeout=10, trust_env=False)

    def calls(self, upstream: str, ok_only: bool = True) -> int:
        """Data-plane calls the upstream answered (200 only, unless ok_only is False)."""
        return sum(
            1
            for e in self.emulators[upstream].journal
            if e.operation and (e.status == 200 or not ok_only)
        )

    def clear(self) -> None:
        for em in self.emulators.values():
            em.clear_journal()


@contextlib.contextmanager
def multi_gateway(
    cfg: EnvConfig, workdir: Path, mutate: Callable[[str], str] | None = None
) -> Iterator[Gateway]:
    """Every used upstream served by its own emulator with its own key (auth: key for all:
    these tests run no identity endpoint; test_keyless covers identity)."""
    emulators: dict[str, AzureOpenAIEmulator] = {}
    try:
        for name in cfg.used_upstreams():
            em = AzureOpenAIEmulator(api_key=f"azure-key-{name}-0123456789abcdef").start()
            deployments = {
                m.route_deployment(r): Deployment(m.route_deployment(r), m.kind.value, m.dimensions)
                for m in cfg.models
                for r in m.routes
                if r.upstream == name
            }
            em.set_deployments(deployments)
            emulators[name] = em
        primary = cfg.azure_openai.model_copy(
            update={"auth": "key", "api_key_env": "AIGW_AZURE_OPENAI_API_KEY"}
        )
        others = [u.model_copy(update={"auth": "key"}) for u in cfg.upstreams]
        cfg = cfg.model_copy(update={"azure_openai": primary, "upstreams": others})
        cfg = cfg.with_endpoints({n: em.url for n, em in emulators.items()})
        rendered = render_gateway(cfg)
        args = write_files(rendered, workdir / "files", gateway_key=GATEWAY_KEY)
        if mutate is not None:
            config_file = Path(args[args.index("--config") + 1])
            config_file.write_text(mutate(rendered.config_yaml))
        env = {
            **rendered.env,
            **({"LITELLM_LOG": "DEBUG"} if os.environ.get("FO_DEBUG") else {}),
            **{key_var(n): f"azure-key-{n}-0123456789abcdef" for n in emulators},
        }
        process = start_gateway(
            litellm_env_for_tests(), args, env, port=None, workdir=workdir, secrets=[GATEWAY_KEY]
        )
        try:
            config_dir = Path(args[args.index("--config") + 1]).parent
            yield Gateway(cfg, process, emulators, config_dir)
        finally:
            process.stop()
    finally:
        for em in emulators.values():
            em.stop()
