"""The LiteLLM proxy's own virtual environment, created once per version and cached.

LiteLLM is not a dependency of aigw (its pins clash with ours); aigw runs the `litellm` command
of a separate virtual environment at `$AIGW_CACHE_DIR/litellm-<version>` (default cache dir
`$XDG_CACHE_HOME/aigw`, else `~/.cache/aigw`). `AIGW_LITELLM_VENV` names an existing
environment to use as-is instead.

An environment counts only once its marker file exists: it is built in a temporary directory,
renamed into place, verified, and only then marked, under a lock file so that two processes
never build the same version at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from aigw.errors import LiteLLMEnvError

Reporter = Callable[[str], None]

MARKER_NAME = "aigw-litellm.json"
ENV_OVERRIDE = "AIGW_LITELLM_VENV"
CACHE_OVERRIDE = "AIGW_CACHE_DIR"
INSTALL_TIMEOUT_S = 900.0
LOCK_TIMEOUT_S = 1200.0

# PyPI releases that were published by an attacker (supply-chain compromise): never install.
REFUSED_VERSIONS: dict[str, str] = {
    "1.82.7": "the litellm 1.82.7 release on PyPI was compromised (malicious code)",
    "1.82.8": "the litellm 1.82.8 release on PyPI was compromised (malicious code)",
}

_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_TAG_VERSION = re.compile(r"(?:^|[-_])v?(\d+\.\d+\.\d+)(?=$|[-_.+])")


@dataclass(frozen=True)
class LiteLLMEnv:
    """A ready LiteLLM virtual environment."""

    root: Path
    version: str

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def litellm_bin(self) -> Path:
        return self.root / "bin" / "litellm"


# ---------------------------------------------------------------------------------------------
# Versions


def check_version(version: str) -> str:
    """Return `version` if it is a plain X.Y.Z LiteLLM version aigw may install; else raise."""
    version = version.strip().removeprefix("v")
    if not _VERSION.match(version):
        raise LiteLLMEnvError(
            f"'{version}' is not a LiteLLM version",
            hint="give a release version such as 1.81.15",
        )
    if version in REFUSED_VERSIONS:
        raise LiteLLMEnvError(
            f"refusing LiteLLM {version}: {REFUSED_VERSIONS[version]}",
            hint="pin another release, for example litellm/litellm:v1.81.15",
        )
    return version


def image_repository_and_tag(image: str) -> tuple[str, str | None]:
    """Split `registry/repo:tag@digest` into (registry/repo, tag or None)."""
    name = image.strip().split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repo_last, tag = last.split(":", 1)
        return name[: len(name) - len(last)] + repo_last, tag
    return name, None


def is_litellm_image(image: str) -> bool:
    """True for LiteLLM's images (litellm/litellm, ghcr.io/berriai/litellm, -database, ...)."""
    repo, _ = image_repository_and_tag(image)
    last = repo.rsplit("/", 1)[-1].lower()
    return last == "litellm" or last.startswith("litellm-") or last.startswith("litellm_")


def litellm_version_from_image(image: str) -> str:
    """The LiteLLM version an image tag pins: `litellm/litellm:v1.81.15@sha256:...` → 1.81.15.

    Accepts `v1.81.15`, `main-v1.81.15`, `main-v1.81.15-stable`, `1.81.15` tags. Raises
    LiteLLMEnvError when the tag names no version (`latest`, `main-stable`, a digest only) or
    names a refused (compromised) release.
    """
    _, tag = image_repository_and_tag(image)
    match = _TAG_VERSION.search(tag or "")
    if tag is None or match is None:
        raise LiteLLMEnvError(
            f"cannot tell the LiteLLM version of image '{image}': its tag names no version",
            hint="pin a versioned tag, for example litellm/litellm:v1.81.15",
        )
    return check_version(match.group(1))


# ---------------------------------------------------------------------------------------------
# Locations


def cache_dir() -> Path:
    """`$AIGW_CACHE_DIR`, else `$XDG_CACHE_HOME/aigw`, else `~/.cache/aigw`."""
    explicit = os.environ.get(CACHE_OVERRIDE)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "aigw"


