"""The workflows behind plan, deploy, destroy and status, as the CLI and the tests call them:
a façade over the engine modules that do each job (no SDK import at module level):

- `targets`: where aigw deploys (Azure, the local cloud);
- `secrets_read`: the run's secrets from the environment;
- `session`: the session, observe, plan, apply, outputs;
- `status`: `aigw status`'s rows;
- `local_rewrites`: --cloud local's rewrites of the config;
- `vault_secrets`: reading Key Vault secrets (the gateway key among them).
"""

from __future__ import annotations

from aigw.engine.local_rewrites import LocalWorldError, use_local_openai, with_local_key
from aigw.engine.secrets_read import read_secrets
from aigw.engine.session import Session, apply, make_plan, observe, open_session, outputs
from aigw.engine.status import health, is_deployed, not_running_unless_answering
from aigw.engine.targets import local_target, localcloud_dir, make_target
from aigw.engine.vault_secrets import gateway_key_from_vault

__all__ = [
    "LocalWorldError",
    "Session",
    "apply",
    "gateway_key_from_vault",
    "health",
    "is_deployed",
    "local_target",
    "localcloud_dir",
    "make_plan",
    "make_target",
    "not_running_unless_answering",
    "observe",
    "open_session",
    "outputs",
    "read_secrets",
    "use_local_openai",
    "with_local_key",
]
