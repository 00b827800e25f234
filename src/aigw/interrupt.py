"""Ctrl-C: stop within seconds, even while steps sleep between retries in worker threads.

The CLI installs a SIGINT handler that sets CANCELLED (then raises KeyboardInterrupt in the
main thread as usual). Every wait between retries or polls goes through `sleep`, which wakes up
at once when CANCELLED is set and raises Interrupted, so worker threads end instead of retrying
for minutes. apply turns the KeyboardInterrupt into one Interrupted naming what was in flight.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from aigw.errors import AigwError

CANCELLED = threading.Event()
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention


class Interrupted(AigwError):
    """Ctrl-C (SIGINT): the run stopped; a rerun resumes (every step is a reconcile)."""

    exit_code = EXIT_INTERRUPTED


def sleep(seconds: float) -> None:
    """time.sleep that ends early, raising Interrupted, when Ctrl-C was pressed."""
    if CANCELLED.wait(max(0.0, seconds)):
        raise Interrupted("interrupted")


def _on_sigint(signum: int, frame: Any) -> None:
    CANCELLED.set()
    raise KeyboardInterrupt


def install() -> None:
    """Route SIGINT through CANCELLED (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)
