"""Layers point down: a module imports only from layers below its own (docs/architecture.md).

Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Bottom (0) to top. A unit imports units of a lower rank, and itself; never its own rank or above.
#: The case store (`bot.handoff.store`, `bot.handoff.settings`) sits below the report events, which
#: sit below the rest of the handoff (the service records events in the case store's database).
RANKS = {
    "bot.risk": 0,
    "bot.settings": 0,
    "bot.telegram": 0,  # the Bot API layer: python-telegram-bot (and its httpx), the standard library
    "bot.posters": 0,
    "bot.rasa_speed": 0,
    "bot.nlu": 1,
    "bot.slots": 1,
    "bot.api_token": 1,
    "bot.privacy": 2,
    "bot.content": 2,
    "bot.directory": 2,
    "bot.handoff.store": 3,
    "bot.reports": 4,
    "bot.handoff": 5,
    "bot.channels": 6,
    "bot.stores": 7,
    "actions": 7,
    "scripts": 8,
}
CASE_STORE = {"bot.handoff.store", "bot.handoff.settings"}


def unit_of(module: str) -> str:
    parts = module.split(".")
    if ".".join(parts[:3]) in CASE_STORE:
        return "bot.handoff.store"
    if parts[0] == "bot":
        return ".".join(parts[:2]) if len(parts) > 1 else "bot"
    return parts[0]


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def sources() -> list[Path]:
    return sorted(p for folder in ("bot", "actions", "scripts") for p in (ROOT / folder).rglob("*.py"))


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    here = unit_of(module_of(path)) if not module_of(path).startswith("scripts") else "scripts"
    if here == "bot":  # bot/__init__.py installs the log redaction for every process
        return
    wrong = []
    for line, name in imports(path):
        top = name.split(".")[0]
        if top == "tests":
            if here != "scripts" or not name.startswith("tests.support"):
                wrong.append(
                    f"line {line}: {name} (only scripts import tests.support, nothing else of tests/)"
                )
            continue
        if top not in ("bot", "actions", "scripts"):
            continue
        there = unit_of(name)
        if there != here and RANKS.get(there, 99) >= RANKS[here]:
            wrong.append(
                f"line {line}: {name} ({there}, rank {RANKS.get(there)}) from {here} (rank {RANKS[here]})"
            )
    assert not wrong, "\n".join(wrong)


def test_the_telegram_layer_imports_only_python_telegram_bot_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"telegram", "httpx", "bot"}
    for path in (ROOT / "bot" / "telegram").glob("*.py"):
        for line, name in imports(path):
            assert name.split(".")[0] in allowed, f"{path.name}:{line} imports {name}"
            if name.startswith("bot."):
                assert name.startswith("bot.telegram."), f"{path.name}:{line} imports {name}"


def test_every_unit_has_a_rank() -> None:
    units = {unit_of(module_of(p)) for p in sources() if not module_of(p).startswith("scripts")}
    assert units - {"bot"} <= set(RANKS), sorted(units - set(RANKS))
