"""Starting the real LiteLLM proxy as a local process."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import time
from pathlib import Path

import httpx
import pytest

from aigw.errors import GatewayError
from aigw.gateway.process import PortTakenError, log_tail, start_gateway, strip_options
from aigw.redact import redact
from gateway_fixtures import litellm_env_for_tests


def test_strip_options() -> None:
    args = ["--config", "c.yaml", "--port", "4000", "--host=0.0.0.0", "--api_version", "v"]
    assert strip_options(args, ["--port", "--host"]) == ["--config", "c.yaml", "--api_version", "v"]


def test_redact_longest_first_and_masks_short_values_too(tmp_path: Path) -> None:
    assert redact("key=abcdef123 and abcdef", ["abcdef", "abcdef123", "True"]) == (
        "key=*** and ***"
    )
    assert redact("True", ["True"]) == "***"  # issue 17 S3: whatever the length
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i} secret-value\n" for i in range(100)))
    tail = log_tail(log, ["secret-value"], lines=3)
    assert tail == "line 97 ***\nline 98 ***\nline 99 ***"


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.litellm
def test_crash_before_liveness_raises_with_redacted_log_tail(tmp_path: Path) -> None:
    env = litellm_env_for_tests()
    secret = "sk-super-secret-value-42"
    started = time.monotonic()
    with pytest.raises(GatewayError) as info:
        # click rejects the value and echoes it: the log holds the secret, the error must not.
        start_gateway(
            env,
            ["--num_workers", secret],
            {"SOME_SECRET": secret},
            port=None,
            workdir=tmp_path,
            startup_timeout=60,
        )
    assert time.monotonic() - started < 30  # noticed the exit, did not wait for the timeout
    message = info.value.message
    assert "LiteLLM exited with code 2" in message
    assert "is not a valid integer" in message
    assert secret not in message
    assert "'***'" in message
    assert secret in (tmp_path / "litellm.log").read_text()  # the raw log is the user's


@pytest.mark.litellm
def test_tls_clean_environment_and_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = litellm_env_for_tests()
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("AIGW_PARENT_SECRET", "parent-secret-must-not-leak")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    workdir = tmp_path / "work"
    started = time.monotonic()
    gateway = start_gateway(
        env,
        ["--port", "4000", "--host", "0.0.0.0", "--ssl_keyfile_path", "/nonexistent/key.pem"],
        {"AIGW_TEST_SECRET": "sk-test-0123456789"},
        port=None,
        workdir=workdir,
        tls=(cert, key),
    )
    startup = time.monotonic() - started
    with gateway:
        print(f"LiteLLM with TLS live after {startup:.1f} s")
        assert gateway.url.startswith("https://127.0.0.1:")
        assert gateway.url != "https://127.0.0.1:4000"
        assert gateway.log_path == workdir / "litellm.log"
        r = httpx.get(
            gateway.url + "/health/liveliness",
            verify=ssl.create_default_context(cafile=str(cert)),
            trust_env=False,
        )
        assert r.status_code == 200
        with pytest.raises(httpx.HTTPError):
            httpx.get(gateway.url.replace("https", "http") + "/health/liveliness", timeout=3)
        environ = dict(
            item.split("=", 1)
            for item in Path(f"/proc/{gateway.pid}/environ").read_text().split("\0")
            if "=" in item
        )
        assert environ["AIGW_TEST_SECRET"] == "sk-test-0123456789"
        assert environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
        assert "AIGW_PARENT_SECRET" not in environ
        assert not {k for k in environ if k.lower().endswith("_proxy")}
        assert set(environ) <= {
            "PATH",
            "HOME",
            "LANG",
            "LC_ALL",
            "PYTHONUNBUFFERED",
            "PYTHONDONTWRITEBYTECODE",
            "TMPDIR",
            "LITELLM_LOCAL_MODEL_COST_MAP",
            "AIGW_TEST_SECRET",
            "PWD",  # set by the /bin/sh trampoline of a relocatable venv's scripts
        }
        pid = gateway.pid
    assert not gateway.running
    assert (
        not os.path.exists(f"/proc/{pid}/status")
        or "zombie" in Path(f"/proc/{pid}/status").read_text()
    )


@pytest.mark.litellm
def test_an_answer_from_another_process_on_the_port_is_not_liveness(tmp_path: Path) -> None:
    """Bind-then-record: a port free when chosen can be taken before LiteLLM binds it (another
    local cloud or suite on this machine). Whatever answers there with 200 is not this gateway:
    start_gateway waits for LiteLLM's own "Uvicorn running on <url>" and reports the port taken.
    (Before: the squatter's 200 was taken as liveness and the gateway recorded on its port.)"""
    import http.server
    import threading

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    squatter = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=squatter.serve_forever, daemon=True).start()
    try:
        with pytest.raises(PortTakenError):
            start_gateway(
                litellm_env_for_tests(),
                [],
                {},
                port=squatter.server_address[1],
                workdir=tmp_path,
                startup_timeout=60,
            )
    finally:
        squatter.shutdown()
