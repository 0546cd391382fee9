"""The whole handoff with the fake Bot API and no trained model.

A child discloses on Telegram -> the action opens an urgent case -> an alert with "Nhận ca" reaches
the counsellors' group -> a stranger's claim is refused -> a counsellor claims (alert edited, child
told) -> the child's message is relayed -> the counsellor's Telegram reply reaches the child and the
conversation history -> /dong closes. Plus: a restart in the middle, Telegram failing then recovering
(alert delivered once), timeouts, and the counsellor HTTP API for a REST child.
"""

from __future__ import annotations

import asyncio
import json

from rasa.shared.core.events import BotUttered, UserUttered

from actions.handoff import ActionCreateCase, ActionCreateUrgentCase
from bot.channels.counsellor import CounsellorInput
from bot.handoff import texts
from bot.handoff.store import CLAIMED, CLOSED, OPEN, HandoffStore
from tests.support import fake_bot_api as tg
from tests.support import handoff_harness as harness
from tests.support.handoff_harness import (
    RecordingRasa,
    alerts,
    channels,
    child_tracker,
    markup_data,
    run_action,
    wait_for_text,
)

CHILD_SENDER = f"tg:{harness.CHILD}"


async def test_telegram_child_to_counsellor_and_back(fake_api, handoff_env, tmp_path) -> None:
    rasa = RecordingRasa()
    # 1. The child discloses; after utter_self_harm (domain.yml), the action opens an urgent case at once.
    said = await run_action(
        ActionCreateUrgentCase(),
        child_tracker(CHILD_SENDER, "telegram", ["chào", "em muốn chết, số em 0912345678, tên em là Lan"]),
    )
    assert said == [texts.CASE_CREATED_URGENT] and "111" in said[0] and "115" in said[0]
    # 2. The alert, with its claim button, is already in the counsellors' group (sent by the action).
    [alert] = alerts(fake_api)
    assert (
        "[Ca #1]" in alert["text"] and "KHẨN CẤP" in alert["text"] and "disclose_self_harm" in alert["text"]
    )
    assert "0912345678" not in alert["text"] and "Lan" not in alert["text"] and "[SĐT]" in alert["text"]
    assert markup_data(alert) == ["handoff:claim:1"]
    store = HandoffStore()
    alert_message_id = store.sent_results(1, "send")[0]["message_id"]

    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, rasa):
        # 3. A stranger in the group cannot claim.
        assert (
            await served.telegram_update(
                harness.button(1, harness.STRANGER, "handoff:claim:1", alert_message_id)
            )
        ).status_code == 200
        refused = fake_api.calls_of("answerCallbackQuery")[-1]
        assert refused["text"] == texts.NOT_ALLOWED
        assert store.get(1).status == OPEN
        # 4. A counsellor claims: the alert is edited, the child is told.
        await served.telegram_update(
            harness.button(2, harness.COUNSELLOR, "handoff:claim:1", alert_message_id)
        )
        case = store.get(1)
        assert case.status == CLAIMED and case.counsellor == f"tg:{harness.COUNSELLOR}"
        edit = fake_api.calls_of("editMessageText")[-1]
        assert int(edit["message_id"]) == alert_message_id and "Đã được nhận" in edit["text"]
        assert markup_data(edit) == ["handoff:close:1"]
        await wait_for_text(fake_api, harness.CHILD, texts.CLAIMED)
    # 5. Restart in the middle of the case: new channels, same database.
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, rasa):
        # 6. The child's message goes to the counsellors, not to the bot.
        await served.telegram_update(tg.text(10, harness.CHILD, "em sợ lắm, nhà em ở 12 Lê Lợi"))
        await wait_for_text(fake_api, harness.GROUP, "[Ca #1] em sợ lắm")
        assert rasa.texts == []
        assert any(isinstance(e, UserUttered) for e in await served.agent.events(CHILD_SENDER))
        # 7. The counsellor answers by replying to the relayed message: the child gets it.
        mapped = _relay_ids(store)
        assert mapped and store.case_of_message(harness.GROUP, mapped[-1]) == 1
        await served.telegram_update(
            harness.group_message(11, harness.STRANGER, "để tôi trả lời", reply_to=mapped[-1])
        )
        await wait_for_text(fake_api, harness.GROUP, texts.NOT_ALLOWED)
        await served.telegram_update(
            harness.group_message(
                12, harness.COUNSELLOR, "Cô đây, em đang ở chỗ an toàn chứ?", reply_to=mapped[-1]
            )
        )
        await wait_for_text(
            fake_api, harness.CHILD, texts.COUNSELLOR_PREFIX + "Cô đây, em đang ở chỗ an toàn chứ?"
        )
        bot_texts = [e.text for e in await served.agent.events(CHILD_SENDER) if isinstance(e, BotUttered)]
        assert texts.COUNSELLOR_PREFIX + "Cô đây, em đang ở chỗ an toàn chứ?" in bot_texts
        # 8. A new imminent disclosure during the relay still reaches Rasa (111) and is relayed.
        await served.telegram_update(tg.text(13, harness.CHILD, "em muốn chết"))
        assert rasa.texts == ["em muốn chết"]
        # 9. /dong closes: a stranger cannot, a counsellor can; the child is told.
        await served.telegram_update(harness.group_message(14, harness.STRANGER, "/dong 1"))
        assert store.get(1).status == CLAIMED
        await served.telegram_update(harness.group_message(15, harness.COUNSELLOR, "/dong 1"))
        assert store.get(1).status == CLOSED
        await wait_for_text(fake_api, harness.CHILD, "kết thúc cuộc trò chuyện")
    kinds = [e.kind for e in store.get(1, with_history=True).history]
    assert kinds[:2] == ["created", "claimed"] and "counsellor_message" in kinds and kinds[-1] == "closed"
    assert "Lê Lợi" not in json.dumps(store.get(1, with_history=True).to_json(True), ensure_ascii=False)


