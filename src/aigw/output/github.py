"""GitHub Actions helpers: job summary, annotations, Markdown tables.

Pure functions plus one tiny writer (`append_step_summary`). No heavy imports: this module is
imported by the CLI renderers, which must stay fast for `--help`.

Everything written to the job summary goes through `aigw.redact.redact`, with the secret values
the caller knows plus the values of aigw's secret environment variables
(`aigw.secrets.SECRET_ENV_VARS`) and their table-cell forms. GitHub masks
`secrets.*` in logs, but not in the job summary file, so the summary needs its own redaction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from aigw.redact import redact
from aigw.secrets import SECRET_ENV_VARS

AnnotationLevel = Literal["error", "warning", "notice"]


_LEVELS: frozenset[str] = frozenset({"error", "warning", "notice"})
_NEWLINES = re.compile(r"\r\n|\r|\n")
# A pipe and the backslashes right before it: GFM splits table cells on a pipe that is not
# escaped, and `\\|` is an escaped backslash followed by a delimiter.
_PIPE = re.compile(r"(\\*)\|")


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    """True when running inside a GitHub Actions job."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_ACTIONS") == "true"


def secret_values_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """The non-empty values of `SECRET_ENV_VARS` in the environment."""
    env = os.environ if environ is None else environ
    return [value for name in SECRET_ENV_VARS if (value := env.get(name, ""))]


def with_cell_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret and its table-cell form (a secret holding `|` or a line break is changed by
    `markdown_table`), for `aigw.redact.redact`."""
    return [form for s in secrets if s for form in (s, _cell(s))]


def _cell(value: object) -> str:
    text = _NEWLINES.sub("<br>", str(value))
    return _PIPE.sub(lambda m: m.group(1) * 2 + "\\|", text)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table. Cells may hold any text: `|` is escaped and line
    breaks become `<br>`, so a cell can never break the table's structure."""
    if not headers:
        raise ValueError("a table needs at least one column")
    width = len(headers)
    lines = [
        "| " + " | ".join(_cell(h) for h in headers) + " |",
        "|" + "---|" * width,
    ]
    for index, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"row {index} has {len(row)} cells, the table has {width} columns")
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def _escape_data(value: str) -> str:
    # Same escaping as @actions/core's command.ts (escapeData).
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    # Same escaping as @actions/core's command.ts (escapeProperty).
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(level: AnnotationLevel, message: str, title: str | None = None) -> str:
    """A workflow command line such as `::error title=Deploy failed::message`."""
    if level not in _LEVELS:
        raise ValueError(f"annotation level must be error, warning or notice, not {level!r}")
    props = f" title={_escape_property(title)}" if title else ""
    return f"::{level}{props}::{_escape_data(message)}"


def summary_section(title: str, body_markdown: str) -> str:
    """A job-summary section: a level-3 heading (kept on one line) and the body."""
    heading = " ".join(title.split())
    body = body_markdown.rstrip("\n")
    return f"### {heading}\n\n{body}\n\n" if body else f"### {heading}\n\n"


def append_step_summary(
    markdown: str,
    secrets: Iterable[str] = (),
    *,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Append Markdown to the job summary (the file named by `GITHUB_STEP_SUMMARY`).

    The text is redacted first (the given secrets plus the values of `SECRET_ENV_VARS`).
    Returns False, writing nothing, when not in a job or when the file cannot be written: a
    summary must never be the reason a deploy fails.
    """
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY", "")
    if not path:
        return False
    text = redact(markdown, with_cell_forms([*secrets, *secret_values_from_env(env)]))
    if not text.endswith("\n"):
        text += "\n"
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        return False
    return True
