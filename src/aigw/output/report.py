"""Renderers: a Plan, an apply run, outputs and smoke results as rich tables or Markdown.

They take plain values (Plan, steps, dicts) and never compute anything themselves. Every value
in a table cell goes through aigw.output.plain: names, states and messages come from Azure, so
Rich markup in them is shown as text and control characters as escapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from aigw.engine.plan import Action, Change, Plan
from aigw.output.github import markdown_table, summary_section
from aigw.output.plain import plain

ACTION_STYLE = {
    Action.create: "green",
    Action.update: "yellow",
    Action.recover: "cyan",
    Action.register: "cyan",
    Action.restart: "magenta",
    Action.repair: "yellow",
    Action.delete: "red",
    Action.purge: "bold red",
    Action.noop: "dim",
}


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, default=str)


def _short(v: Any, width: int | None = 60) -> str:
    text = _value(v)
    if re.fullmatch(r"[0-9a-f]{64}", text):
        return text[:12]  # a sha256: enough to tell two apart
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def list_diff(before: Any, after: Any) -> str | None:
    """`+added -removed` between two comma-separated lists (AIGW_MODELS); None if not lists."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return None
    if "," not in before + after or any(c.isspace() for c in before + after):
        return None
    was = [x for x in before.split(",") if x]
    now = [x for x in after.split(",") if x]
    changed = [f"+{x}" for x in now if x not in was] + [f"-{x}" for x in was if x not in now]
    return " ".join(changed) if changed else f"order {before} → {after}"


def diff_lines(change: Change, width: int | None = 60) -> list[str]:
    """One line per field diff; `width` cuts long values (None: never, as without a terminal)."""
    lines = []
    for d in change.diffs:
        items = list_diff(d.before, d.after)
        if items is not None:
            lines.append(f"{d.path}: {items}")
        else:
            lines.append(f"{d.path}: {_short(d.before, width)} → {_short(d.after, width)}")
    return lines


def plan_table(plan: Plan, *, show_noop: bool = False, width: int | None = 60) -> Table:
    title = f"{'destroy' if plan.destroy else 'plan'} for {plan.env} (checksum {plan.checksum})"
    table = Table(title=plain(title), title_justify="left", expand=False)
    table.add_column("action")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("details")
    for c in plan.changes:
        if c.action is Action.noop and not show_noop and not c.reason:
            continue
        details = "\n".join(diff_lines(c, width) + ([c.reason] if c.reason else []))
        if c.unsafe:
            details = (details + "\n" if details else "") + f"UNSAFE: {c.unsafe}"
        table.add_row(
            Text(c.action.value, style=ACTION_STYLE[c.action]),
            c.kind.value,
            plain(c.name),
            plain(details, newlines=True, style="red" if c.unsafe else ""),
        )
    return table


def plan_summary_line(plan: Plan) -> str:
    if not plan.has_changes:
        return f"{plan.env}: no changes ({len(plan.changes)} resources checked)"
    counts = ", ".join(f"{n} {a}" for a, n in sorted(plan.counts().items()) if a != "no-op")
    return f"{plan.env}: {counts}"


def print_plan(console: Console, plan: Plan) -> None:
    if plan.has_changes or any(c.reason for c in plan.changes):
        console.print(plan_table(plan, width=60 if console.is_terminal else None))
    console.print(plain(plan_summary_line(plan)))


def plan_markdown(plan: Plan) -> str:
    rows = [
        [
            c.action.value,
            c.kind.value,
            f"`{c.name}`",
            "<br>".join(
                diff_lines(c, None)
                + ([c.reason] if c.reason else [])
                + ([f"**unsafe**: {c.unsafe}"] if c.unsafe else [])
            ),
        ]
        for c in plan.changes
        if c.is_write or c.reason
    ]
    body = plan_summary_line(plan) + f" · checksum `{plan.checksum}`\n\n"
    if rows:
        body += markdown_table(["action", "kind", "name", "details"], rows)
    title = f"aigw {'destroy' if plan.destroy else 'plan'}: {plan.env}"
    return summary_section(title, body)


def steps_table(steps: Iterable[Any], title: str) -> Table:
    style = {
        "waiting": "dim",
        "working": "yellow",
        "done": "green",
        "failed": "red",
        "skipped": "dim red",
    }
    table = Table(title=plain(title), title_justify="left")
    table.add_column("resource")
    table.add_column("action")
    table.add_column("state")
    table.add_column("time", justify="right")
    table.add_column("")
    for s in steps:
        if not s.change.is_write:
            continue
        table.add_row(
            plain(f"{s.change.kind.value} {s.change.name}"),
            s.change.action.value,
            Text(s.state.value, style=style.get(s.state.value, "")),
            f"{s.seconds:.1f}s" if s.started else "",
            plain(s.message or "", newlines=True, style="dim"),
        )
    return table


def outputs_table(outputs: Mapping[str, Any], title: str = "outputs") -> Table:
    table = Table(title=plain(title), title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    for k, v in outputs.items():
        table.add_row(plain(k), plain(v))
    return table


def outputs_markdown(outputs: Mapping[str, Any], title: str) -> str:
    rows = [[k, "" if v is None else f"`{v}`"] for k, v in outputs.items()]
    return summary_section(title, markdown_table(["output", "value"], rows))


def checks_table(rows: Sequence[Mapping[str, Any]], title: str) -> Table:
    table = Table(title=plain(title), title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("ms", justify="right")
    table.add_column("details")
    for r in rows:
        ok = r["ok"]
        table.add_row(
            plain(r["name"]),
            Text("pass" if ok else "FAIL", style="green" if ok else "bold red"),
            f"{r['ms']:.0f}",
            plain(r.get("details", ""), newlines=True),
        )
    return table


def checks_markdown(rows: Sequence[Mapping[str, Any]], title: str) -> str:
    table = markdown_table(
        ["check", "result", "ms", "details"],
        [
            [r["name"], "✅ pass" if r["ok"] else "❌ FAIL", f"{r['ms']:.0f}", r.get("details", "")]
            for r in rows
        ],
    )
    return summary_section(title, table)


def health_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title="resources", title_justify="left")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("state")
    for r in rows:
        table.add_row(
            plain(r["kind"]),
            plain(r["name"]),
            plain(r["state"], style="green" if r["ok"] else "red"),
        )
    return table


def not_deployed_line(
    env: str, outputs: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> str:
    """Status of an environment with nothing deployed: one line, no names as if they existed."""
    kept = [f"{r['kind']} {r['name']}" for r in rows if r["state"] == "soft-deleted"]
    note = f"; soft-deleted, recoverable by deploy: {', '.join(kept)}" if kept else ""
    return (
        f"{env}: not deployed (resource group {outputs['resource_group']} does not exist or holds "
        f"nothing of aigw's{note}); create it with: aigw deploy --env {env}"
    )
