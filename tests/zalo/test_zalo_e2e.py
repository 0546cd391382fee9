"""End to end with the real bot (`rasa run` + action server + trained model), the fake Zalo API and
the fake Bot API. Slow (uses `trained_model`).

A wrongly signed "e muon chet" is refused and nothing is sent; the signed one is answered with 111
through `/v3.0/oa/message/cs` and opens an urgent case whose alert reaches the counsellors' Telegram
group; a counsellor claims, the child's message is relayed, the counsellor's reply reaches the child on
Zalo, closing asks for feedback (a Zalo button whose title comes back is read as its payload), and
"xóa dữ liệu" on Zalo deletes the conversation and anonymises the case.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from bot.handoff import texts
from bot.telegram.settings import SECRET_HEADER
from tests.support import fake_zalo_api as fz
from tests.support import zalo_harness as zh
from tests.support.servers import ROOT, start_bot

h = zh.handoff
USER, SENDER = zh.USER, zh.SENDER


async def until(check: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_zalo_child_end_to_end(trained_model: str, zalo_api, fake_api, tmp_path: Path) -> None:
    db = tmp_path / "handoff.db"
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DATABASE_URL": f"sqlite:///{db}",
        "ZALO_APP_ID": fz.APP_ID,
        "ZALO_APP_SECRET": fz.APP_SECRET,
        "ZALO_OA_SECRET_KEY": fz.OA_SECRET_KEY,
        "ZALO_ACCESS_TOKEN": fz.FIRST_ACCESS,
        "ZALO_REFRESH_TOKEN": fz.FIRST_REFRESH,
        "ZALO_API_URL": zalo_api.url,
        "ZALO_OAUTH_URL": zalo_api.url,
        "TELEGRAM_TOKEN": fake_api.token,
        "TELEGRAM_API_URL": fake_api.root_url,
        "TELEGRAM_WEBHOOK_SECRET": h.SECRET,
        "TELEGRAM_STATE_DB": str(tmp_path / "telegram.sqlite3"),
        "COUNSELLOR_CHAT_ID": str(h.GROUP),
        "COUNSELLOR_IDS": str(h.COUNSELLOR),
        "COUNSELLOR_API_TOKEN": h.API_TOKEN,
        "HANDOFF_TICK_SECONDS": "0.5",
    }
    bot = await asyncio.to_thread(start_bot, trained_model, tmp_path / "bot", True, env)
    auth = {"Authorization": f"Bearer {h.API_TOKEN}"}
    try:
        async with httpx.AsyncClient(timeout=60) as client:

            async def zalo(event: dict[str, Any], key: str = fz.OA_SECRET_KEY) -> httpx.Response:
                raw, headers = fz.signed(event, key)
                return await client.post(f"{bot.url}/webhooks/zalo/webhook", content=raw, headers=headers)

            async def telegram(update: dict[str, Any]) -> None:
                reply = await client.post(
                    f"{bot.url}/webhooks/telegram/webhook", json=update, headers={SECRET_HEADER: h.SECRET}
                )
                assert reply.status_code == 200, reply.text

            def texts_to_child() -> list[str]:
                return zalo_api.texts_to(USER)

            assert (await client.get(f"{bot.url}/webhooks/zalo/")).json() == {"status": "ok"}
            # --- a wrongly signed event: refused, nothing sent -----------------------------------
            refused = await zalo(fz.event("user_send_text", text="e muon chet"), key="not-the-oa-secret-key")
            assert refused.status_code == 401
            await asyncio.sleep(1.0)
            assert zalo_api.requests == []
            # --- the signed disclosure: 111 (and 115) on Zalo, an urgent case, an alert ----------
            started = time.monotonic()
            accepted = await zalo(fz.event("user_send_text", text="e muon chet"))
            assert accepted.status_code == 200 and accepted.json() == {"status": "accepted"}
            await until(lambda: any("111" in t for t in texts_to_child()), "111 on Zalo")
            print(f"signed event -> 111 on Zalo: {time.monotonic() - started:.2f} s")
            said = " ".join(texts_to_child())
            assert "115" in said and all(r.path == "/v3.0/oa/message/cs" for r in zalo_api.sends(USER))
            await until(lambda: texts.CASE_CREATED_URGENT in texts_to_child(), "the case notice")
            alert = await until(
                lambda: [t for t in fake_api.sent_texts(h.GROUP) if "Ca mới" in t], "the alert"
            )
            assert "[Ca #1]" in alert[0] and "KHẨN CẤP" in alert[0] and "Kênh: zalo" in alert[0]
            tracker = (await client.get(f"{bot.url}/conversations/{SENDER}/tracker")).json()
            assert tracker["latest_input_channel"] == "zalo" and tracker["slots"]["risk_level"] == "imminent"
            # --- claim, relay, the counsellor's reply on Zalo ---------------------------------------
            with sqlite3.connect(db) as conn:
                alert_id = conn.execute(
                    "select message_id from handoff_outbox where case_id = 1 and kind = 'send'"
                ).fetchone()[0]
            await telegram(h.button(1, h.COUNSELLOR, "handoff:claim:1", alert_id))
            await until(lambda: texts.CLAIMED in texts_to_child(), "the child told of the claim")
            await zalo(fz.event("user_send_text", text="em đang ở nhà một mình"))
            await until(lambda: "[Ca #1] em đang ở nhà một mình" in fake_api.sent_texts(h.GROUP), "the relay")
            with sqlite3.connect(db) as conn:
                relay_id = conn.execute(
                    "select message_id from handoff_outbox where case_id = 1 and kind = 'relay'"
                ).fetchone()[0]
            await telegram(
                h.group_message(2, h.COUNSELLOR, "Cô đây. Em có an toàn không?", reply_to=relay_id)
            )
            reply = texts.COUNSELLOR_PREFIX + "Cô đây. Em có an toàn không?"
            await until(lambda: reply in texts_to_child(), "the counsellor's reply on Zalo")
            # --- close: feedback question with Zalo buttons; the pressed title is read as /affirm ---
            await telegram(h.group_message(3, h.COUNSELLOR, "/dong 1"))
            question = await until(
                lambda: [
                    r.body["message"]
                    for r in zalo_api.sends(USER)
                    if "có giúp được bạn" in r.body["message"].get("text", "")
                ],
                "the feedback question",
            )
            buttons = question[-1]["attachment"]["payload"]["buttons"]
            assert [b["title"] for b in buttons] == ["Có, giúp được", "Chưa giúp được"]
            await zalo(fz.event("user_send_text", text=buttons[0]["payload"]))
            await until(
                lambda: any("Cảm ơn bạn đã cho mình biết" in t for t in texts_to_child()), "the thanks"
            )
            case = (await client.get(f"{bot.url}/webhooks/counsellor/cases/1", headers=auth)).json()
            assert [e["kind"] for e in case["history"]][-1] == "feedback" and case["history"][-1][
                "detail"
            ] == "helpful"
            # --- delete my data, on Zalo ---------------------------------------------------------------
            await zalo(fz.event("user_send_text", text="xóa dữ liệu"))
            await asyncio.sleep(0.5)
            await zalo(fz.event("user_send_text", text="có"))
            await until(lambda: any("đã xóa" in t for t in texts_to_child()), "the deletion")
            case = (await client.get(f"{bot.url}/webhooks/counsellor/cases/1", headers=auth)).json()
            assert case["conversation_id"] == "deleted:1" and case["summary"] == ""
            assert all(e["detail"] is None for e in case["history"])
            events = (await client.get(f"{bot.url}/conversations/{SENDER}/tracker")).json()["events"]
            assert not [e for e in events if e["event"] in ("user", "bot")]
            with sqlite3.connect(db) as conn:  # the inbox keeps no text and no user id
                rows = conn.execute("select status, payload from zalo_events").fetchall()
                assert rows and {r[0] for r in rows} == {"done"} and {r[1] for r in rows} == {None}
    finally:
        await asyncio.to_thread(bot.stop)
