"""Every fact with an age or a number in content/*.yml carries `source:` and `checked_on:`.

A social worker must be able to re-check each number the bot states (a minimum age, a time limit, a rating).
Each entry (a tip topic, a parent guide, an app, a quiz question) lists its facts:

    facts:
      - fact: "Google: ở Việt Nam, tự quản lý Tài khoản Google từ 15 tuổi"
        source: "Google – Yêu cầu về độ tuổi – https://support.google.com/accounts/answer/1350409"
        checked_on: "2026-11-29"

and every number with a unit of age, time or rating in the entry's texts ("15 tuổi", "60 phút", "18+")
must appear in one of its facts. Hotline numbers (111, 113, 115), step numbers and years are not such facts.

Usage: python scripts/validate_content.py [CONTENT_DIR]; exit status 1 with one line per problem.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# A number (or a range "13-15") followed by a unit of age, time or an age rating ("12+").
CLAIM = re.compile(
    r"(?<![\d/.])(\d+)(?:\s*[-–]\s*(\d+))?\s*(\+|tuổi|phút|giờ|tiếng|ngày|tháng|năm tuổi|ký tự|%)(?!\w)",
    re.IGNORECASE,
)


def claims(text: str) -> Iterator[str]:
    """The numbers in `text` that state an age, a duration, a length or a rating."""
    for match in CLAIM.finditer(text or ""):
        yield match.group(1)
        if match.group(2):
            yield match.group(2)


def _texts(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def check_entry(label: str, entry: dict, fields: tuple[str, ...]) -> list[str]:
    problems: list[str] = []
    facts = entry.get("facts") or []
    known = set()
    for n, fact in enumerate(facts, start=1):
        if not isinstance(fact, dict) or not str(fact.get("fact") or "").strip():
            problems.append(f"{label}: fact {n} has no text")
            continue
        if not str(fact.get("source") or "").strip():
            problems.append(f"{label}: fact {n} ({fact['fact']!r}) has no source")
        checked = str(fact.get("checked_on") or "")
        try:
            dt.date.fromisoformat(checked)
        except ValueError:
            problems.append(
                f"{label}: fact {n} ({fact['fact']!r}) needs checked_on: YYYY-MM-DD, got {checked!r}"
            )
        known.update(re.findall(r"\d+", str(fact["fact"])))
    numbers = [num for field in fields for text in _texts(entry.get(field)) for num in claims(text)]
    if entry.get("min_age") is not None:
        numbers.append(str(entry["min_age"]))
    for num in sorted(set(numbers) - known, key=int):
        problems.append(
            f"{label}: the number {num} (an age, a time or a rating) has no fact with source and checked_on"
        )
    return problems


def validate(directory: Path) -> list[str]:
    def read(name: str) -> dict:
        return yaml.safe_load((directory / name).read_text(encoding="utf-8")) or {}

    problems: list[str] = []
    for tip in read("tips.yml").get("topics") or []:
        problems += check_entry(f"tips.yml {tip.get('id')}", tip, ("title", "bands"))
    for guide in read("parents.yml").get("topics") or []:
        problems += check_entry(f"parents.yml {guide.get('id')}", guide, ("title", "text"))
    for app in read("apps.yml").get("apps") or []:
        problems += check_entry(
            f"apps.yml {app.get('id')}",
            app,
            ("name", "min_age_note", "rating", "risks", "settings", "younger"),
        )
    for band, questions in (read("quiz.yml").get("bands") or {}).items():
        for q in questions or []:
            problems += check_entry(f"quiz.yml {band} {q.get('id')}", q, ("question", "options", "explain"))
    return problems


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else ROOT / "content"
    problems = validate(directory)
    for line in problems:
        print(line)
    print(f"content facts: {len(problems)} problem(s) in {directory}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
