"""Alerts (issue 26): who is told (an Azure Monitor action group: e-mail addresses and/or one
webhook) and the log search alert rules aigw keeps on the gateway's own usage lines. Field types
and their checks only; `aigw.resources.action_group` and `aigw.resources.alert_rule` turn them
into resources.

Bounds, from Microsoft's word:
- evaluation frequency "anywhere from one minute to one day (24 hours)"; the query's time range
  at most two days (learn.microsoft.com/azure/azure-monitor/alerts/alerts-create-log-alert-rule,
  "Frequency of evaluation", "Override query time range");
- an action group's short name at most 12 characters (Azure/azure-rest-api-specs
  specification/monitor/resource-manager/Microsoft.Insights/stable/2023-01-01/
  actionGroups_API.json, ActionGroup.groupShortName maxLength 12; Azure answers
  GroupShortNameIsTooLong, Azure/azure-rest-api-specs#2840);
- at most 1,000 e-mail actions in an action group, an e-mail address at most 64 characters
  (learn.microsoft.com/azure/azure-monitor/service-limits, "Action groups").

aigw's own choices: a frequency no longer than the window it reads (else calls between two
windows are never looked at); a rate needs `min_calls` calls in the window (one failed call of
one is not a 5xx rate worth waking anyone for).
"""

from __future__ import annotations

import re

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from aigw.config.fields import Flag, Int, Number, StrictModel

Percent = Number

