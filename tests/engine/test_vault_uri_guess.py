"""Secrets are read in the first round at the vault URI the name predicts; a wrong guess
(the vault listens elsewhere) falls back to reading after the vault's GET, with the same plan."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from aigw.engine import workflow
from aigw.resources import names_of
from aigw_localcloud.core.endpoint import predicted_vault_port

from .harness import close_stack, make_stack


def _secret_reads(stack, mark: int) -> list[str]:  # type: ignore[no-untyped-def]
    arm = urlsplit(stack.cloud.arm_url).netloc
    return [f"{e.host} {e.path}" for e in stack.since(mark) if e.host != arm and e.method == "GET"]


def test_guessed_uri_is_used_when_right(tmp_path: Path) -> None:
    stack = make_stack(tmp_path, with_gateway=False)
    try:
        _, result = stack.deploy()
        assert result.ok
        vault = names_of(stack.config()).key_vault
        assert (
            stack.cloud.vault_url(vault)
            == f"https://127.0.0.1:{predicted_vault_port(vault, stack.cloud.subscription_id)}/"
        )
        mark = stack.mark()
        plan = workflow.make_plan(stack.session())
        assert not plan.has_changes
        reads = _secret_reads(stack, mark)
        assert len([r for r in reads if "/secrets/" in r]) == 3, reads  # one per secret (keys, too)
    finally:
        close_stack(stack)


def test_wrong_guess_falls_back_to_the_reported_uri(tmp_path: Path) -> None:
    stack = make_stack(tmp_path, with_gateway=False)
    squatter = socket.socket()
    try:
        vault = names_of(stack.config()).key_vault
        squatter.bind(("127.0.0.1", predicted_vault_port(vault, stack.cloud.subscription_id)))
        squatter.listen(1)  # the predicted port answers, but it is not the vault
        _, result = stack.deploy()
        assert result.ok
        assert (
            stack.cloud.vault_url(vault)
            != f"https://127.0.0.1:{predicted_vault_port(vault, stack.cloud.subscription_id)}/"
        )
        assert not workflow.make_plan(stack.session()).has_changes
        stack.gateway_key = "sk-another-gateway-key-0123456789"
        plan = workflow.make_plan(stack.session())
        assert [c.key for c in plan.writes] == ["secret:gateway-key", "container_app"]
    finally:
        squatter.close()
        close_stack(stack)
