"""ARM/Key Vault error answers, raised by route handlers and turned into JSON by the server."""

from __future__ import annotations

from typing import Any


class CloudError(Exception):
    """An HTTP error answer in Azure's shape: {"error": {"code", "message", ...}}."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        err.update(self.extra)
        return {"error": err}


def not_found(resource_type: str, name: str, group: str | None = None) -> CloudError:
    where = f" under resource group '{group}'" if group else ""
    return CloudError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}'{where} was not found. For more details please go "
        "to https://aka.ms/ARMResourceNotFoundFix",
    )


def group_not_found(group: str) -> CloudError:
    return CloudError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
