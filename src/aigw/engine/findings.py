"""A doctor finding: one check, its verdict and its fix (plain data, shared by the doctor's
checks in `engine.doctor` and `engine.doctor_pull`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False  # ok for the exit code, but shown as WARN with its fix

    @property
    def level(self) -> str:
        return "fail" if not self.ok else "warn" if self.warn else "ok"

    def line(self) -> str:
        label = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[self.level]
        text = f"{label}  {self.check}: {self.detail}"
        if self.fix:
            text += f" -> fix: {self.fix}"
        return " ".join(text.split())

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "level": self.level,
            "detail": self.detail,
            "fix": self.fix,
        }
