"""aigw.secrets (typed, never shown) and aigw.redact (the one redaction, also behind --debug)."""

from __future__ import annotations

import logging

import pytest

from aigw import redact
from aigw.errors import MissingSecretError
from aigw.logs import RedactingFilter
from aigw.secrets import GATEWAY_KEY, Secret, Secrets, read_secrets

CANARY = "canary-secrets-6d1f"


def test_secrets_never_show_their_values() -> None:
    secrets = Secrets(gateway_key=Secret("AIGW_GATEWAY_KEY", CANARY))
    for text in (repr(secrets), str(secrets), f"{secrets}", repr([secrets])):
        assert CANARY not in text
    assert secrets.named(GATEWAY_KEY) is secrets.gateway_key
    assert secrets.azure_openai_key is None
    with pytest.raises(KeyError):
        secrets.named("gateway-key")
    with pytest.raises(AttributeError):
        secrets.gateway_key = None  # type: ignore[misc]  # frozen


def test_read_secrets_registers_values_and_says_what_is_missing() -> None:
    env = {"GW": f"  {CANARY}-gw ", "AOAI": ""}
    got = read_secrets("GW", "AOAI", required=False, environ=env)
    assert got.gateway_key is not None and got.gateway_key.reveal() == f"{CANARY}-gw"
    assert got.azure_openai_key is None
    assert f"{CANARY}-gw" not in redact.redact(f"x {CANARY}-gw y")
    with pytest.raises(MissingSecretError, match=r"\$AOAI"):
        read_secrets("GW", "AOAI", required=True, environ=env)


def test_one_redact_http_patterns_only_for_the_trace() -> None:
    body = '{"key": "container_app", "value": "v-9", "h": {\'authorization\': \'Bearer t.k\'}}'
    assert redact.redact(body) == body  # aigw's own output: "key" names a resource
    traced = redact.redact(body + " Bearer abc.def", http=True)
    for leaked in ("container_app", "v-9", "t.k", "abc.def"):
        assert leaked not in traced


def test_multiline_value_is_masked_line_by_line() -> None:
    assert redact.redact("a: one-1\nb: two-2", ["one-1\ntwo-2"]) == "a: ***\nb: ***"


def test_debug_log_lines_go_through_the_same_redact() -> None:
    redact.register(CANARY)
    record = logging.LogRecord("aigw", logging.DEBUG, "f", 1, "got %s and %s", (CANARY, "x"), None)
    RedactingFilter().filter(record)
    assert CANARY not in record.getMessage() and "***" in record.getMessage()
