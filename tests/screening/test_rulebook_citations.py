"""Every rule in screening/ cites the section of docs/rules.md that explains it (issue 10)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import screening

RULES_MD = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
SECTION = re.compile(r"§(R\d+(?:\.\d+)?)")
RULE_PREFIXES = ("decide", "find_", "check_", "establishes_", "make_deadline", "repeats_within")


def _modules() -> list:  # type: ignore[type-arg]
    return [
        importlib.import_module(f"screening.{m.name}")
        for m in pkgutil.iter_modules(screening.__path__)
    ]


def test_the_rulebook_document_is_in_the_repository() -> None:
    text = RULES_MD.read_text(encoding="utf-8")
    for article in ("第五条第二款", "第六条", "第十五条第五款", "第十五条第二款第（三）项",
                    "第四十八条", "第二条"):
        assert article in text


def test_every_module_and_rule_cites_an_existing_section() -> None:
    sections = set(re.findall(r"\*\*(R\d+\.\d+)|^## (R\d+)", RULES_MD.read_text("utf-8"), re.M))
    known = {a or b for a, b in sections}
    known |= {s.split(".")[0] for s in known}
    missing = []
    for module in _modules():
        cited = SECTION.findall(module.__doc__ or "")
        if not cited and "docs/rules.md" not in (module.__doc__ or ""):
            missing.append(module.__name__)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or not name.startswith(RULE_PREFIXES):
                continue
            refs = SECTION.findall(fn.__doc__ or "") or cited
            if not refs:
                missing.append(f"{module.__name__}.{name}")
            assert all(r in known for r in refs), (module.__name__, name, refs)
    assert missing == []