def _relay_ids(store: HandoffStore) -> list[int]:
    """Message ids of the relayed child messages of case 1 (the ones a counsellor replies to)."""
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("select message_id from handoff_outbox where kind = 'relay' and case_id = 1")
        )
        return [r[0] for r in rows]


async def test_telegram_down_during_an_alert_then_delivered_once(fake_api, handoff_env) -> None:
    fake_api.fail_next("sendMessage", status=502, retry_after=None, description="Bad Gateway")
    said = await run_action(
        ActionCreateCase(), child_tracker("web-7", "rest", ["có người dọa tung ảnh"], "high")
    )
    assert said == [texts.CASE_CREATED]
    assert alerts(fake_api) == []
    store = HandoffStore()
    assert store.pending_outbox() == 1
    counsellor = CounsellorInput()
    app = type("App", (), {"ctx": type("Ctx", (), {"agent": harness.StubAgent(), "input_channels": []})()})()
    await counsellor.run_once(app)  # too early: the retry delay has not passed
    assert alerts(fake_api) == []
    await asyncio.sleep(1.1)
    await counsellor.run_once(app)
    await counsellor.run_once(app)
    assert len(alerts(fake_api)) == 1 and store.pending_outbox() == 0
    assert "Cao" in alerts(fake_api)[0]["text"]


async def test_no_counsellor_configured_gives_111(fake_api, handoff_env, monkeypatch) -> None:
    monkeypatch.delenv("COUNSELLOR_CHAT_ID")
    said = await run_action(ActionCreateCase(), child_tracker("web-8", "rest", ["em buồn"], "low"))
    assert said == [texts.NO_COUNSELLOR] and "111" in said[0]
    assert HandoffStore().queue()[0].priority == "normal"  # the case still exists for the API
    assert fake_api.calls_of("sendMessage") == []


