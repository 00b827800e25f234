"""Terminal and JSON output. Results go to stdout, progress and errors to stderr.

Rich drops colour by itself when the stream is not a terminal (CI logs) or NO_COLOR is set.
Without a terminal nothing is wrapped or cut either: Rich would assume 80 columns, and a CI log
would show half a plan diff or a command split over two lines ($COLUMNS still wins).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console

from aigw.output.formats import OutputFormat
from aigw.output.plain import clean, plain
from aigw.redact import redact

# Results printed so far: an error after a JSON result adds no second document to stdout.
results_printed = 0


class UI:
    def __init__(self, fmt: OutputFormat = OutputFormat.text) -> None:
        self.format = fmt
        self.out = console(stderr=False)
        self.err = console(stderr=True)

    @property
    def is_json(self) -> bool:
        return self.format is OutputFormat.json

    @property
    def interactive(self) -> bool:
        return sys.stdin.isatty() and self.err.is_terminal

    def result(self, data: Any, text: Callable[[Console], None] | None = None) -> None:
        """Print a command's result: JSON for machines, `text(console)` for people."""
        global results_printed
        results_printed += 1
        if self.is_json or text is None:
            sys.stdout.write(redact(json.dumps(data, indent=2, sort_keys=False, default=str)))
            sys.stdout.write("\n")
            sys.stdout.flush()
        else:
            text(self.out)

    def info(self, message: str) -> None:
        """A progress line for people (stderr, so JSON on stdout stays clean). Messages may
        quote Azure's or the gateway's words: plain text, control characters made visible."""
        self.err.print(plain(redact(message), newlines=True))

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/] {_esc(clean(redact(message), newlines=True))}")

    def error(self, message: str) -> None:
        self.err.print(f"[bold red]error:[/] {_esc(clean(redact(message), newlines=True))}")


# Wide enough for any line aigw prints; tables only take the width their cells need.
UNWRAPPED_WIDTH = 10_000


def console(*, stderr: bool) -> Console:
    """A console for stdout or stderr; without a terminal it neither wraps nor truncates."""
    found = Console(stderr=stderr, highlight=False, soft_wrap=stderr)
    if found.is_terminal or os.environ.get("COLUMNS"):
        return found
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=UNWRAPPED_WIDTH)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)
