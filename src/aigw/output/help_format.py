"""`--help` that shows every command's summary whole (wrapped), never cut with "...".

Click shortens each summary to what fits beside the longest command name at 80 columns; a
summary cut mid-sentence hides what the command does. This group wraps it instead.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

NO_LIMIT = 10_000


class WholeSummaryGroup(TyperGroup):
    """A typer group whose command list shows each first sentence in full."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            rows.append((name, cmd.get_short_help_str(limit=NO_LIMIT)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
