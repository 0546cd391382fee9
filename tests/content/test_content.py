"""The content files (content/*.yml) are complete and every reply built from them fits Telegram.

A social worker edits these files; this test is what tells them they broke something.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from bot.content import answers
from bot.content.library import BANDS, library
from bot.content.match import haystack

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
TELEGRAM_LIMIT = 4096
HARM_TOPICS = {"strangers", "cyberbullying", "scams", "images", "location"}
HARM_GUIDES = {"signs_grooming", "signs_bullying", "signs_self_harm", "child_victim"}
lib = library()


def every_reply():
    """Every reply the teaching actions can build from the content, with a label."""
    for role in (None, answers.PARENT, answers.TEACHER):
        for tip in lib.tips:
            for band in BANDS:
                yield f"tip {tip.id} {band} {role}", answers.tip(tip, band, role)
    for band in (None, *BANDS):
        yield f"tip menu {band}", answers.tip_menu(lib, band)
    for guide in lib.guides:
        yield f"guide {guide.id}", answers.parent_answer(lib, guide.id, None, "")
    yield "parent menu", answers.parent_menu(lib)
    yield "app menu", answers.app_menu(lib)
    for app in lib.apps:
        for age in (None, 7, 12, 16):
            for role in (answers.CHILD, answers.PARENT):
                yield f"app {app.id} {age} {role}", answers.app_guide(app, age, role)
    for band in BANDS:
        for index, question in enumerate(lib.quiz[band]):
            yield f"quiz {band} {question.id}", answers.quiz_question(lib, band, index)
            for choice in range(1, len(question.options) + 1):
                yield (
                    f"quiz {band} {question.id} {choice}",
                    answers.Reply(answers.quiz_feedback(lib, band, index, choice)[1]),
                )
    yield "ask band", answers.ask_band()
    yield "ask role", answers.ask_role()
    yield "main menu", answers.main_menu()
    yield "teacher menu", answers.teacher_menu(lib)
    yield "teacher lesson, no band", answers.teacher_answer(lib, "lesson", None, "")
    for band in BANDS:
        yield f"lesson pack {band}", answers.lesson_pack(lib, band)
    for guide in lib.teacher_guides:
        yield f"teacher guide {guide.id}", answers.teacher_answer(lib, guide.id, None, "")


REPLIES = list(every_reply())


def test_counts_the_issue_asks_for() -> None:
    assert len(lib.tips) >= 12 and len(lib.guides) >= 12 and len(lib.apps) >= 15
    assert all(len(lib.quiz[band]) >= 10 for band in BANDS)


@pytest.mark.parametrize("tip", lib.tips, ids=lambda t: t.id)
def test_every_tip_has_every_band_and_a_source(tip) -> None:
    assert set(tip.bands) == set(BANDS)
    assert all(len(tip.bands[b]) >= 80 for b in BANDS), "a band's text is empty or too short"
    assert tip.sources and tip.keywords and 0 < len(tip.title) <= 40
    if tip.id in HARM_TOPICS:
        assert all("111" in tip.bands[b] for b in BANDS)


@pytest.mark.parametrize("guide", lib.guides, ids=lambda g: g.id)
def test_every_guide_speaks_to_parents_and_has_a_source(guide) -> None:
    assert "anh/chị" in guide.text.lower() and guide.sources and guide.keywords
    if guide.id in HARM_GUIDES:
        assert "111" in guide.text


@pytest.mark.parametrize("app", lib.apps, ids=lambda a: a.id)
def test_every_app_has_an_age_rule_risks_settings_and_sources(app) -> None:
    assert app.min_age is None or 0 < app.min_age <= 18
    assert app.min_age is not None or app.min_age_note, "no minimum age: say why in min_age_note"
    assert app.risks and app.settings and app.sources and app.aliases and app.younger


@pytest.mark.parametrize("band", BANDS)
def test_quiz_questions_are_answerable(band) -> None:
    ids = [q.id for q in lib.quiz[band]]
    assert len(set(ids)) == len(ids)
    for q in lib.quiz[band]:
        assert 2 <= len(q.options) <= 4 and 1 <= q.answer <= len(q.options)
        assert q.question and q.explain and q.topic in {t.id for t in lib.tips}


def test_keywords_are_folded_lowercase() -> None:
    words = [k for t in lib.tips for k in t.keywords] + [k for g in lib.guides for k in g.keywords]
    words += [a for app in lib.apps for a in app.aliases]
    bad = [w for w in words if w != w.lower() or not w.isascii()]
    assert bad == [], f"keywords must be lowercase without diacritics: {bad}"
    assert all(f" {w} " in haystack(w) for w in words if re.fullmatch(r"[a-z0-9 ]+", w))


@pytest.mark.parametrize("label,reply", REPLIES, ids=[label for label, _ in REPLIES])
def test_every_reply_fits_telegram_and_every_button_leads_somewhere(label, reply) -> None:
    assert reply.text.strip() and len(reply.text) <= TELEGRAM_LIMIT
    for b in reply.buttons:
        assert b["title"].strip()
        match = re.fullmatch(r"/(\w+)(\{.*\})?", b["payload"])
        assert match, b["payload"]
        assert match.group(1) in DOMAIN["intents"], f"{b['payload']}: no such intent"
        for name, value in json.loads(match.group(2) or "{}").items():
            assert name in DOMAIN["entities"]
            known = {
                "topic": {t.id for t in lib.tips}
                | {g.id for g in lib.guides}
                | {g.id for g in lib.teacher_guides}
                | {"lesson"},
                "app": {a.id for a in lib.apps} | {"all"},
                "age_band": set(BANDS),
                "role": {"child", "parent", "teacher"},
                "choice": {"1", "2", "3", "4"},
            }[name]
            assert value in known, f"{b['payload']}: {value!r} leads nowhere"


def test_teacher_kit_covers_what_the_issue_asks() -> None:
    disclosure = lib.teacher_guide("teacher_disclosure").text.lower()
    for must in ("lắng nghe", "không hứa giữ bí mật", "không tra hỏi", "báo ngay", "111"):
        assert must in disclosure, must
    assert "111" in lib.teacher_guide("teacher_signs").text
    for band in BANDS:  # each plan names only real tips, and the quiz of the band
        plans = lib.lessons[band]
        assert plans["short"] and plans["long"] and all(lib.tip(t) for t in plans["short"] + plans["long"])
        pack = answers.lesson_pack(lib, band).text
        assert "Tiết 15 phút" in pack and "Tiết 45 phút" in pack and "111" in pack
        assert f"{len(lib.quiz[band])} câu" in pack
        lesson_topics = set(plans["short"] + plans["long"])
        on_topic = [q for q in lib.quiz[band] if q.topic in lesson_topics]
        assert on_topic and all(
            q.question in pack for q in on_topic[:3]
        )  # the quick quiz is about the lesson
        assert all(lib.tip(t).title in pack for t in plans["long"])
