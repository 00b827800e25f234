"""The local cloud's CA for shells and clients: a bundle of the system's CAs plus the local CA
(pointing SSL_CERT_FILE at the local CA alone would break every other HTTPS call of that
shell), written next to the local CA, and the exports that make curl, Python's requests and
the OpenAI SDK (httpx honours SSL_CERT_FILE) trust both."""

from __future__ import annotations

import os
import shlex
import ssl
from pathlib import Path

from .tls import ensure_certificates

BUNDLE = "ca-bundle.pem"
# Where distributions keep their CA bundle when Python's default paths name none.
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/cert.pem",  # macOS, BSD
)


def system_ca_file() -> Path | None:
    """The system's CA bundle, else certifi's (installed with the Azure SDK's requests)."""
    default = ssl.get_default_verify_paths().cafile
    for candidate in (default, *SYSTEM_BUNDLES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        import certifi
    except ImportError:
        return None
    return Path(certifi.where())


def write_bundle(state_dir: Path) -> Path:
    """(Re)write <state_dir>/ca-bundle.pem: the system CAs, then the local cloud's CA."""
    state_dir = Path(state_dir).expanduser()
    ca = ensure_certificates(state_dir).ca_file
    system = system_ca_file()
    parts = [system.read_text(encoding="utf-8") if system else ""]
    parts.append(f"\n# aigw localcloud CA ({ca})\n{ca.read_text(encoding='utf-8')}")
    bundle = state_dir / BUNDLE
    tmp = bundle.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("".join(parts).lstrip("\n"), encoding="utf-8")
    os.replace(tmp, bundle)
    return bundle


def exports(state_dir: Path) -> dict[str, str]:
    """Environment variables a shell needs to trust the local cloud and everything else."""
    bundle = write_bundle(state_dir)
    ca = Path(state_dir).expanduser() / "ca.pem"
    return {
        "SSL_CERT_FILE": str(bundle),  # Python ssl, httpx (OpenAI SDK), OpenSSL-based tools
        "REQUESTS_CA_BUNDLE": str(bundle),  # requests
        "CURL_CA_BUNDLE": str(bundle),  # curl
        "NODE_EXTRA_CA_CERTS": str(ca),  # Node.js clients add it to their own CAs
    }


def shell_lines(values: dict[str, str]) -> str:
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in values.items())
