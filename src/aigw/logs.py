"""--debug logging: azure-core's HTTP trace and aigw's own logs on stderr, every line redacted.

azure-core already hides the Authorization header in most places; on top of that every line
goes through `aigw.redact.redact(..., http=True)`: the secret values aigw knows, bearer tokens,
Authorization headers and the JSON fields that carry keys or secret values.
"""

from __future__ import annotations

import logging
import sys

from aigw.redact import redact


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), http=True)
        record.args = None
        return True


_handler: logging.Handler | None = None


def enable_debug_logging() -> None:
    """Send the azure and aigw loggers to stderr through the redacting filter (idempotent)."""
    global _handler
    if _handler is not None:
        return
    _handler = logging.StreamHandler(sys.stderr)
    _handler.addFilter(RedactingFilter())
    _handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    for name in ("azure", "aigw"):
        log = logging.getLogger(name)
        log.setLevel(logging.DEBUG)
        log.addHandler(_handler)


def quiet_sdk_logging() -> None:
    """Without --debug, the Azure SDKs' own warnings (azure-identity prints every credential it
    tried, ~15 lines) stay silent: aigw's one line says what failed and what to do."""
    log = logging.getLogger("azure")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    log.propagate = False
