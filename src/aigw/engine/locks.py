"""One deploy (or destroy, or key rotation) of an environment at a time on this machine.

Azure offers no conditional write for Key Vault secrets, so two deploys that both find a secret
out of date would both write it (one extra version). Deploys from one machine therefore take a
lock per subscription and resource group; the second waits, then plans again and finds nothing
left to do. In CI, the workflows' concurrency groups do the same across machines.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aigw.errors import AigwError


def _lock_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aigw" / "locks"
    return Path(os.environ.get("AIGW_LOCK_DIR", base)).expanduser()


@contextmanager
def environment_lock(
    scope: str,
    *,
    what: str,
    on_wait: Callable[[str], None] | None = None,
    timeout: float = 1800.0,
) -> Iterator[None]:
    """Hold the lock for `scope` (e.g. "<subscription>/<resource group>") while the body runs."""
    directory = _lock_dir()
    # Subscription ids and resource group names are case-insensitive in Azure: one lock for both.
    path = directory / (hashlib.sha256(scope.lower().encode()).hexdigest()[:24] + ".lock")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - closed below, after the OSError check
    except OSError as e:
        raise _lock_dir_error(directory, e) from None
    with handle:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AigwError(
                        f"another aigw run still holds {what} after {timeout:.0f}s",
                        hint=f"wait for it, or remove {path} if no aigw is running",
                    ) from None
                if on_wait and not told:
                    handle.seek(0)
                    holder = handle.read().strip() or "another aigw process"
                    on_wait(f"waiting for {holder} to finish with {what}")
                    told = True
                time.sleep(0.5)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"aigw pid {os.getpid()}")
            handle.flush()
        except OSError as e:  # a full disk
            fcntl.flock(handle, fcntl.LOCK_UN)
            raise _lock_dir_error(directory, e) from None
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_dir_error(directory: Path, e: OSError) -> AigwError:
    return AigwError(
        f"cannot use the lock folder {directory}: {e.strerror or e}",
        hint="set AIGW_LOCK_DIR to a writable folder with free space",
    )
