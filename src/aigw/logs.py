"""--debug logging: azure-core's HTTP logs on stderr, with every known secret masked.

azure-core already hides the Authorization header; the filter here masks secret values that
could appear anywhere else (a Key Vault secret body, an error message)."""

from __future__ import annotations

import logging
import sys

from aigw.redact import redact


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        return True


def enable_debug_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    for name in ("azure", "aigw"):
        log = logging.getLogger(name)
        log.setLevel(logging.DEBUG)
        log.addHandler(handler)
