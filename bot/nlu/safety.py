"""The deterministic safety net: patterns that catch a disclosure the model missed.

Pure Python (no Rasa). The patterns live in ``data/safety_patterns.yml`` so a
counsellor can read and extend them. They are matched against
``normalize_folded(text)``: lower-case, teencode expanded, diacritics folded
("Em bị bắt nạt" and "e bi bat nat" both become "em bi bat nat").

Order of work for one message:
1. blank out figures of speech ("cười chết", "giết thời gian", game kills);
2. find the highest-risk intent whose patterns match;
3. drop it when the message only asks *about* a harm ("dấu hiệu", "làm sao để
   phòng tránh", a school project) and nothing says it happens to the writer
   or their child.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from re import Pattern
from typing import NamedTuple

import yaml

from bot.nlu.normalize import DATA_DIR, TEENCODE_PATH, normalize, normalize_folded
from bot.risk import DISCLOSURE_PRIORITY, level_of, rank

PATTERNS_PATH = DATA_DIR / "safety_patterns.yml"


class Detection(NamedTuple):
    intent: str
    group: str  # the comment of the pattern group that matched
    matched: str  # the matched (folded) text


class _Group(NamedTuple):
    comment: str
    regexes: list[Pattern[str]]  # matched against the folded text
    marked: list[Pattern[str]]  # matched against the text with diacritics (rarely needed)


class _Rules(NamedTuple):
    intents: dict[str, list[_Group]]
    exceptions: list[_Group]
    asking_about: list[_Group]
    hypothetical: list[_Group]
    first_person: list[_Group]
    risk_cue: list[_Group]


def _groups(raw: list[dict]) -> list[_Group]:
    return [
        _Group(
            g.get("comment", ""),
            [re.compile(p) for p in g.get("patterns") or []],
            [re.compile(p) for p in g.get("marked") or []],
        )
        for g in raw or []
    ]


@functools.lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = yaml.safe_load(PATTERNS_PATH.read_text(encoding="utf-8"))
    intents = {name: _groups(groups) for name, groups in data["intents"].items()}
    unknown = set(intents) - set(DISCLOSURE_PRIORITY)
    if unknown:
        raise ValueError(f"{PATTERNS_PATH.name}: unknown intents {sorted(unknown)}")
    return _Rules(
        intents,
        _groups(data.get("exceptions")),
        _groups(data.get("asking_about")),
        _groups(data.get("hypothetical")),
        _groups(data.get("first_person")),
        _groups(data.get("risk_cue")),
    )


def patterns_fingerprint() -> str:
    """Hash of the data files the NLU depends on, so editing them retrains the model."""
    digest = hashlib.sha256()
    for path in (TEENCODE_PATH, PATTERNS_PATH):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def _search(groups: list[_Group], text: str, marked: str = "") -> tuple[_Group, re.Match] | None:
    for group in groups:
        for regex, target in [(r, text) for r in group.regexes] + [(r, marked) for r in group.marked]:
            match = regex.search(target)
            if match:
                return group, match
    return None


def _without_figures_of_speech(text: str) -> str:
    for group in _rules().exceptions:
        for regex in group.regexes:
            text = regex.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _prepare(text: str) -> str:
    # Pad with spaces so patterns may use "\b" or " " at either end.
    return f" {normalize_folded(text or '')} "


def _asks_about_a_harm(folded: str, cleaned: str) -> bool:
    rules = _rules()
    if _search(rules.hypothetical, folded):
        return True
    return bool(_search(rules.asking_about, folded)) and not _search(rules.first_person, cleaned)


def detect(text: str) -> Detection | None:
    """The highest-risk disclosure the patterns see in `text`, or None."""
    folded = _prepare(text)
    cleaned = _without_figures_of_speech(folded)
    marked = normalize(text or "")
    rules = _rules()
    for intent in DISCLOSURE_PRIORITY:
        found = _search(rules.intents.get(intent, []), cleaned, marked)
        if not found:
            continue
        if _asks_about_a_harm(folded, cleaned):
            return None
        group, match = found
        return Detection(intent, group.comment, match.group(0).strip())
    return None


def has_risk_cue(text: str) -> bool:
    """A weaker cue (fear, sadness, threat, "bị ..."): enough to err to safety when the model is unsure."""
    return _search(_rules().risk_cue, _without_figures_of_speech(_prepare(text))) is not None


def decide(text: str, intent: str | None, confidence: float = 0.0) -> str | None:
    """The intent the safety net forces, or None to keep the classifier's.

    Forces only a strictly higher risk level than the classifier's intent; on a
    low-confidence fallback with a risk cue it errs to `express_distress`.
    """
    detection = detect(text)
    if detection and rank(level_of(detection.intent)) > rank(level_of(intent)):
        return detection.intent
    if intent == "nlu_fallback" and detection is None and has_risk_cue(text):
        return "express_distress"
    return None
