"""Output formats every command accepts (kept apart from rich so `--help` stays light)."""

from enum import StrEnum


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