def env_path(version: str) -> Path:
    return cache_dir() / f"litellm-{check_version(version)}"


def _installed_version(root: Path) -> str | None:
    """The litellm version installed in a venv, read from its dist-info (no subprocess)."""
    for dist in sorted(root.glob("lib/python*/site-packages/litellm-*.dist-info")):
        version = dist.name[len("litellm-") : -len(".dist-info")]
        if _VERSION.match(version):
            return version
    return None


def _read_marker(root: Path) -> dict[str, object] | None:
    try:
        data = json.loads((root / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _usable(root: Path, version: str) -> bool:
    marker = _read_marker(root)
    return (
        marker is not None
        and marker.get("version") == version
        and (root / "bin" / "litellm").is_file()
        and (root / "bin" / "python").exists()
        and _installed_version(root) == version
    )


def find(version: str) -> LiteLLMEnv | None:
    """The ready environment for `version`, or None. Creates nothing, runs nothing."""
    version = check_version(version)
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        root = Path(override).expanduser()
        if (root / "bin" / "litellm").is_file() and _installed_version(root) == version:
            return LiteLLMEnv(root=root, version=version)
        return None
    root = env_path(version)
    return LiteLLMEnv(root=root, version=version) if _usable(root, version) else None


def has_litellm(version: str) -> bool:
    """True if the environment for `version` is ready (quick; creates nothing)."""
    return find(version) is not None


# ---------------------------------------------------------------------------------------------
# Creation


def ensure(version: str, *, reporter: Reporter | None = None) -> LiteLLMEnv:
    """Find or create the LiteLLM `version` environment; raise LiteLLMEnvError if impossible."""
    version = check_version(version)
    report = reporter or (lambda _msg: None)
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        return _use_override(Path(override).expanduser(), version)
    root = env_path(version)
    if _usable(root, version):
        return LiteLLMEnv(root=root, version=version)
    root.parent.mkdir(parents=True, exist_ok=True)
    with _lock(root.parent / f"litellm-{version}.lock", report, version):
        if _usable(root, version):  # another process built it while we waited
            return LiteLLMEnv(root=root, version=version)
        return _build(root, version, report)


def _use_override(root: Path, version: str) -> LiteLLMEnv:
    if not (root / "bin" / "litellm").is_file():
        raise LiteLLMEnvError(
            f"{ENV_OVERRIDE}={root} has no bin/litellm",
            hint=f"point it at a virtual environment with litellm[proxy]=={version}, or unset it",
        )
    found = _installed_version(root)
    if found != version:
        raise LiteLLMEnvError(
            f"{ENV_OVERRIDE}={root} holds LiteLLM {found or 'of unknown version'}, "
            f"but {version} is needed",
            hint=f"install litellm[proxy]=={version} there, or unset {ENV_OVERRIDE}",
        )
    return LiteLLMEnv(root=root, version=version)


@contextlib.contextmanager
def _lock(path: Path, report: Reporter, version: str) -> Iterator[None]:
    with open(path, "a+") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    report(f"waiting for another aigw process to finish building LiteLLM {version}")
                    told = True
                if time.monotonic() > deadline:
                    raise LiteLLMEnvError(
                        f"timed out waiting for the lock {path}",
                        hint="another aigw process is building LiteLLM; wait or remove the lock",
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _build(root: Path, version: str, report: Reporter) -> LiteLLMEnv:
    started = time.monotonic()
    parent = root.parent
    # We hold the lock: leftovers of earlier, interrupted builds are ours to remove.
    for stale in parent.glob(f".litellm-{version}.building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    if root.is_symlink():
        root.unlink()
    elif root.exists():
        report(f"removing incomplete LiteLLM {version} environment at {root}")
        shutil.rmtree(root)
    tmp = parent / f".litellm-{version}.building-{os.getpid()}"
    log_path = parent / f"litellm-{version}.install.log"
    uv = shutil.which("uv")
    report(
        f"creating LiteLLM {version} environment in {root} (about 40 s, once"
        f"{'' if uv else '; slower without uv'})"
    )
    requirement = f"litellm[proxy]=={version}"
    if uv:
        steps = [
            [uv, "venv", "--relocatable", "--python", sys.executable, str(tmp)],
            # --compile-bytecode, as pip does by default: each LiteLLM start then reads .pyc
            # instead of compiling ~7,700 modules (PYTHONDONTWRITEBYTECODE keeps it from caching).
            [
                uv,
                "pip",
                "install",
                "--compile-bytecode",
                "--python",
                str(tmp / "bin" / "python"),
                requirement,
            ],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(tmp)],
            [str(tmp / "bin" / "python"), "-m", "pip", "install", "--upgrade", "pip"],
            [str(tmp / "bin" / "python"), "-m", "pip", "install", requirement],
        ]
    try:
        with open(log_path, "w") as log:
            for step in steps:
                report("running " + " ".join([Path(step[0]).name, *step[1:]]))
                log.write(f"$ {' '.join(step)}\n")
                log.flush()
                _run(step, log, log_path, version)
        os.replace(tmp, root)
        _fix_shebangs(root, tmp)
        report(f"verifying LiteLLM {version}")
        _verify(root, version, log_path)
        marker = {
            "version": version,
            "installer": "uv" if uv else "pip",
            "python": sys.executable,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(time.monotonic() - started, 1),
        }
        (root / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report(f"LiteLLM {version} ready in {time.monotonic() - started:.0f} s")
    return LiteLLMEnv(root=root, version=version)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _fail(problem: str, log_path: Path, version: str) -> LiteLLMEnvError:
    tail = _tail(log_path)
    message = f"could not create the LiteLLM {version} environment: {problem}"
    if tail:
        message += f"\n--- last lines of {log_path} ---\n{tail}"
    return LiteLLMEnvError(
        message,
        hint=(
            f"check that PyPI is reachable (or pip/uv index settings), then retry; or set "
            f"{ENV_OVERRIDE} to a virtual environment that has litellm[proxy]=={version}"
        ),
    )


def _run(cmd: list[str], log: IO[str], log_path: Path, version: str) -> None:
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)  # aigw's own venv must not leak into the new one
    env.pop("PYTHONPATH", None)
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    try:
        result = subprocess.run(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _fail(
            f"'{Path(cmd[0]).name}' took over {INSTALL_TIMEOUT_S:.0f} s", log_path, version
        ) from None
    except OSError as exc:
        raise _fail(f"cannot run {cmd[0]}: {exc}", log_path, version) from None
    if result.returncode != 0:
        raise _fail(
            f"'{' '.join(Path(cmd[0]).name if i == 0 else a for i, a in enumerate(cmd[:3]))} ...' "
            f"exited with {result.returncode}",
            log_path,
            version,
        )


def _fix_shebangs(root: Path, old: Path) -> None:
    """Point scripts written for the temporary directory at the final one (pip venvs)."""
    old_prefix = f"#!{old}/".encode()
    for script in (root / "bin").iterdir():
        if not script.is_file() or script.is_symlink():
            continue
        with open(script, "rb") as fh:
            head = fh.read(len(old_prefix))
        if head != old_prefix:
            continue
        data = script.read_bytes()
        first, _, rest = data.partition(b"\n")
        script.write_bytes(first.replace(str(old).encode(), str(root).encode(), 1) + b"\n" + rest)


def _verify(root: Path, version: str, log_path: Path) -> None:
    env = LiteLLMEnv(root=root, version=version)
    found = _installed_version(root)
    if found != version:
        raise _fail(f"installed litellm is {found}, expected {version}", log_path, version)
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    try:
        result = subprocess.run(
            [str(env.litellm_bin), "--version"],
            capture_output=True,
            text=True,
            env=clean,
            timeout=180,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _fail(f"{env.litellm_bin} --version failed: {exc}", log_path, version) from None
    with open(log_path, "a") as log:
        log.write(f"$ {env.litellm_bin} --version\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0 or version not in result.stdout:
        raise _fail(f"'{env.litellm_bin} --version' did not report {version}", log_path, version)
