# shellcheck shell=bash
# Sourced by quickstart.sh, .ci/run and .ci/check-wheel: `aigw_bootstrap_uv` sets UV=(...) to
# a runnable uv, in this order:
#   1. `uv` on PATH;
#   2. `$PYTHON -m uv` (PYTHON defaults to python3) when that Python has uv (pyenv shims, CI);
#   3. a private virtual environment, .uv-bootstrap/ (gitignored; AIGW_UV_BOOTSTRAP_DIR moves
#      it), with uv installed by that environment's own pip.
# It never runs `pip install` against the system Python: Debian 12 / Ubuntu 24.04 mark theirs
# externally managed (PEP 668) and pip refuses with "externally-managed-environment".
# Debian splits venv/ensurepip into the python3-venv package: without it, one line says so.

AIGW_UV_VERSION=0.13.8
# uv's own certificate roots do not include a CA that a company proxy (or this sandbox) adds to
# the system's store; pip reads the system's (Debian's pip.conf), so uv does too unless told
# otherwise (`uv --system-certs`, env UV_SYSTEM_CERTS).
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-1}"

aigw_bootstrap_uv() {
    local py=${PYTHON:-python3}
    local dir=${AIGW_UV_BOOTSTRAP_DIR:-$PWD/.uv-bootstrap}
    if command -v uv >/dev/null 2>&1; then
        UV=(uv)
        return 0
    fi
    if "$py" -m uv --version >/dev/null 2>&1; then
        UV=("$py" -m uv)
        return 0
    fi
    if [ -x "$dir/bin/uv" ] && "$dir/bin/uv" --version >/dev/null 2>&1; then
        UV=("$dir/bin/uv")
        return 0
    fi
    if ! command -v "$py" >/dev/null 2>&1; then
        echo "error: $py not found: install Python 3.11 or newer (Debian/Ubuntu: apt install python3 python3-venv)" >&2
        return 1
    fi
    if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        echo "error: $py cannot create virtual environments (no venv/ensurepip): apt install python3-venv (Debian/Ubuntu), then run this again" >&2
        return 1
    fi
    rm -rf "$dir"
    if ! "$py" -m venv "$dir" >/dev/null 2>&1 ||
        ! "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$AIGW_UV_VERSION" >&2; then
        rm -rf "$dir"
        echo "error: could not install uv $AIGW_UV_VERSION into $dir (is PyPI reachable?)" >&2
        return 1
    fi
    UV=("$dir/bin/uv")
}
