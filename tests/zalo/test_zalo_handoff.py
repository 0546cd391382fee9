"""Handoff for a Zalo child, with the fake Zalo API and the fake Bot API (no trained model).

The child writes on Zalo -> the urgent case's alert reaches the counsellors' Telegram group -> a
counsellor claims (the child is told on Zalo) -> the child's message is relayed -> the counsellor's
Telegram reply reaches the child on Zalo. After Zalo's 48-hour window a reply is not dropped: the
counsellor is told in the group (and by the API) that the child must write again, and the case shows it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rasa.shared.core.events import BotUttered, UserUttered

from actions.handoff import ActionCreateUrgentCase
from bot.channels.counsellor import CounsellorInput
from bot.channels.telegram import TelegramInput
from bot.channels.zalo import ZaloInput
from bot.channels.zalo_client import OUTSIDE_WINDOW_REASON
from bot.handoff import texts
from bot.handoff.store import CLAIMED, HandoffStore
from bot.telegram.settings import TelegramSettings
from tests.support import fake_zalo_api as fz
from tests.support import zalo_harness as zh
from tests.support.handoff_harness import child_tracker, run_action

h = zh.handoff
USER, SENDER = zh.USER, zh.SENDER


async def until(check: Any, what: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def group_texts(fake_api: Any) -> list[str]:
    return fake_api.sent_texts(h.GROUP)


async def setup(zalo_api: Any, fake_api: Any, tmp_path: Any):
    telegram = TelegramInput(
        TelegramSettings(
            token=fake_api.token,
            api_url=fake_api.api_url,
            webhook_secret=h.SECRET,
            state_db=tmp_path / "telegram.sqlite3",
        )
    )
    rasa = zh.StandInRasa()
    async for s in zh.serve(ZaloInput(zh.zalo_settings(zalo_api)), rasa, telegram, CounsellorInput()):
        rasa.agent = s.agent
        yield s, rasa


async def open_case(s: Any, rasa: Any) -> int:
    """The child discloses on Zalo; Rasa answers with 111 and runs action_create_urgent_case."""
    assert (await s.post_event(fz.event("user_send_text", text="e muon chet"))).status_code == 200
    await s.settle()
    said = await run_action(ActionCreateUrgentCase(), child_tracker(SENDER, "zalo", ["e muon chet"]))
    assert said == [texts.CASE_CREATED_URGENT]
    return 1


async def claim(s: Any, fake_api: Any, case_id: int) -> None:
    alert_id = HandoffStore().sent_results(case_id, "send")[0]["message_id"]
    await s.client.post(
        s.url + "/webhooks/telegram/webhook",
        json=h.button(1, h.COUNSELLOR, f"handoff:claim:{case_id}", alert_id),
        headers={"X-Telegram-Bot-Api-Secret-Token": h.SECRET},
    )


async def test_zalo_child_to_telegram_counsellors_and_back(zalo_api, fake_api, handoff_env, tmp_path) -> None:
    async for s, rasa in setup(zalo_api, fake_api, tmp_path):
        case_id = await open_case(s, rasa)
        assert zalo_api.texts_to(USER) == [zh.StandInRasa.SELF_HARM]
        [alert] = [t for t in group_texts(fake_api) if "Ca mới" in t]
        assert "[Ca #1]" in alert and "KHẨN CẤP" in alert and "Kênh: zalo" in alert
        await claim(s, fake_api, case_id)
        assert HandoffStore().get(case_id).status == CLAIMED
        await until(lambda: texts.CLAIMED in zalo_api.texts_to(USER), "the child told of the claim, on Zalo")
        # The child's next message goes to the counsellors, not to the bot.
        await s.post_event(fz.event("user_send_text", text="em sợ lắm"))
        await s.settle()
        await until(lambda: "[Ca #1] em sợ lắm" in group_texts(fake_api), "the relay")
        assert rasa.texts == ["e muon chet"]
        relay_id = [r for r in HandoffStore().sent_results(case_id, "relay")][-1]["message_id"]
        # The counsellor replies in Telegram: the child gets it on Zalo, as a customer-service message.
        await s.client.post(
            s.url + "/webhooks/telegram/webhook",
            json=h.group_message(2, h.COUNSELLOR, "Cô đây, em đang ở đâu?", reply_to=relay_id),
            headers={"X-Telegram-Bot-Api-Secret-Token": h.SECRET},
        )
        reply = texts.COUNSELLOR_PREFIX + "Cô đây, em đang ở đâu?"
        await until(lambda: reply in zalo_api.texts_to(USER), "the counsellor's reply on Zalo")
        assert zalo_api.sends(USER)[-1].path == "/v3.0/oa/message/cs"
        bot_said = [e.text for e in await s.agent.events(SENDER) if isinstance(e, BotUttered)]
        assert reply in bot_said
        history = [e.kind for e in HandoffStore().get(case_id, with_history=True).history]
        assert history == ["created", "claimed", "child_message", "counsellor_message"]


async def age_conversation(agent: Any, hours: float) -> None:
    """Make the child's last message `hours` old (the in-memory tracker store keeps the events)."""
    tracker = await agent.tracker_store.retrieve(SENDER)
    for event in tracker.events:
        if isinstance(event, UserUttered):
            event.timestamp = time.time() - hours * 3600
    await agent.tracker_store.save(tracker)


