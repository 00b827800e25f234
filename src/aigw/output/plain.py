"""Data as plain text on a terminal: the one helper every table and line of aigw goes through.

Key names, model names, revision names, Azure error messages and log lines come from Azure, Key
Vault or the gateway's stdout (partly written by clients). Printed as they are, `[red]` would be
Rich markup and ESC, CR or an OSC 8 hyperlink would reach the terminal: a name could clear the
screen, forge a line or hide a link. `clean` shows every control character as a visible escape
(`\\x1b`, `\\r`, `\\u202e`); `plain` wraps the result in a rich `Text`, which Rich never parses
for markup or emoji codes. JSON output keeps the raw values (json.dumps escapes them).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# C0 but tab (newline separately), DEL, C1 (0x9b is a one-byte CSI on some terminals), and the
# bidirectional overrides and isolates that reorder what a line shows (CVE-2021-42574).
_UNSAFE = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_UNSAFE}\n]")
_CONTROL_KEEP_NEWLINES = re.compile(f"[{_UNSAFE}]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\x1b": "\\x1b"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(value: object, *, newlines: bool = False) -> str:
    """`value` as a string whose control characters are visible escapes (`\\x1b`); a newline is
    kept only with `newlines=True` (a multi-line cell), else it is shown as `\\n`."""
    text = "" if value is None else str(value)
    pattern = _CONTROL_KEEP_NEWLINES if newlines else _CONTROL
    return pattern.sub(_visible, text)


def plain(value: object, *, newlines: bool = False, style: str = "") -> Text:
    """`clean(value)` as a rich Text: printed or put in a table cell, never parsed as markup."""
    from rich.text import Text

    return Text(clean(value, newlines=newlines), style=style)
