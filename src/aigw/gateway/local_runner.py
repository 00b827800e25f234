"""Run Container Apps of the local cloud: LiteLLM images become local LiteLLM processes.

For each ContainerSpec the runner takes the LiteLLM version from the image tag, ensures that
version's virtual environment, writes the secret-volume files under a per-app directory
(mirroring their mount paths), rewrites arguments and env values that point into a mount to the
local copies, and runs `litellm <args>` (the image's entrypoint is `litellm`) on a free local
port with exactly the container's environment.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath

import httpx

from aigw.errors import GatewayError, LiteLLMEnvError
from aigw.gateway.process import GatewayProcess, PortTakenError, start_gateway
from aigw.gateway.render import GATEWAY_KEY_FILE_NAME
from aigw.gateway.url import LIVENESS_PATH
from aigw.gateway.venv import ensure, is_litellm_image, litellm_version_from_image
from aigw_localcloud.apps import app_pids
from aigw_localcloud.core.app_runner import AppStartError, ContainerSpec
from aigw_localcloud.core.ca_bundle import write_bundle
from aigw_localcloud.core.endpoint import predicted_app_port, subscription_of

Reporter = Callable[[str], None]


def app_dir_name(app_key: str) -> str:
    """A short, filesystem-safe, stable directory name for an app's ARM id; a revision's own
    process (multiple-revision mode: "<app id>/revisions/<name>") gets its app's name and
    "--<revision>", so the app's console logs are found together."""
    base, sep, revision = app_key.partition("/revisions/")
    last = base.rstrip("/").rsplit("/", 1)[-1]
    safe = re.sub(r"[^a-z0-9-]+", "-", last.lower()).strip("-")[:40] or "app"
    name = f"{safe}-{hashlib.sha256(base.encode()).hexdigest()[:10]}"
    if sep:
        name += "--" + (re.sub(r"[^a-z0-9-]+", "-", revision.lower()).strip("-")[:60] or "rev")
    return name


def _local_path(root: Path, mount_path: str) -> Path:
    pure = PurePosixPath(mount_path)
    if not pure.is_absolute() or ".." in pure.parts:
        raise AppStartError(f"mount path '{mount_path}' must be absolute, without '..'")
    return root.joinpath(*pure.parts[1:])


def rewrite_paths(values: Sequence[str], files_root: Path, files: Mapping[str, bytes]) -> list[str]:
    """Point values (or `--opt=value` values) that name a mounted file or directory locally."""
    mounts = sorted(
        {str(PurePosixPath(p).parent) for p in files} | set(files), key=len, reverse=True
    )

    def local(value: str) -> str:
        for mount in mounts:
            if value == mount or value.startswith(mount.rstrip("/") + "/"):
                return str(_local_path(files_root, value))
        return value

    out = []
    for value in values:
        if value.startswith("--") and "=" in value:
            name, _, rest = value.partition("=")
            out.append(f"{name}={local(rest)}")
        else:
            out.append(local(value))
    return out