MAX_FREQUENCY_MINUTES = 24 * 60  # one day
MAX_WINDOW_MINUTES = 2 * 24 * 60  # two days
MAX_EMAILS = 1000
MAX_EMAIL_LENGTH = 64
SHORT_NAME_MAX = 12
# Stricter than Azure (the spec gives emailAddress no pattern): one '@', a dot in the domain, no
# spaces; what a mail server would bounce is caught here.
_EMAIL = re.compile(r"[^@\s,;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_WEBHOOK_ENV = "AIGW_ALERT_WEBHOOK_URL"


class _Rule(StrictModel):
    enabled: Flag = Field(default=True, description="Keep this rule evaluating.")


class ServerErrorsRule(_Rule):
    """Fires when at least `percent` of the window's calls ended with a 5xx status (and there
    were at least `alerts.min_calls` of them)."""

    percent: Percent = Field(default=5, gt=0, le=100, description="Share of the calls, in %.")


class ThrottlingRule(_Rule):
    """Fires when at least `percent` of the window's calls Azure refused with 429."""

    percent: Percent = Field(default=10, gt=0, le=100, description="Share of the calls, in %.")


class BudgetWarningRule(_Rule):
    """Fires for each developer key whose spend this month reached `percent` of its budget."""

    percent: Percent = Field(
        default=80, gt=0, le=100, description="Share of the key's monthly budget, in %."
    )


class BudgetExhaustedRule(_Rule):
    """Fires for each developer key whose spend this month reached `percent` of its budget
    (or that the gateway refused for its budget)."""

    percent: Percent = Field(
        default=100, gt=0, le=100, description="Share of the key's monthly budget, in %."
    )


class NoSuccessRule(_Rule):
    """Fires when the gateway wrote console lines (a replica runs) but no call succeeded."""

    minutes: Int = Field(
        default=30,
        ge=1,
        le=MAX_WINDOW_MINUTES,
        description="Minutes without one successful call while a replica runs.",
    )


class AlertsConfig(StrictModel):
    """Azure Monitor alerts on the gateway's usage lines, sent to an action group."""

    emails: list[str] = Field(
        default_factory=list,
        max_length=MAX_EMAILS,
        description="E-mail addresses told when a rule fires.",
    )
    webhook_url_env: str | None = Field(
        default=None,
        description="Environment variable holding a webhook URL told when a rule fires (the URL "
        f"may carry a token: a secret, never in the YAML; e.g. {DEFAULT_WEBHOOK_ENV}).",
    )
    short_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=SHORT_NAME_MAX,
        description="The action group's short name in notifications (at most 12 characters); "
        "default aigw-<env>, cut to 12.",
    )
    frequency_minutes: Int = Field(
        default=5,
        ge=1,
        le=MAX_FREQUENCY_MINUTES,
        description="How often each rule runs its query (1 minute to 1 day).",
    )
    window_minutes: Int = Field(
        default=15,
        ge=1,
        le=MAX_WINDOW_MINUTES,
        description="The minutes of usage lines each rate and budget rule reads (at most 2 "
        "days; not shorter than frequency_minutes).",
    )
    min_calls: Int = Field(
        default=10,
        ge=1,
        description="Calls a window needs before a rate rule may fire.",
    )
    server_errors: ServerErrorsRule = Field(
        default_factory=ServerErrorsRule,
        description="Calls that ended with a 5xx status, in % of the window's calls.",
    )
    azure_throttling: ThrottlingRule = Field(
        default_factory=ThrottlingRule,
        description="Calls Azure OpenAI refused with 429 (after the gateway's retries and "
        "fallbacks), in % of the calls that reached Azure.",
    )
    budget_warning: BudgetWarningRule = Field(
        default_factory=BudgetWarningRule,
        description="A developer key at this share of its monthly budget.",
    )
    budget_exhausted: BudgetExhaustedRule = Field(
        default_factory=BudgetExhaustedRule,
        description="A developer key at its whole monthly budget.",
    )
    no_success: NoSuccessRule = Field(
        default_factory=NoSuccessRule,
        description="No successful call for some minutes while a replica runs.",
    )

    @field_validator("emails")
    @classmethod
    def _valid_emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if not isinstance(address, str) or not _EMAIL.fullmatch(address):
                raise ValueError(f"{address!r} is not an e-mail address such as ops@example.com")
            if len(address) > MAX_EMAIL_LENGTH:
                raise ValueError(
                    f"{address!r} is longer than {MAX_EMAIL_LENGTH} characters, Azure Monitor's "
                    "limit for an e-mail receiver"
                )
        lowered = [a.lower() for a in value]
        dupes = sorted({a for a in lowered if lowered.count(a) > 1})
        if dupes:
            raise ValueError(f"{dupes[0]} is listed twice: list each address once")
        return value

    @field_validator("webhook_url_env")
    @classmethod
    def _env_var_name(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.lower().startswith(("http://", "https://")):
            raise ValueError(
                "is a URL: name the environment variable that holds it (e.g. "
                f"{DEFAULT_WEBHOOK_ENV}), never the URL itself (it may carry a token)"
            )
        if not _ENV_VAR.fullmatch(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    @model_validator(mode="after")
    def _check(self) -> AlertsConfig:
        if not self.emails and self.webhook_url_env is None:
            raise ValueError(
                "no receiver: add emails: [you@example.com] or webhook_url_env: "
                f"{DEFAULT_WEBHOOK_ENV} (or remove alerts:)"
            )
        for field, minutes in (
            ("window_minutes", self.window_minutes),
            ("no_success.minutes", self.no_success.minutes),
        ):
            if minutes < self.frequency_minutes:
                raise ValueError(
                    f"{field} ({minutes}) is shorter than frequency_minutes "
                    f"({self.frequency_minutes}): calls between two runs would never be read; "
                    f"make it at least {self.frequency_minutes}"
                )
        if self.budget_warning.percent >= self.budget_exhausted.percent:
            raise ValueError(
                f"budget_warning.percent ({self.budget_warning.percent:g}) must be below "
                f"budget_exhausted.percent ({self.budget_exhausted.percent:g})"
            )
        return self

    def group_short_name(self, env: str) -> str:
        """The action group's short name: the YAML's, else `aigw-<env>` cut to 12."""
        return self.short_name or f"aigw-{env}"[:SHORT_NAME_MAX].rstrip("-")
