"""The two set-up commands on a fresh Debian/Ubuntu: uv is bootstrapped into a private virtual
environment, never `pip install`ed into a PEP 668 ("externally managed") system Python; without
the venv module the one line names the package to install."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import REPO

SYSTEM_PYTHON = Path("/usr/bin/python3")
BOOTSTRAP = '. .ci/uv-bootstrap.sh && aigw_bootstrap_uv && "${UV[@]}" --version'


def _stdlib(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return Path(out.stdout.strip())


@pytest.fixture
def debian_python() -> Path:
    if not SYSTEM_PYTHON.is_file():
        pytest.skip("no distribution Python at /usr/bin/python3")
    if not (_stdlib(SYSTEM_PYTHON) / "EXTERNALLY-MANAGED").is_file():
        pytest.skip("/usr/bin/python3 is not marked externally managed (PEP 668)")
    return SYSTEM_PYTHON


def fresh_shell(tmp_path: Path, script: str, path: str = "/usr/bin:/bin") -> list[str]:
    """`env -i`: nothing of this session's environment (no pyenv, no uv, no VIRTUAL_ENV)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return [
        "env", "-i", f"PATH={path}", f"HOME={home}",
        f"AIGW_UV_BOOTSTRAP_DIR={tmp_path / 'uv-bootstrap'}", "bash", "-c", script,
    ]  # fmt: skip


def test_uv_is_bootstrapped_privately_with_the_debian_python(
    debian_python: Path, tmp_path: Path
) -> None:
    no_uv = subprocess.run(fresh_shell(tmp_path, "command -v uv"), capture_output=True, text=True)
    assert no_uv.returncode != 0, f"uv is on /usr/bin:/bin: {no_uv.stdout}"
    r = subprocess.run(
        fresh_shell(tmp_path, BOOTSTRAP), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("uv "), r.stdout
    uv = tmp_path / "uv-bootstrap" / "bin" / "uv"
    assert uv.is_file()
    # Runnable on its own too, and nothing went into the system Python.
    assert subprocess.run([str(uv), "--version"], capture_output=True).returncode == 0
    system = subprocess.run([str(debian_python), "-c", "import uv"], capture_output=True)
    assert system.returncode != 0
    # A second run reuses it: the uv there is not installed again.
    before = uv.stat().st_mtime_ns
    again = subprocess.run(
        fresh_shell(tmp_path, BOOTSTRAP), cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert uv.stat().st_mtime_ns == before


def test_without_venv_one_line_names_the_package(debian_python: Path, tmp_path: Path) -> None:
    # Debian without python3-venv: no ensurepip, so `python3 -m venv` cannot make a usable venv.
    blocked = tmp_path / "no-ensurepip" / "ensurepip"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('ensurepip is not available')\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "python3"
    wrapper.write_text(
        f'#!/bin/sh\nPYTHONPATH={blocked.parent} exec {debian_python} "$@"\n', encoding="utf-8"
    )
    wrapper.chmod(0o755)
    r = subprocess.run(
        fresh_shell(tmp_path, BOOTSTRAP, path=f"{bin_dir}:/usr/bin:/bin"),
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt install python3-venv" in lines[0], r.stderr
    assert not (tmp_path / "uv-bootstrap").exists()


@pytest.mark.parametrize("script", ["quickstart.sh", ".ci/run", ".ci/check-wheel"])
def test_setup_scripts_use_the_bootstrap_not_pip_into_the_system(script: str) -> None:
    text = (REPO / script).read_text(encoding="utf-8")
    assert ". .ci/uv-bootstrap.sh" in text and "aigw_bootstrap_uv" in text
    assert "-m pip install" not in text  # uv may install into its own venvs; pip never here


def test_bootstrap_dir_is_gitignored() -> None:
    assert "/.uv-bootstrap/" in (REPO / ".gitignore").read_text().splitlines()