class LiteLLMAppRunner:
    """The local cloud's AppRunner: runs LiteLLM container images as local processes."""

    def __init__(
        self,
        workdir: Path,
        *,
        tls: tuple[Path, Path] | None = None,
        reporter: Reporter | None = None,
        startup_timeout: float = 90.0,
    ) -> None:
        self.workdir = Path(workdir)
        self.tls = tls
        self.reporter = reporter
        self.startup_timeout = startup_timeout
        self._apps: dict[str, GatewayProcess] = {}
        self._ports: dict[str, int] = {}
        self._lock = threading.RLock()

    def process(self, app_key: str) -> GatewayProcess | None:
        """The running gateway of an app (for logs and tests), or None."""
        with self._lock:
            return self._apps.get(app_key)

    def start(self, spec: ContainerSpec) -> str:
        if not is_litellm_image(spec.image):
            raise AppStartError(
                f"image '{spec.image}': the local cloud only runs LiteLLM images "
                "(litellm/litellm:v<version> or ghcr.io/berriai/litellm:main-v<version>)"
            )
        args = list(spec.args)
        if spec.command:
            if not spec.command[0].endswith("litellm"):
                raise AppStartError(
                    f"command {list(spec.command)!r}: the local cloud runs only the LiteLLM "
                    "image's own entrypoint (litellm); set args, not command"
                )
            args = [*spec.command[1:], *args]
        try:
            version = litellm_version_from_image(spec.image)
            env = ensure(version, reporter=self.reporter)
        except LiteLLMEnvError as exc:
            raise AppStartError(_text(exc)) from exc
        with self._lock:
            # An app keeps its port across restarts, revisions and local-cloud restarts, as its
            # FQDN does on Azure: the one it had, else the one its name predicts, if free.
            previous = self._apps.get(spec.app_key)
            port = previous.port if previous is not None else self._ports.get(spec.app_key)
            if port is None:
                name = spec.app_key.rstrip("/").rsplit("/", 1)[-1]
                predicted = predicted_app_port(name, subscription_of(spec.app_key))
                port = next((p for p in (spec.port, predicted) if _free(p)), None)
            self.stop(spec.app_key)
            app_dir = self.workdir / app_dir_name(spec.app_key)
            files_root = app_dir / "files"
            shutil.rmtree(files_root, ignore_errors=True)
            for mount_path, content in spec.files.items():
                target = _local_path(files_root, mount_path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                target.chmod(0o600)
            args = rewrite_paths(args, files_root, spec.files)
            environ = dict(
                zip(
                    spec.env.keys(),
                    rewrite_paths(list(spec.env.values()), files_root, spec.files),
                    strict=True,
                )
            )
            if self.tls is not None:
                # The image's trust store: the system's CAs and the local cloud's, whose
                # certificate its TLS endpoints (an Azure Managed Redis database's) present, as
                # Azure's endpoints present publicly trusted ones. Python's ssl (redis-py's
                # SSLConnection) reads SSL_CERT_FILE.
                environ.setdefault("SSL_CERT_FILE", str(write_bundle(Path(self.tls[0]).parent)))
            if self.reporter:
                self.reporter(f"starting LiteLLM {version} for {spec.app_key} ({spec.revision})")
            secrets = [  # the gateway key comes as a file of the volume, not in the environment
                content.decode(errors="replace").strip()
                for path, content in spec.files.items()
                if PurePosixPath(path).name == GATEWAY_KEY_FILE_NAME
            ]
            for attempt in range(3):
                try:
                    gateway = start_gateway(
                        env,
                        args,
                        environ,
                        port=port,
                        workdir=app_dir,
                        tls=self.tls,
                        startup_timeout=self.startup_timeout,
                        health_path=spec.startup_path or LIVENESS_PATH,
                        log_name=f"litellm-{_safe(spec.revision)}.log",
                        # Recorded at once: a cloud killed while this starts must not leave it.
                        on_spawn=lambda pid: app_pids.record(app_dir, pid),
                        secrets=secrets,
                    )
                    break
                except PortTakenError as exc:
                    # Free when chosen, taken before LiteLLM bound it (another local cloud on
                    # this machine): the app moves to a port the system picks; the cloud
                    # reports the one bound (ingress.fqdn), never the one predicted.
                    app_pids.forget(app_dir)
                    if attempt == 2:
                        raise AppStartError(_text(exc)) from exc
                    port = None
                except GatewayError as exc:
                    app_pids.forget(app_dir)
                    raise AppStartError(_text(exc)) from exc
            if spec.readiness_path:
                problem = _readiness_problem(gateway.url, spec.readiness_path)
                if problem:
                    gateway.stop()
                    app_pids.forget(app_dir)
                    raise AppStartError(problem)
            self._apps[spec.app_key] = gateway
            self._ports[spec.app_key] = gateway.port
            return gateway.url

    def console_logs(self, app_key: str) -> list[tuple[str, Path]]:
        """(revision, its console log) for each revision that ran here (the local cloud's
        ConsoleLogSource: its Log Analytics and log stream read these)."""
        name = app_dir_name(app_key)
        dirs = [self.workdir / name, *self.workdir.glob(f"{name}--*")]  # and its revisions'
        found = [p for d in dirs for p in d.glob("litellm-*.log")]
        logs = sorted(found, key=lambda p: p.stat().st_mtime)
        return [(p.name[len("litellm-") : -len(".log")], p) for p in logs]

    def stop(self, app_key: str) -> None:
        with self._lock:
            gateway = self._apps.pop(app_key, None)
        if gateway is not None:
            gateway.stop()
        app_dir = self.workdir / app_dir_name(app_key)
        app_pids.forget(app_dir)
        # The secret volume goes with the replica, as on Azure (the gateway key, the keys file):
        # a stopped revision leaves no key on disk; its console log stays.
        shutil.rmtree(app_dir / "files", ignore_errors=True)

    def stop_all(self) -> None:
        with self._lock:
            keys = list(self._apps)
        for key in keys:
            self.stop(key)


def _readiness_problem(url: str, path: str, timeout: float = 10.0) -> str | None:
    """The readiness probe as the platform sends it: no key, HTTP GET, 200 expected. On Azure a
    replica failing its readiness probe gets no traffic and the revision never becomes ready
    (learn.microsoft.com/azure/container-apps/health-probes); here the revision fails to start,
    which is stricter and visible at once."""
    deadline = time.monotonic() + timeout
    last = ""
    # verify=False: a probe of a process just started on loopback, as in gateway_process.
    with httpx.Client(verify=False, timeout=2.0, trust_env=False) as client:  # noqa: S501
        while time.monotonic() < deadline:
            try:
                status = client.get(url + path).status_code
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            else:
                if status == 200:
                    return None
                last = f"HTTP {status}"
            time.sleep(0.25)
    return f"the readiness probe {path} failed ({last}): the revision is not ready"


def _free(port: int | None) -> bool:
    if not port:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as LiteLLM's server binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "revision"


def _text(exc: GatewayError | LiteLLMEnvError) -> str:
    return f"{exc.message}\n({exc.hint})" if exc.hint else exc.message
