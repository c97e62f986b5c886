"""Warnings a decision carries: a stable code for machines, a Chinese message for officers
(docs/rules.md: every rule that flags a lead names its warning code)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Notice:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}
