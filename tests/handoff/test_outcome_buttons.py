"""The outcome of a case, asked on Telegram when a counsellor closes it (issue 15 part 1; docs/district.md).

Real button flow against the fake Bot API: close -> the question message -> one tap per question (the
message edited each time) -> the outcome recorded once with the right codes. Also: every question
skipped (the case stays "missing outcome"), a stranger's tap refused, a second record answered politely,
a restart between taps, and a question that Telegram refuses never undoing the close.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from actions.handoff import ActionCreateCase
from bot.channels import telegram_outcome
from bot.channels.telegram_outcome import Draft, Stale
from bot.handoff import access, outcomes, service, texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import CLOSED, HandoffStore
from bot.reports import events
from bot.telegram.client import TelegramSender, make_bot
from bot.telegram.settings import TelegramSettings
from tests.support import handoff_harness as harness
from tests.support.handoff_harness import RecordingRasa, channels, child_tracker, markup_data, run_action

COUNSELLOR = harness.COUNSELLOR
OTHER_COUNSELLOR = 901  # in COUNSELLOR_IDS of handoff_env


def titles(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def question(api: Any, case_id: int) -> tuple[int, dict[str, Any]]:
    """The outcome question sent about a case: its Telegram message id and sendMessage parameters."""
    for call in api.calls:
        ours = any(d.startswith(f"handoff:outcome:{case_id}:") for d in markup_data(call.params))
        if call.method == "sendMessage" and call.status == 200 and ours:
            return int(call.result["message_id"]), call.params
    raise AssertionError(f"no outcome question for case {case_id}: {api.sent_texts(harness.GROUP)}")


def last(api: Any, method: str) -> dict[str, Any]:
    return api.calls_of(method)[-1]


async def open_telegram_case() -> tuple[HandoffStore, int]:
    """A child's case on Telegram, alerted to the group; returns the store and the alert's message id."""
    await run_action(
        ActionCreateCase(), child_tracker(f"tg:{harness.CHILD}", "telegram", ["có người dọa em"], "high")
    )
    store = HandoffStore()
    return store, store.sent_results(1, "send")[0]["message_id"]


async def tap(served: Any, update_id: int, data: str, message_id: int, user: int = COUNSELLOR) -> None:
    reply = await served.telegram_update(harness.button(update_id, user, data, message_id))
    assert reply.status_code == 200, reply.text


async def test_close_asks_and_records_one_tap_each(fake_api, handoff_env, tmp_path) -> None:
    store, alert_id = await open_telegram_case()
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        await tap(served, 1, "handoff:claim:1", alert_id)
        await served.telegram_update(harness.group_message(2, COUNSELLOR, "/dong 1"))
        assert store.get(1).status == CLOSED
        # 1. The first question, as a new message naming the case, with one button per outcome and "Bỏ qua".
        qid, asked = question(fake_api, 1)
        assert int(asked["chat_id"]) == harness.GROUP and asked["text"].startswith("[Ca #1] Ca đã đóng.")
        assert texts.OUTCOME_QUESTIONS["outcome"] in asked["text"]
        assert markup_data(asked) == [f"handoff:outcome:1:{c}" for c in outcomes.OUTCOMES] + [
            "handoff:outcome:1:skip"
        ]
        assert titles(asked) == [
            "Đã hỗ trợ, trẻ an toàn",
            "Đã chuyển gửi",
            "Trẻ không trả lời nữa",
            "Không phải ca thật",
            "Bỏ qua",
        ]
        # 2. Outcome -> the same message now asks for the referral targets.
        await tap(served, 3, "handoff:outcome:1:referred", qid)
        edit = last(fake_api, "editMessageText")
        assert int(edit["message_id"]) == qid and int(edit["chat_id"]) == harness.GROUP
        assert "Kết quả: Đã chuyển gửi" in edit["text"] and texts.OUTCOME_QUESTIONS["ref"] in edit["text"]
        assert markup_data(edit) == [f"handoff:ref:1:{r}" for r in outcomes.REFERRALS] + [
            "handoff:ref:1:done",
            "handoff:ref:1:skip",
        ]
        # 3. Referral targets are toggles: police on, school on, police off again, health on.
        for update_id, code in ((4, "police_113"), (5, "school"), (6, "police_113"), (7, "health")):
            await tap(served, update_id, f"handoff:ref:1:{code}", qid)
        shown = titles(last(fake_api, "editMessageText"))
        assert "✅ Y tế" in shown and "✅ Nhà trường" in shown and "Công an 113" in shown
        assert "✅ Công an 113" not in shown and shown[-2:] == ["Xong", "Bỏ qua"]
        assert outcomes.get(store.engine, 1) is None  # nothing recorded before the last question
        # A tap on a question already answered (the outcome) changes nothing.
        await tap(served, 8, "handoff:outcome:1:not_a_case", qid, user=OTHER_COUNSELLOR)
        assert last(fake_api, "answerCallbackQuery")["text"] == texts.OUTCOME_STALE
        # 4. "Xong" -> who reported; 5. the last tap records the outcome once.
        await tap(served, 9, "handoff:ref:1:done", qid)
        edit = last(fake_api, "editMessageText")
        assert (
            "Chuyển gửi: Y tế, Nhà trường" in edit["text"] and texts.OUTCOME_QUESTIONS["who"] in edit["text"]
        )
        assert titles(edit) == ["Trẻ tự kể", "Cha mẹ", "Thầy cô", "Người lớn khác", "Bỏ qua"]
        await tap(served, 10, "handoff:who:1:teacher", qid)
    assert outcomes.get(store.engine, 1).to_json() == {
        "outcome": "referred",
        "referrals": ["health", "school"],
        "reporter": "teacher",
    }
    edit = last(fake_api, "editMessageText")
    assert int(edit["message_id"]) == qid and not markup_data(
        edit
    )  # the keyboard is gone: nobody records twice
    assert edit["text"].startswith(f"[Ca #1] ✅ Đã ghi kết quả (tg:{COUNSELLOR}).")
    assert "Kết quả: Đã chuyển gửi\nChuyển gửi: Y tế, Nhà trường\nNgười báo: Thầy cô" in edit["text"]
    assert last(fake_api, "answerCallbackQuery")["text"] == texts.OUTCOME_SAVED
    assert service.missing_outcomes(store) == []
    assert (f"tg:{COUNSELLOR}", "outcome") in [(e["actor"], e["action"]) for e in access.audit_log(store, 1)]
    month = events.today().strftime("%Y-%m")
    counted = [
        (e["kind"], e["referral"] or e["reporter"])
        for e in events.month_events(month)
        if e["kind"] in ("case_outcome", "referral")
    ]
    assert counted == [("case_outcome", "teacher"), ("referral", "health"), ("referral", "school")]


async def test_skipping_every_question_leaves_the_case_missing_outcome(
    fake_api, handoff_env, tmp_path
) -> None:
    store, alert_id = await open_telegram_case()
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        await tap(served, 1, "handoff:claim:1", alert_id)
        await tap(served, 2, "handoff:close:1", alert_id)  # the "Đóng ca" button asks too
        assert store.get(1).status == CLOSED
        qid, _ = question(fake_api, 1)
        for update_id, step in ((3, "outcome"), (4, "ref"), (5, "who")):
            await tap(served, update_id, f"handoff:{step}:1:skip", qid)
        edit = last(fake_api, "editMessageText")
        assert edit["text"] == texts.outcome_skipped_text(1) and not markup_data(edit)
        assert last(fake_api, "answerCallbackQuery")["text"] == texts.OUTCOME_SKIPPED
        assert outcomes.get(store.engine, 1) is None
        assert [c.id for c in service.missing_outcomes(store)] == [1]
        listed = await served.client.get(
            served.url + "/webhooks/counsellor/cases?missing_outcome=1", headers=served.api_headers()
        )
        assert [c["id"] for c in listed.json()["cases"]] == [1]


async def test_only_counsellors_may_answer(fake_api, handoff_env, tmp_path, caplog) -> None:
    store, alert_id = await open_telegram_case()
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        await tap(served, 1, "handoff:claim:1", alert_id)
        await served.telegram_update(harness.group_message(2, COUNSELLOR, "/dong 1"))
        qid, _ = question(fake_api, 1)
        edits = len(fake_api.calls_of("editMessageText"))
        with caplog.at_level(logging.WARNING):
            await tap(served, 3, "handoff:outcome:1:not_a_case", qid, user=harness.STRANGER)
        assert last(fake_api, "answerCallbackQuery")["text"] == texts.NOT_ALLOWED
        assert f"user {harness.STRANGER} tried to outcome case 1: refused" in caplog.text
        assert len(fake_api.calls_of("editMessageText")) == edits
        # The question is still the first one: a counsellor's tap goes on from there.
        await tap(served, 4, "handoff:outcome:1:supported_safe", qid)
        assert "Kết quả: Đã hỗ trợ, trẻ an toàn" in last(fake_api, "editMessageText")["text"]
    assert outcomes.get(store.engine, 1) is None


async def test_a_second_record_is_answered_politely(fake_api, handoff_env, tmp_path) -> None:
    store, alert_id = await open_telegram_case()
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        await tap(served, 1, "handoff:claim:1", alert_id)
        await served.telegram_update(harness.group_message(2, COUNSELLOR, "/dong 1"))
        qid, _ = question(fake_api, 1)
        await tap(served, 3, "handoff:outcome:1:referred", qid)
        await tap(served, 4, "handoff:ref:1:done", qid)
        # Meanwhile a colleague records the outcome on the API.
        body = {"outcome": "supported_safe", "referrals": ["111"], "reporter": "parent"}
        saved = await served.client.post(
            served.url + "/webhooks/counsellor/cases/1/outcome", json=body, headers=served.api_headers()
        )
        assert saved.status_code == 200
        await tap(served, 5, "handoff:who:1:child", qid)
        assert last(fake_api, "answerCallbackQuery")["text"] == texts.outcome_already(1)
        edit = last(fake_api, "editMessageText")  # shows what is recorded, not what was tapped
        assert not markup_data(edit) and "Kết quả: Đã hỗ trợ, trẻ an toàn" in edit["text"]
        assert "Người báo: Cha mẹ" in edit["text"]
        # A late tap on the old keyboard (another counsellor's screen): the same polite answer.
        await tap(served, 6, "handoff:who:1:teacher", qid, user=OTHER_COUNSELLOR)
        assert last(fake_api, "answerCallbackQuery")["text"] == texts.outcome_already(1)
    assert outcomes.get(store.engine, 1).to_json() == body


async def test_a_restart_between_taps_loses_nothing(fake_api, handoff_env, tmp_path) -> None:
    store, alert_id = await open_telegram_case()
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        await tap(served, 1, "handoff:claim:1", alert_id)
        await served.telegram_update(harness.group_message(2, COUNSELLOR, "/dong 1"))
        qid, _ = question(fake_api, 1)
        await tap(served, 3, "handoff:outcome:1:stopped_answering", qid)
        await tap(served, 4, "handoff:ref:1:111", qid)
    # New channels and handlers, same databases (what a restart of the process leaves).
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        await tap(served, 5, "handoff:ref:1:platform_takedown", qid, user=OTHER_COUNSELLOR)
        assert "✅ Tổng đài 111" in titles(last(fake_api, "editMessageText"))
        await tap(served, 6, "handoff:ref:1:done", qid)
        await tap(served, 7, "handoff:who:1:skip", qid)
    assert outcomes.get(store.engine, 1).to_json() == {
        "outcome": "stopped_answering",
        "referrals": ["111", "platform_takedown"],
        "reporter": None,
    }
    assert "Người báo: (bỏ qua)" in last(fake_api, "editMessageText")["text"]


async def test_a_refused_question_never_undoes_the_close(fake_api, handoff_env, caplog) -> None:
    store = HandoffStore()
    settings = HandoffSettings(chat_id=None)
    case = service.request_counsellor(store, settings, "web-1", "rest", "high", "disclose_grooming").case
    service.close(store, settings, case.id, f"tg:{COUNSELLOR}")
    telegram_settings = TelegramSettings(
        token=fake_api.token, api_url=fake_api.api_url, webhook_secret=harness.SECRET
    )
    sender = TelegramSender(make_bot(telegram_settings), telegram_settings)
    fake_api.fail_next("sendMessage", status=403, description="Forbidden: bot was kicked from the group chat")
    with caplog.at_level(logging.ERROR):
        await telegram_outcome.ask(store, harness.GROUP, case.id, sender)  # does not raise
    await sender.aclose()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"outcome question for case {case.id} not sent (Forbidden)" in r.getMessage() for r in errors)
    assert store.get(case.id).status == CLOSED
    assert [c.id for c in service.missing_outcomes(store)] == [case.id]


def test_answers_in_turn_and_callback_data_fits_telegram() -> None:
    draft = telegram_outcome.answer(Draft(7), "outcome", "skip")
    assert (draft.step, draft.outcome) == ("ref", None)
    with pytest.raises(Stale):
        telegram_outcome.answer(draft, "who", "child")
    draft = telegram_outcome.answer(telegram_outcome.answer(draft, "ref", "school"), "ref", "111")
    assert draft.referrals == ("111", "school")  # the order of outcomes.REFERRALS, whatever the taps
    assert telegram_outcome.answer(draft, "ref", "skip").referrals == ()
    for step in telegram_outcome.STEPS:
        biggest = Draft(2_147_483_647, step)  # the largest case id of an SQL integer
        data = [b.callback_data for row in telegram_outcome.keyboard(biggest).inline_keyboard for b in row]
        assert data and all(len(d.encode()) <= 64 for d in data)
        assert all(d.rsplit(":", 1)[1] in telegram_outcome.CODES[step] for d in data)


def test_drafts_are_kept_in_the_case_database(store: HandoffStore) -> None:
    """SQLite and PostgreSQL: one draft per case, started afresh at each close, gone once finished."""
    telegram_outcome.start(store, 41)
    assert telegram_outcome.tap(store, 41, "outcome", "referred").step == "ref"
    telegram_outcome.tap(store, 41, "ref", "health")
    with pytest.raises(Stale):
        telegram_outcome.tap(store, 41, "outcome", "not_a_case")
    other = HandoffStore(store.url)  # another process on the same database
    last_answer = telegram_outcome.tap(other, 41, "ref", "done")
    assert (last_answer.outcome, last_answer.referrals) == ("referred", ("health",))
    assert telegram_outcome.tap(other, 41, "who", "parent").reporter == "parent"
    other.dispose()
    assert telegram_outcome.start(store, 41) == Draft(41)  # closed again after a re-open: from the start
    assert telegram_outcome.tap(store, 41, "outcome", "skip") == Draft(41, "ref")
    telegram_outcome.finish(store, 41)
    with pytest.raises(Stale):
        telegram_outcome.tap(store, 41, "ref", "done")
