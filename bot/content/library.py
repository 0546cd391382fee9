"""The teaching content: tips, parent guides, the app guide and the quiz, read from `content/*.yml`.

The YAML files are the one home of what the bot teaches (social workers edit them, no Python);
this module only reads them, once per process. `CONTENT_DIR` points elsewhere (tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.content.settings import ContentSettings

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "content"
BANDS = ("6-10", "11-14", "15-17")


@dataclass(frozen=True)
class Tip:
    id: str
    title: str
    keywords: tuple[str, ...]
    sources: tuple[str, ...]
    bands: dict[str, str] = field(hash=False, compare=False)


@dataclass(frozen=True)
class Guide:
    id: str
    title: str
    keywords: tuple[str, ...]
    sources: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class App:
    id: str
    name: str
    aliases: tuple[str, ...]
    min_age: int | None
    min_age_note: str
    rating: str
    risks: tuple[str, ...]
    settings: tuple[str, ...]
    younger: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    question: str
    options: tuple[str, ...]
    answer: int  # 1-based, as in the file
    explain: str


@dataclass(frozen=True)
class Library:
    tips: tuple[Tip, ...]
    guides: tuple[Guide, ...]
    apps: tuple[App, ...]
    quiz: dict[str, tuple[Question, ...]] = field(hash=False, compare=False)
    #: The teacher's kit (content/teachers.yml): guides, and per band the tip ids of the 15- and 45-minute plans.
    teacher_guides: tuple[Guide, ...] = ()
    lessons: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, hash=False, compare=False)

    def teacher_guide(self, topic_id: str | None) -> Guide | None:
        return next((g for g in self.teacher_guides if g.id == topic_id), None)

    def tip(self, topic_id: str | None) -> Tip | None:
        return next((t for t in self.tips if t.id == topic_id), None)

    def guide(self, topic_id: str | None) -> Guide | None:
        return next((g for g in self.guides if g.id == topic_id), None)

    def app(self, app_id: str | None) -> App | None:
        return next((a for a in self.apps if a.id == app_id), None)


def _read(directory: Path, name: str) -> dict:
    with open(directory / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _tuple(values: list | None) -> tuple:
    return tuple(str(v).strip() for v in values or ())


def _text(value: object) -> str:
    return str(value or "").strip()


def load(directory: Path | None = None) -> Library:
    """Read every content file (raises on a missing file or field: tests/content checks them)."""
    directory = Path(directory or ContentSettings.from_env().content_dir or DEFAULT_DIR)
    tips = tuple(
        Tip(
            t["id"],
            _text(t["title"]),
            _tuple(t.get("keywords")),
            _tuple(t.get("sources")),
            {band: _text(text) for band, text in (t.get("bands") or {}).items()},
        )
        for t in _read(directory, "tips.yml")["topics"]
    )
    guides = tuple(
        Guide(
            g["id"], _text(g["title"]), _tuple(g.get("keywords")), _tuple(g.get("sources")), _text(g["text"])
        )
        for g in _read(directory, "parents.yml")["topics"]
    )
    apps = tuple(
        App(
            a["id"],
            _text(a["name"]),
            _tuple(a.get("aliases")),
            a.get("min_age"),
            _text(a.get("min_age_note")),
            _text(a.get("rating")),
            _tuple(a.get("risks")),
            _tuple(a.get("settings")),
            _text(a.get("younger")),
            _tuple(a.get("sources")),
        )
        for a in _read(directory, "apps.yml")["apps"]
    )
    quiz = {
        band: tuple(
            Question(
                q["id"],
                q["topic"],
                _text(q["question"]),
                _tuple(q["options"]),
                int(q["answer"]),
                _text(q["explain"]),
            )
            for q in questions or ()
        )
        for band, questions in (_read(directory, "quiz.yml")["bands"] or {}).items()
    }
    teachers = _read(directory, "teachers.yml") if (directory / "teachers.yml").is_file() else {}
    teacher_guides = tuple(
        Guide(
            g["id"], _text(g["title"]), _tuple(g.get("keywords")), _tuple(g.get("sources")), _text(g["text"])
        )
        for g in teachers.get("guides") or ()
    )
    lessons = {
        band: {k: _tuple(v) for k, v in plans.items()}
        for band, plans in (teachers.get("lessons") or {}).items()
    }
    return Library(tips, guides, apps, quiz, teacher_guides, lessons)


@lru_cache(maxsize=4)
def _cached(directory: str) -> Library:
    return load(Path(directory))


def library() -> Library:
    """The content of this process (read once; restart the action server after an edit)."""
    return _cached(str(ContentSettings.from_env().content_dir or DEFAULT_DIR))
