"""End to end with the real bot (`rasa run` + action server + trained model) and the fake Bot API.

Slow (uses `trained_model`). A child discloses over REST and another over Telegram; cases are
created with the right priority, alerts with "Nhận ca" reach the counsellors' group, an unauthorised
claim is refused, an authorised one works, both children's messages are relayed, the counsellor's
Telegram reply and API message reach the children (Telegram chat / REST tracker), closing tells the
child and asks one feedback question, and "xóa dữ liệu" leaves only an anonymous case.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path

import httpx

from bot.handoff import texts
from bot.telegram.settings import SECRET_HEADER, WEBHOOK_PATH
from tests.support import fake_bot_api as tg
from tests.support import handoff_harness as harness
from tests.support.servers import ROOT, start_bot


async def _until(check, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _texts(replies: list) -> str:
    return " ".join(r.get("text") or "" for r in replies)


async def test_children_reach_a_counsellor_end_to_end(trained_model: str, fake_api, tmp_path: Path) -> None:
    db = tmp_path / "handoff.db"
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DATABASE_URL": f"sqlite:///{db}",
        "TELEGRAM_TOKEN": fake_api.token,
        "TELEGRAM_API_URL": fake_api.root_url,
        "TELEGRAM_WEBHOOK_SECRET": harness.SECRET,
        "TELEGRAM_STATE_DB": str(tmp_path / "telegram.sqlite3"),
        "COUNSELLOR_CHAT_ID": str(harness.GROUP),
        "COUNSELLOR_IDS": str(harness.COUNSELLOR),
        "COUNSELLOR_API_TOKEN": harness.API_TOKEN,
        "HANDOFF_TICK_SECONDS": "0.5",
    }
    bot = await asyncio.to_thread(start_bot, trained_model, tmp_path / "bot", True, env)
    auth = {"Authorization": f"Bearer {harness.API_TOKEN}"}
    api = f"{bot.url}/webhooks/counsellor/cases"
    try:
        async with httpx.AsyncClient(timeout=60) as client:

            async def rest(sender: str, text: str) -> str:
                reply = await client.post(
                    f"{bot.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                )
                return _texts(reply.json())

            async def telegram(update: dict) -> None:
                reply = await client.post(
                    bot.url + WEBHOOK_PATH, json=update, headers={SECRET_HEADER: harness.SECRET}
                )
                assert reply.status_code == 200, reply.text

            def group_alerts() -> list[str]:
                return [t for t in fake_api.sent_texts(harness.GROUP) if "Ca mới" in t]

            # --- a REST child: imminent -> urgent case at once, 111 and 115 in the same turn --------
            started = time.monotonic()
            said = await rest("web-e2e", "e muon chet")
            assert "111" in said and "115" in said and texts.CASE_CREATED_URGENT in said
            await _until(lambda: group_alerts(), "the urgent alert")
            print(f"disclosure -> alert sendMessage: {time.monotonic() - started:.2f} s")
            assert "[Ca #1]" in group_alerts()[0] and "KHẨN CẤP" in group_alerts()[0]
            assert (await client.get(api)).status_code == 401
            [case] = (await client.get(api + "?status=open", headers=auth)).json()["cases"]
            assert case["priority"] == "urgent" and case["channel"] == "rest" and case["status"] == "open"
            claim = await client.post(f"{api}/1/claim", json={"counsellor": "Lan"}, headers=auth)
            assert claim.json()["status"] == "claimed"
            sent = await client.post(
                f"{api}/1/message", json={"counsellor": "Lan", "text": "Cô đây."}, headers=auth
            )
            assert sent.json() == {"delivered": False, "queued": False, "case": 1}
            events = (await client.get(f"{bot.url}/conversations/web-e2e/tracker")).json()["events"]
            assert texts.COUNSELLOR_PREFIX + "Cô đây." in [
                e.get("text") for e in events if e["event"] == "bot"
            ]
            # the REST child's answer goes to the counsellors, not to the bot
            assert await rest("web-e2e", "em đang ở nhà một mình") == ""
            await _until(
                lambda: "[Ca #1] em đang ở nhà một mình" in fake_api.sent_texts(harness.GROUP), "REST relay"
            )
            # the counsellor closes: the child is told (111) and asked one question; "có" is thanked and kept
            closed = await client.post(f"{api}/1/close", json={"counsellor": "Lan"}, headers=auth)
            assert closed.json()["status"] == "closed"
            events = (await client.get(f"{bot.url}/conversations/web-e2e/tracker")).json()["events"]
            bot_said = [e for e in events if e["event"] == "bot"][-2:]
            assert "kết thúc" in bot_said[0]["text"] and "111" in bot_said[0]["text"]
            assert [b["payload"] for b in bot_said[1]["data"]["buttons"]] == ["/affirm", "/deny"]
            thanks = await rest("web-e2e", "có")
            assert "Cảm ơn" in thanks and "111" in thanks
            history = (await client.get(f"{api}/1", headers=auth)).json()["history"]
            assert [(e["kind"], e["detail"]) for e in history][-1] == ("feedback", "helpful")
            assert "child_message" in [e["kind"] for e in history]

            # --- a Telegram child: high risk, consents -> high case -> claim -> relay -> reply -> close
            await telegram(tg.text(1, harness.CHILD, "có người dọa tung ảnh nhạy cảm của em"))
            assert any("111" in t for t in fake_api.sent_texts(harness.CHILD))
            await telegram(tg.text(2, harness.CHILD, "có"))
            await _until(lambda: len(group_alerts()) == 2, "the Telegram child's alert")
            assert "[Ca #2]" in group_alerts()[1] and "Cao" in group_alerts()[1]
            with sqlite3.connect(db) as conn:
                alert_id = conn.execute(
                    "select message_id from handoff_outbox where case_id = 2 and kind = 'send'"
                ).fetchone()[0]
            await telegram(harness.button(3, harness.STRANGER, "handoff:claim:2", alert_id))
            assert fake_api.calls_of("answerCallbackQuery")[-1]["text"] == texts.NOT_ALLOWED
            await telegram(harness.button(4, harness.COUNSELLOR, "handoff:claim:2", alert_id))
            await _until(
                lambda: texts.CLAIMED in fake_api.sent_texts(harness.CHILD), "the child told of the claim"
            )
            assert "Đã được nhận" in fake_api.calls_of("editMessageText")[-1]["text"]
            before = len(fake_api.sent_texts(harness.CHILD))
            await telegram(tg.text(5, harness.CHILD, "em sợ lắm"))
            await _until(lambda: "[Ca #2] em sợ lắm" in fake_api.sent_texts(harness.GROUP), "the relay")
            assert len(fake_api.sent_texts(harness.CHILD)) == before  # the bot did not answer itself
            with sqlite3.connect(db) as conn:
                relay_id = conn.execute(
                    "select message_id from handoff_outbox where case_id = 2 and kind = 'relay'"
                ).fetchone()[0]
            await telegram(harness.group_message(6, harness.COUNSELLOR, "Em đang ở đâu?", reply_to=relay_id))
            await _until(
                lambda: texts.COUNSELLOR_PREFIX + "Em đang ở đâu?" in fake_api.sent_texts(harness.CHILD),
                "the counsellor's reply on Telegram",
            )
            events = (await client.get(f"{bot.url}/conversations/tg:{harness.CHILD}/tracker")).json()[
                "events"
            ]
            assert texts.COUNSELLOR_PREFIX + "Em đang ở đâu?" in [
                e.get("text") for e in events if e["event"] == "bot"
            ]
            assert "em sợ lắm" in [e.get("text") for e in events if e["event"] == "user"]
            await telegram(harness.group_message(7, harness.COUNSELLOR, "/dong 2"))
            await _until(
                lambda: any("kết thúc" in t for t in fake_api.sent_texts(harness.CHILD)), "close notice"
            )
            question = await _until(
                lambda: [p for p in fake_api.sent_messages(harness.CHILD) if "có giúp được bạn" in p["text"]],
                "the feedback question",
            )
            assert "inline_keyboard" in str(question[-1].get("reply_markup"))
            await telegram(tg.text(8, harness.CHILD, "không"))
            await _until(
                lambda: any("chuyển lời" in t for t in fake_api.sent_texts(harness.CHILD)), "feedback reply"
            )
            full = (await client.get(f"{api}/2", headers=auth)).json()
            assert full["status"] == "closed" and full["priority"] == "high"
            assert [e["kind"] for e in full["history"]] == [
                "created",
                "claimed",
                "child_message",
                "counsellor_message",
                "closed",
                "feedback",
            ]
            assert full["history"][-1]["detail"] == "not_helpful"

            # --- "xóa dữ liệu": the conversation is gone, the case keeps only anonymous counts
            await telegram(tg.text(9, harness.CHILD, "/xoadulieu"))
            await telegram(tg.text(10, harness.CHILD, "có"))
            await _until(lambda: any("đã xóa" in t for t in fake_api.sent_texts(harness.CHILD)), "deletion")
            full = (await client.get(f"{api}/2", headers=auth)).json()
            assert full["summary"] == "" and all(e["detail"] is None for e in full["history"])
            assert full["conversation_id"] == "deleted:2"
            assert full["priority"] == "high" and full["risk_category"] == "disclose_sexual_exploitation"
            events = (await client.get(f"{bot.url}/conversations/tg:{harness.CHILD}/tracker")).json()[
                "events"
            ]
            assert not [e for e in events if e["event"] in ("user", "bot")]
    finally:
        await asyncio.to_thread(bot.stop)
