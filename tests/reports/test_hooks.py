"""The report events are written where things happen: handoff steps, tips, the quiz, feedback."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handoff import service
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import shared_store
from bot.reports import events
from tests.support.conversation import Conversation


@pytest.fixture()
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    yield shared_store()
    shared_store().dispose()


def kinds() -> list[tuple]:
    month = events.today().strftime("%Y-%m")
    return [
        (
            e["kind"],
            e["category"],
            e["level"],
            e["outcome"],
            e["answer"],
            e["topic"],
            e["age_band"],
            e["score"],
        )
        for e in events.month_events(month)
    ]


def test_handoff_steps_are_counted_once(db):
    settings = HandoffSettings(chat_id=None)
    first = service.request_counsellor(
        db, settings, "child-1", "telegram", "high", "disclose_grooming", ["tôi tên An"]
    )
    service.request_counsellor(
        db, settings, "child-1", "telegram", "high", "disclose_grooming"
    )  # same case: no new count
    service.request_counsellor(
        db, settings, "child-1", "telegram", "imminent", "disclose_self_harm"
    )  # raised: no new count
    service.claim(db, settings, first.case.id, "cv1")
    service.close(db, settings, first.case.id, "cv1")
    service.record_feedback(db, "child-1", helpful=True)
    service.request_counsellor(db, settings, "child-2", "rest", "low", "express_distress")
    service.cancel(db, settings, "child-2")
    assert kinds() == [
        ("case_created", "disclose_grooming", "high", None, None, None, None, None),
        ("case_claimed", None, None, None, None, None, None, None),
        ("case_closed", None, None, None, None, None, None, None),
        ("feedback", None, None, None, "helpful", None, None, None),
        ("case_created", "express_distress", "low", None, None, None, None, None),
        ("case_closed", None, None, "cancelled_by_child", None, None, None, None),
    ]
    # forgetting the child removes nothing from the counts
    service.forget(db, settings, "child-1")
    assert len(kinds()) == 6


async def test_tips_and_a_finished_quiz_are_counted(db):
    chat = Conversation()
    await chat.say("ask_tip", topic="passwords")  # no band yet: asked, not counted
    await chat.say("tell_age", age_band="11-14")
    await chat.say("start_quiz")
    for _ in range(30):  # answer until the quiz ends
        await chat.say("quiz_answer", choice="1")
        if len(kinds()) == 2:
            break
    got = kinds()
    assert got[0][0] == "tip" and got[0][5:7] == ("passwords", "11-14")
    assert got[1][0] == "quiz" and got[1][6] == "11-14" and got[1][7] == chat.slots["quiz_score"]


def test_record_never_raises_when_the_database_is_down(monkeypatch, caplog):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert events.record("feedback", answer="helpful") is False
    assert "report event feedback not recorded" in caplog.text


def test_day_is_vietnam_time():
    late = dt.datetime(2026, 11, 30, 18, 30, tzinfo=dt.timezone.utc)  # 01:30 on 1 Dec in Hà Nội
    assert events.today(late) == dt.date(2026, 12, 1)
