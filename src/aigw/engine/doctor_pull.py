"""Does the gateway pull its image anonymously from Docker Hub? (pure: plain data in, a Finding out)

Docker Hub rate-limits anonymous (unauthenticated) pulls per IP address
(https://docs.docker.com/docker-hub/usage/pulls/), and Container Apps pulls the image again at
every scale-out and replica restart: a known failure on Azure, "ImagePullFailure" from HTTP 429
of Docker Hub, with the advice to move the image to Azure Container Registry
(microsoft/azure-container-apps#1670). A private mirror is `gateway.registry` (README, "The image
is pulled anonymously from Docker Hub unless `gateway.registry` ...", with `az acr import`).
"""

from __future__ import annotations

from aigw.engine.findings import Finding

CHECK = "image pull"
WARNED_ENVS = ("prod",)  # the environments where an anonymous Docker Hub pull is a WARN
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")
FIX = (
    "import the image into a private Azure Container Registry and set gateway.registry "
    "{server: <name>.azurecr.io, identity: app} and gateway.image to the imported reference "
    "(README: gateway.registry, az acr import --name <acr> --image <repo>:<tag> --source "
    "docker.io/<repo>:<tag>@sha256:<digest>)"
)


def registry_host(image: str) -> str:
    """The registry an image reference names: its first path part when that looks like a host
    ('.' or ':' in it, or 'localhost'), else Docker Hub (docker.io), as Docker resolves it."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def is_docker_hub(image: str) -> bool:
    return registry_host(image) in DOCKER_HUB_HOSTS


def image_pull(env: str, image: str, registry_server: str | None) -> Finding:
    """WARN for the environments in WARNED_ENVS that pull from Docker Hub without a registry;
    ok (saying so) everywhere else."""
    name = image.split("@")[0]
    if registry_server:
        return Finding(CHECK, True, f"{name} is pulled from {registry_server} (app identity)")
    if not is_docker_hub(image):
        return Finding(CHECK, True, f"{name} is pulled from {registry_host(image)}")
    envs = ", ".join(WARNED_ENVS)
    detail = (
        f"{name} is pulled anonymously from Docker Hub, which rate-limits anonymous pulls "
        f"(a scale-out or restart can fail with ImagePullFailure); a warning for {envs} only"
    )
    if env in WARNED_ENVS:
        return Finding(CHECK, True, detail, FIX, warn=True)
    return Finding(CHECK, True, f"{detail}, not for {env}")