async def test_store_down_still_gives_111(fake_api, handoff_env, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    said = await run_action(ActionCreateUrgentCase(), child_tracker("web-9", "rest", ["em muốn chết"]))
    assert said == [texts.STORE_DOWN] and "111" in said[0]


def _age_case(store: HandoffStore, case_id: int, minutes: float) -> None:
    """Pretend the case has waited `minutes` (no sleeping in tests)."""
    import datetime as dt

    import sqlalchemy as sa

    from bot.handoff.store import utcnow

    with store.engine.begin() as conn:
        conn.execute(
            sa.text("update handoff_cases set waiting_since = :t where id = :id"),
            {"t": utcnow() - dt.timedelta(minutes=minutes), "id": case_id},
        )


async def test_unclaimed_case_is_realerted_then_overdue(fake_api, handoff_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HANDOFF_TIMEOUT_MIN", "5")
    await run_action(ActionCreateCase(), child_tracker(CHILD_SENDER, "telegram", ["bị bắt nạt"], "medium"))
    assert len(alerts(fake_api)) == 1
    store = HandoffStore()
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        await counsellor.run_once(served.app)
        assert len(alerts(fake_api)) == 1
        _age_case(store, 1, 5.5)
        await counsellor.run_once(served.app)
        assert "Nhắc lại" in alerts(fake_api)[-1]["text"] and "Chờ: 5 phút" in alerts(fake_api)[-1]["text"]
        await wait_for_text(fake_api, harness.CHILD, texts.TIMEOUT)
        await counsellor.run_once(served.app)
        assert len(alerts(fake_api)) == 2  # once per level
        _age_case(store, 1, 10.5)
        await counsellor.run_once(served.app)
        assert "QUÁ HẠN" in alerts(fake_api)[-1]["text"] and len(alerts(fake_api)) == 3
        assert store.get(1).to_json()["overdue"] is True
        assert sum(texts.TIMEOUT in t for t in fake_api.sent_texts(harness.CHILD)) == 1


async def test_counsellor_http_api_for_a_rest_child(fake_api, handoff_env, tmp_path) -> None:
    await run_action(
        ActionCreateCase(), child_tracker("web-1", "rest", ["tụi nó chửi em", "mail em a@b.vn"], "medium")
    )
    await run_action(ActionCreateUrgentCase(), child_tracker("web-2", "rest", ["em muốn chết"]))
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        base = served.url + "/webhooks/counsellor/cases"
        assert (await served.client.get(base)).status_code == 401
        assert (await served.client.get(base, headers=served.api_headers("wrong"))).status_code == 401
        listed = (await served.client.get(base + "?status=open", headers=served.api_headers())).json()[
            "cases"
        ]
        assert [c["priority"] for c in listed] == ["urgent", "normal"]  # queue order
        case_id = listed[1]["id"]
        assert "[EMAIL]" in listed[1]["summary"] and "a@b.vn" not in listed[1]["summary"]
        body = {"counsellor": "Lan"}
        message = {"counsellor": "Lan", "text": "Chào em, cô là tư vấn viên."}
        url = f"{base}/{case_id}"
        assert (
            await served.client.post(url + "/message", json=message, headers=served.api_headers())
        ).status_code == 409
        claimed = await served.client.post(url + "/claim", json=body, headers=served.api_headers())
        assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
        again = await served.client.post(
            url + "/claim", json={"counsellor": "Minh"}, headers=served.api_headers()
        )
        assert again.status_code == 409
        sent = await served.client.post(url + "/message", json=message, headers=served.api_headers())
        assert sent.status_code == 200 and sent.json()["delivered"] is False  # REST: in the tracker only
        bot_texts = [e.text for e in await served.agent.events("web-1") if isinstance(e, BotUttered)]
        assert bot_texts[-1] == texts.COUNSELLOR_PREFIX + message["text"] and texts.CLAIMED in bot_texts
        closed = await served.client.post(url + "/close", json=body, headers=served.api_headers())
        assert closed.json()["status"] == "closed"
        full = (await served.client.get(url, headers=served.api_headers())).json()
        assert [e["kind"] for e in full["history"]] == ["created", "claimed", "counsellor_message", "closed"]
        for key in (
            "id",
            "created_at",
            "priority",
            "risk_category",
            "channel",
            "summary",
            "status",
            "counsellor",
        ):
            assert key in full
        assert (await served.client.get(base + "/999", headers=served.api_headers())).status_code == 404


async def test_api_disabled_without_token(fake_api, handoff_env, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("COUNSELLOR_API_TOKEN")
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        reply = await served.client.get(
            served.url + "/webhooks/counsellor/cases", headers=served.api_headers("x")
        )
        assert reply.status_code == 503


async def test_child_cancels_a_waiting_request(fake_api, handoff_env) -> None:
    from actions.handoff import ActionCancelHandoff

    tracker = child_tracker(CHILD_SENDER, "telegram", ["cho em gặp tư vấn viên"], "none")
    assert await run_action(ActionCreateCase(), tracker) == [texts.CASE_CREATED]
    said = await run_action(ActionCancelHandoff(), tracker)
    assert said == [texts.CANCELLED] and "111" in said[0]
    store = HandoffStore()
    assert store.get(1).status == CLOSED
    assert [e.kind for e in store.get(1, with_history=True).history] == ["created", "cancelled"]
    assert "đã hủy" in fake_api.calls_of("editMessageText")[-1]["text"]
    assert await run_action(ActionCancelHandoff(), tracker) == [texts.NOTHING_TO_CANCEL]
    # Asking again re-opens the same case and alerts the counsellors again.
    assert await run_action(ActionCreateCase(), tracker) == [texts.CASE_CREATED]
    assert store.get(1).status == OPEN and len(alerts(fake_api)) == 2


async def test_an_adult_reporting_hears_the_notice_in_an_adults_voice(
    fake_api, handoff_env, monkeypatch
) -> None:
    monkeypatch.delenv("COUNSELLOR_CHAT_ID")
    tracker = child_tracker("web-10", "rest", ["con tôi để lại thư rồi tắt máy"], "imminent")
    tracker.slots["reporter"] = "adult"
    said = await run_action(ActionCreateUrgentCase(), tracker)
    assert len(said) == 1 and "anh/chị" in said[0] and "111" in said[0] and "115" in said[0]
    assert "Bạn gọi" not in said[0]
