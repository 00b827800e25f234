"""One error hierarchy and one exit-code table for the whole tool.

Exit codes: 0 ok, 1 failure (Azure, gateway, internal), 2 bad input (config, arguments).
`plan --detailed-exitcode` adds 2 for "changes present" (Terraform's convention).
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class AigwError(Exception):
    """An error with a one-line, actionable message. Never carries a secret value."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())


class UserError(AigwError):
    """Bad input from the user: config file, arguments, environment variables."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(UserError):
    """A problem in an environment file, naming the file and the field path."""

    def __init__(self, file: str, field: str, problem: str, *, hint: str | None = None) -> None:
        where = f"{file}: {field}" if field else file
        super().__init__(f"{where}: {problem}", hint=hint)
        self.file = file
        self.field = field
        self.problem = problem


class MissingSecretError(UserError):
    """A secret's environment variable is not set."""


class AzureError(AigwError):
    """Azure refused or failed an operation; the message names the resource and the fix."""

    def __init__(
        self, message: str, *, hint: str | None = None, code: str | None = None, status: int = 0
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.status = status


class UnsafePlanError(AigwError):
    """The plan would touch something aigw does not own, or destroy what must be kept."""


class GatewayError(AigwError):
    """The gateway (LiteLLM) could not be started or failed a check."""


class LiteLLMEnvError(AigwError):
    """The local LiteLLM virtual environment could not be found or created."""
