"""Links an Azure OpenAI emulator into the cloud as a Microsoft.CognitiveServices account: listed
by ARM (arm/cognitive.py) and checking Entra ID tokens against the cloud's role assignments
(the account's shapes and key-auth rules: openai/account.py)."""

from __future__ import annotations

import time
from typing import Any

from ..core.msi_endpoint import claims_of
from ..core.rbac import has_data_action
from ..openai.account import _ACTIONS, AUDIENCE, AccountSettings, _denied, _unauthorized


def token_checker(engine: Any, account: AccountSettings) -> Any:
    """What an emulator's `token_check` is in a cloud: the token's audience and expiry, then
    the role on the account (after the same propagation delay as Key Vault's RBAC)."""

    def check(token: str, path: str) -> None:
        claims = claims_of(token) or {}
        aud = str(claims.get("aud", "")).rstrip("/")
        if aud != AUDIENCE or int(claims.get("exp", 0)) < time.time():
            raise _unauthorized()
        action = next((a for suffix, a in _ACTIONS if path.endswith(suffix)), _ACTIONS[-1][1])
        principal = str(claims.get("oid", ""))
        with engine.store.read() as st:
            if claims.get("tid") != st["tenant_id"]:
                raise _unauthorized()
            scope = account.arm_id(st["subscription_id"])
            if not has_data_action(st, principal, scope, action, engine.propagation_delay):
                raise _denied(principal, action, path)

    return check


def link(engine: Any, emulator: Any) -> None:
    """Make `emulator` an account of the cloud whose engine this is: listed by ARM, and checking
    Entra ID tokens against the cloud's role assignments."""
    engine.openai_accounts.append(emulator)
    emulator.token_check = token_checker(engine, emulator.account)


def unlink(engine: Any, emulator: Any) -> None:
    """No longer an account of that cloud (its emulator stopping)."""
    if emulator in engine.openai_accounts:
        engine.openai_accounts.remove(emulator)