async def test_after_48_hours_the_counsellor_is_told_the_child_must_write_again(
    zalo_api, fake_api, handoff_env, tmp_path
) -> None:
    async for s, rasa in setup(zalo_api, fake_api, tmp_path):
        case_id = await open_case(s, rasa)
        await claim(s, fake_api, case_id)
        await until(lambda: texts.CLAIMED in zalo_api.texts_to(USER), "the claim notice")
        alert_id = HandoffStore().sent_results(case_id, "send")[0]["message_id"]
        before = len(zalo_api.requests)
        await age_conversation(s.agent, 49)
        await s.client.post(
            s.url + "/webhooks/telegram/webhook",
            json=h.group_message(3, h.COUNSELLOR, "Em còn đó không?", reply_to=alert_id),
            headers={"X-Telegram-Bot-Api-Secret-Token": h.SECRET},
        )
        notice = await until(lambda: [t for t in group_texts(fake_api) if "Chưa gửi được" in t], "the notice")
        assert notice == [texts.unreachable_text(case_id, OUTSIDE_WINDOW_REASON)]
        assert "nhắn lại" in notice[0] and "48 giờ" in notice[0]
        assert len(zalo_api.requests) == before  # nothing was attempted on Zalo
        bot_said = [e.text for e in await s.agent.events(SENDER) if isinstance(e, BotUttered)]
        assert texts.COUNSELLOR_PREFIX + "Em còn đó không?" not in bot_said  # never shown as delivered
        history = HandoffStore().get(case_id, with_history=True).history
        assert [(e.kind, e.detail) for e in history][-2:] == [
            ("counsellor_message", "Em còn đó không?"),
            ("undelivered", OUTSIDE_WINDOW_REASON),
        ]
        # When the child writes again (relayed to the counsellor), the window opens again.
        await s.post_event(fz.event("user_send_text", text="em đây"))
        await s.settle()
        await until(lambda: "[Ca #1] em đây" in group_texts(fake_api), "the relay")
        await s.client.post(
            s.url + "/webhooks/telegram/webhook",
            json=h.group_message(5, h.COUNSELLOR, "Em còn đó không?", reply_to=alert_id),
            headers={"X-Telegram-Bot-Api-Secret-Token": h.SECRET},
        )
        await until(
            lambda: texts.COUNSELLOR_PREFIX + "Em còn đó không?" in zalo_api.texts_to(USER), "the reply"
        )


async def test_zalo_refusing_outside_the_window_is_reported_too(
    zalo_api, fake_api, handoff_env, tmp_path
) -> None:
    """Zalo's own answer (-213) counts, even when the conversation looks recent."""
    async for s, rasa in setup(zalo_api, fake_api, tmp_path):
        case_id = await open_case(s, rasa)
        await claim(s, fake_api, case_id)
        await until(lambda: texts.CLAIMED in zalo_api.texts_to(USER), "the claim notice")
        zalo_api.outside_window.add(USER)
        alert_id = HandoffStore().sent_results(case_id, "send")[0]["message_id"]
        await s.client.post(
            s.url + "/webhooks/telegram/webhook",
            json=h.group_message(4, h.COUNSELLOR, "Chào em", reply_to=alert_id),
            headers={"X-Telegram-Bot-Api-Secret-Token": h.SECRET},
        )
        await until(lambda: [t for t in group_texts(fake_api) if "Chưa gửi được" in t], "the notice")
        assert [r.answer["error"] for r in zalo_api.requests][-1] == -213
        kinds = [e.kind for e in HandoffStore().get(case_id, with_history=True).history]
        assert kinds[-2:] == ["counsellor_message", "undelivered"]


async def test_the_api_reports_the_window_with_409(zalo_api, fake_api, handoff_env, tmp_path) -> None:
    async for s, rasa in setup(zalo_api, fake_api, tmp_path):
        case_id = await open_case(s, rasa)
        api = f"{s.url}/webhooks/counsellor/cases/{case_id}"
        headers = {"Authorization": f"Bearer {h.API_TOKEN}"}
        assert (
            await s.client.post(f"{api}/claim", json={"counsellor": "Lan"}, headers=headers)
        ).status_code == 200
        await age_conversation(s.agent, 50)
        sent = await s.client.post(
            f"{api}/message", json={"counsellor": "Lan", "text": "Chào em"}, headers=headers
        )
        assert sent.status_code == 409
        assert sent.json() == {
            "delivered": False,
            "queued": False,
            "case": case_id,
            "error": OUTSIDE_WINDOW_REASON,
        }
        history = (await s.client.get(api, headers=headers)).json()["history"]
        assert history[-1] == {**history[-1], "kind": "undelivered", "detail": OUTSIDE_WINDOW_REASON}
