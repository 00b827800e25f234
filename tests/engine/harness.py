"""A local cloud with the real SDKs, the Azure OpenAI emulator and (optionally) the real
LiteLLM running the container app, plus helpers to deploy through aigw's own workflow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aigw.azure.session import Target
from aigw.config.load import load_env
from aigw.config.model import EnvConfig
from aigw.engine import workflow
from aigw.engine.apply import ApplyResult
from aigw.engine.plan import Plan
from aigw.secrets import Secret, Secrets
from aigw_localcloud.arm.openai_account import link
from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.journal import JournalEntry
from aigw_localcloud.core.tls import ensure_certificates
from aigw_localcloud.openai.aoai import AzureOpenAIEmulator, Deployment
from helpers import AOAI_KEY_CANARY, ENV_DIR, GATEWAY_KEY_CANARY, REPO, WORLD_FILE, as_world_account


@dataclass
class Stack:
    root: Path
    cloud: LocalCloud
    aoai: AzureOpenAIEmulator
    runner: Any = None
    gateway_key: str = GATEWAY_KEY_CANARY
    aoai_key: str = AOAI_KEY_CANARY
    env_dir: Path = field(default_factory=lambda: ENV_DIR)

    def target(self, principal: str | None = None) -> Target:
        return Target(
            subscription_id=self.cloud.subscription_id,
            credential=self.cloud.credential(principal),
            tenant_id=self.cloud.tenant_id,
            base_url=self.cloud.arm_url,
            ca_file=self.cloud.ca_file,
            local=True,
            local_state_dir=self.cloud.state_dir,
            polling_interval=0.05,
        )

    def config(self, env: str = "dev", *, auth: str = "key") -> EnvConfig:
        """The environment's config served by this stack's emulator; `auth` key by default
        (these tests were written for the scaffold's key mode; identity: test_keyless_*)."""
        cfg = load_env(env, self.env_dir).config
        if auth == "key" and cfg.azure_openai.auth != "key":
            aoai = cfg.azure_openai.model_copy(
                update={"auth": "key", "api_key_env": "AIGW_AZURE_OPENAI_API_KEY"}
            )
            cfg = cfg.model_copy(update={"azure_openai": aoai})
        return cfg.with_endpoint(self.aoai.url)

    def add_deployment(self, name: str, model: str | None = None) -> None:
        """A deployment made on the account, as a user makes it in Azure before naming it in
        the YAML (the stack's world is the test's own, never derived from the YAML)."""
        from aigw_localcloud.openai.world import kind_of

        kind, dims = kind_of(model or name)
        made = Deployment(name, kind, dims, model=model or name)
        self.aoai.set_deployments([*self.aoai.deployments.values(), made])

    def secrets(self) -> Secrets:
        return Secrets(
            gateway_key=Secret("AIGW_GATEWAY_KEY", self.gateway_key),
            azure_openai_key=Secret("AIGW_AZURE_OPENAI_API_KEY", self.aoai_key),
        )

    def session(
        self, env: str = "dev", *, config: EnvConfig | None = None, principal: str | None = None
    ) -> workflow.Session:
        return workflow.open_session(
            config or self.config(env),
            self.target(principal),
            secrets=self.secrets(),
            role_wait_timeout=20,
        )

    def deploy(
        self, env: str = "dev", *, config: EnvConfig | None = None
    ) -> tuple[Plan, ApplyResult]:
        """What `aigw deploy --no-smoke` does: plan, apply, and a new revision promoted (the
        tests check the gateway themselves; tests/engine/test_rollout_e2e.py the smoke-gated
        rollout)."""
        from aigw.engine import rollout

        session = self.session(env, config=config)
        plan = workflow.make_plan(session)
        result = workflow.apply(session, plan)
        if result.ok:
            rollout.finish(session, test=False)
        session.close()
        return plan, result

    def mark(self) -> int:
        return len(self.cloud.journal.entries())

    def since(self, mark: int) -> list[JournalEntry]:
        return self.cloud.journal.entries()[mark:]

    def writes_since(self, mark: int) -> list[JournalEntry]:
        return [e for e in self.since(mark) if e.is_write]


def make_stack(root: Path, *, with_gateway: bool, **cloud_kwargs: Any) -> Stack:
    runner = None
    tls = ensure_certificates(root / "cloud")
    if with_gateway:
        from aigw.gateway.local_runner import LiteLLMAppRunner

        runner = LiteLLMAppRunner(root / "apps", tls=(tls.cert_file, tls.key_file))
    cloud = LocalCloud(root / "cloud", app_runner=runner, **cloud_kwargs)
    cloud.start()
    # the world file's first account (localcloud/world.yaml), as the daemon's first emulator
    # is once seeded; a test wanting other deployments sets them on `stack.aoai` itself
    aoai = as_world_account(AzureOpenAIEmulator(api_key=AOAI_KEY_CANARY)).start()
    link(cloud.engine, aoai)
    return Stack(root=root, cloud=cloud, aoai=aoai, runner=runner)


def close_stack(stack: Stack) -> None:
    stack.cloud.stop()
    if stack.runner is not None:
        stack.runner.stop_all()
    stack.aoai.stop()


def copy_envs(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for p in ENV_DIR.glob("*.yaml"):
        shutil.copy(p, dest / p.name)
    return dest


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m aigw ARGS` with `env` (cli_environ), from the checkout; neither canary key
    may appear in what it printed."""
    r = subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
    )
    for text in (r.stdout, r.stderr):
        assert GATEWAY_KEY_CANARY not in text and AOAI_KEY_CANARY not in text, (args, text)
    return r


def cli_environ(root: Path) -> dict[str, str]:
    """The environment of an `aigw` subprocess: this checkout's src, a private local cloud under
    `root`, a copy of the environments, canary keys, no colour, no CI variables."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "AIGW_LOCALCLOUD_DIR": str(root / "localcloud"),
        "AIGW_ENV_DIR": str(copy_envs(root / "environments")),
        "AIGW_GATEWAY_KEY": GATEWAY_KEY_CANARY,
        "AIGW_AZURE_OPENAI_API_KEY": AOAI_KEY_CANARY,
        "AIGW_LOCALCLOUD_WORLD": str(WORLD_FILE),  # seeded when the cloud starts
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    for k in ("AIGW_CLOUD", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        env.pop(k, None)
    return env
