"""`aigw localcloud env` (issue 12.4): exports whose CA bundle holds the system CAs and the
local cloud's CA, so curl, Python and the OpenAI SDK's httpx trust the local cloud and the rest
of the internet alike; `client-config --cloud local` says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw_localcloud.cloud import LocalCloud
from aigw_localcloud.core.ca_bundle import system_ca_file
from conftest import REPO


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path / "lc") as c:
        yield c


def _aigw(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIGW_", "SSL_", "CURL_"))}
    base.update({"PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "aigw", *args],
        capture_output=True,
        text=True,
        env=base,
        cwd=REPO,
        timeout=60,
    )


def _exports(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export ") :].partition("=")
            out[k] = v
    return out


def test_env_prints_exports_with_a_bundle_of_system_and_local_cas(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    r = _aigw("localcloud", "env", "--state-dir", str(cloud.state_dir))
    assert r.returncode == 0, r.stderr
    exports = _exports(r.stdout)
    bundle = Path(exports["SSL_CERT_FILE"])
    assert bundle.parent == cloud.ca_file.parent  # next to the local CA
    assert exports["REQUESTS_CA_BUNDLE"] == exports["CURL_CA_BUNDLE"] == str(bundle)
    text = bundle.read_text()
    assert cloud.ca_file.read_text().strip() in text
    system = system_ca_file()
    assert system is not None
    first_system_cert = system.read_text().split("-----END CERTIFICATE-----")[0]
    assert first_system_cert.strip() in text  # the rest of the internet stays trusted
    assert text.count("BEGIN CERTIFICATE") > 10

    # The OpenAI SDK's HTTP client (httpx, trust_env) trusts the local cloud with these exports.
    probe = (
        "import sys, httpx; "
        f"print(httpx.get({cloud.arm_url + '/subscriptions'!r}, timeout=10).status_code)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSL_", "CURL_"))}
    plain = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert plain.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in plain.stderr
    trusted = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**env, **exports},
        timeout=60,
    )
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.strip() == "401"  # TLS verified; ARM wants a token

    if shutil.which("curl"):
        curl = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", cloud.arm_url + "/x"]
        no = subprocess.run(curl, capture_output=True, text=True, env=env, timeout=30)
        assert no.returncode == 60  # "self-signed certificate in certificate chain"
        yes = subprocess.run(curl, capture_output=True, text=True, env={**env, **exports})
        assert yes.returncode == 0 and yes.stdout == "401", yes.stderr


def test_client_config_for_the_local_cloud_names_the_ca_exports(tmp_path: Path) -> None:
    r = _aigw(
        "client-config", "--env", "dev", "--cloud", "local", "--client", "codex",
        "--url", "https://127.0.0.1:14000",
        env={"AIGW_LOCALCLOUD_DIR": str(tmp_path / "lc")},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert 'eval "$(aigw localcloud env)"' in r.stderr, r.stderr
    assert str(tmp_path / "lc" / "ca-bundle.pem") in r.stderr
