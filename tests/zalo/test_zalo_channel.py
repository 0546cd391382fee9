"""The Zalo OA channel against the local fake Zalo API, served by a real Sanic server (no trained model).

Signature good / bad / missing / replayed / another app's; every event kind; exactly-once on msg_id
with at-least-once handling (a failure or a dead process does not lose the message); buttons; long
replies; token refresh on expiry (and before it), single-use refresh tokens kept in the case store;
a failed refresh; the channel off without ZALO_APP_ID.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.zalo import ZaloInput
from bot.channels.zalo_client import CHOOSE_BY_NUMBER, MAX_TEXT, RefreshFailed, ZaloClient
from bot.channels.zalo_settings import ZaloSettings
from bot.channels.zalo_state import ZaloState, event_key
from bot.handoff.store import HandoffStore, utcnow
from bot.telegram import texts
from tests.support import fake_zalo_api as fz
from tests.support import zalo_harness as zh
from tests.support.servers import serving

USER = zh.USER


async def served(api: fz.FakeZaloAPI, rasa: Any = None, **overrides: Any):
    channel = ZaloInput(zh.zalo_settings(api, **overrides))
    rasa = rasa or zh.StandInRasa()
    async for s in zh.serve(channel, rasa):
        rasa.agent = s.agent
        yield s, rasa


# --- signature, replay ----------------------------------------------------------------------------
async def test_a_signed_text_reaches_rasa_and_the_answer_reaches_the_child(zalo_api, db) -> None:
    async for s, rasa in served(zalo_api):
        reply = await s.post_event(fz.event("user_send_text", text="e muon chet"))
        assert reply.status_code == 200 and reply.json() == {"status": "accepted"}
        await s.settle()
        assert rasa.texts == ["e muon chet"]
        [message] = rasa.messages
        assert message.sender_id == f"zalo:{USER}" and message.input_channel == "zalo"
        [sent] = zalo_api.sends(USER)
        assert sent.headers["access_token"] == fz.FIRST_ACCESS
        assert sent.body == {"recipient": {"user_id": USER}, "message": {"text": zh.StandInRasa.SELF_HARM}}
        assert "111" in sent.body["message"]["text"]


@pytest.mark.parametrize(
    "how",
    [
        "wrong key",
        "missing header",
        "body changed",
        "bare hex of a wrong key",
        "another app",
        "replayed",
        "from the future",
    ],
)
async def test_unverified_or_old_events_are_refused_and_nothing_is_sent(zalo_api, db, how, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.channels.zalo")
    event = fz.event("user_send_text", text="e muon chet")
    async for s, rasa in served(zalo_api):
        raw, headers = fz.signed(event)
        if how == "wrong key":
            raw, headers = fz.signed(event, key="not-the-oa-secret")
        elif how == "missing header":
            headers = {"Content-Type": "application/json"}
        elif how == "body changed":
            raw = raw.replace(b"e muon chet", b"e muon choi")
        elif how == "bare hex of a wrong key":
            headers["X-ZEvent-Signature"] = fz.signature(fz.APP_ID, raw, event["timestamp"], "x")[4:]
        elif how == "another app":
            event["app_id"] = "999"
            raw, headers = fz.signed(event)
        elif how == "replayed":  # a genuine, correctly signed event of ten minutes ago
            event["timestamp"] = str(int((time.time() - 600) * 1000))
            raw, headers = fz.signed(event)
        elif how == "from the future":
            event["timestamp"] = str(int((time.time() + 600) * 1000))
            raw, headers = fz.signed(event)
        reply = await s.client.post(s.url + "/webhooks/zalo/webhook", content=raw, headers=headers)
        await s.settle()
        expected = 403 if how in ("another app", "replayed", "from the future") else 401
        assert reply.status_code == expected
        assert rasa.texts == [] and zalo_api.requests == []
    assert any("refused" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


async def test_the_bare_hex_signature_of_the_right_key_is_accepted(zalo_api, db) -> None:
    event = fz.event("user_send_text", text="chao")
    raw, headers = fz.signed(event)
    headers["X-ZEvent-Signature"] = headers["X-ZEvent-Signature"].removeprefix("mac=")
    async for s, rasa in served(zalo_api):
        assert (
            await s.client.post(s.url + "/webhooks/zalo/webhook", content=raw, headers=headers)
        ).status_code == 200
        await s.settle()
        assert rasa.texts == ["chao"]


def test_event_age_in_milliseconds_or_seconds(zalo_api) -> None:
    channel = ZaloInput(zh.zalo_settings(zalo_api))
    now = time.time()
    assert channel.fresh({"timestamp": str(int(now * 1000))}, now)
    assert channel.fresh({"timestamp": str(int(now - 100))}, now)
    assert not channel.fresh({"timestamp": str(int((now - 301) * 1000))}, now)
    assert not channel.fresh({"timestamp": "yesterday"}, now) and not channel.fresh({}, now)


async def test_not_json_is_refused(zalo_api, db) -> None:
    async for s, _ in served(zalo_api):
        reply = await s.client.post(
            s.url + "/webhooks/zalo/webhook", content=b"[1, 2", headers={"X-ZEvent-Signature": "mac=00"}
        )
        assert reply.status_code == 400


async def test_off_without_an_app_id(zalo_api, db) -> None:
    assert not ZaloSettings.from_env({}).enabled
    assert ZaloSettings.from_env({"ZALO_APP_ID": "1"}).enabled
    assert "secret" not in repr(ZaloSettings.from_env({"ZALO_APP_ID": "1", "ZALO_APP_SECRET": "secret"}))
    channel = ZaloInput(ZaloSettings())
    assert channel.get_output_channel() is None
    async for s in zh.serve(channel, zh.StandInRasa()):
        assert (await s.client.get(s.url + "/webhooks/zalo/")).json() == {"status": "disabled"}
        assert (await s.post_event(fz.event("user_send_text", text="chao"))).status_code == 503


# --- every event kind ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "reply"),
    [
        ("user_send_image", texts.MEDIA_PRIVACY),
        ("user_send_gif", texts.MEDIA_PRIVACY),
        ("user_send_file", texts.MEDIA_PRIVACY),
        ("user_send_sticker", texts.STICKER),
        ("user_send_audio", texts.VOICE),
        ("user_send_location", texts.LOCATION),
    ],
)
async def test_media_get_a_kind_reply_and_are_never_downloaded(zalo_api, db, name, reply) -> None:
    url = f"{zalo_api.url}/media/secret-photo.jpg"  # would show in the fake's log if anyone fetched it
    attachments = [{"type": name.removeprefix("user_send_"), "payload": {"url": url, "thumbnail": url}}]
    async for s, rasa in served(zalo_api):
        assert (await s.post_event(fz.event(name, attachments=attachments))).status_code == 200
        await s.settle()
        assert zalo_api.texts_to(USER) == [reply] and "111" in reply
        assert rasa.texts == []
        assert [r.path for r in zalo_api.requests] == ["/v3.0/oa/message/cs"]  # nothing fetched


async def test_a_caption_on_an_image_is_still_read(zalo_api, db) -> None:
    async for s, rasa in served(zalo_api):
        await s.post_event(
            fz.event(
                "user_send_image",
                text="nguoi la doi tung anh nay",
                attachments=[{"type": "image", "payload": {}}],
            )
        )
        await s.settle()
        assert rasa.texts == ["nguoi la doi tung anh nay"]
        assert zalo_api.texts_to(USER)[0] == texts.MEDIA_PRIVACY


async def test_follow_greets_with_the_menu_and_unfollow_does_nothing(zalo_api, db) -> None:
    async for s, rasa in served(zalo_api):
        await s.post_event(fz.event("follow"))
        await s.settle()
        assert rasa.texts == ["/greet"]
        [greeting] = zalo_api.sends(USER)
        assert greeting.body["message"]["text"] == zh.StandInRasa.GREETING
        buttons = greeting.body["message"]["attachment"]["payload"]["buttons"]
        assert [b["title"] for b in buttons] == [b["title"] for b in zh.StandInRasa.MENU]
        assert {b["type"] for b in buttons} == {"oa.query.show"}
        await s.post_event(fz.event("unfollow"))
        await s.post_event(fz.event("user_seen_message"))
        assert (await s.post_event(fz.event("anonymous_send_text", text="chao"))).json() == {
            "status": "ignored"
        }
        await s.settle()
        assert rasa.texts == ["/greet"] and len(zalo_api.requests) == 1


async def test_buttons_come_back_as_payloads_and_commands_cannot_inject_intents(zalo_api, db) -> None:
    async for s, rasa in served(zalo_api):
        await s.post_event(fz.event("follow"))
        await s.settle()
        # A pressed Zalo button sends its title; a digit answers the numbered menu.
        await s.post_event(fz.event("user_send_text", text="Nói chuyện với tư vấn viên"))
        await s.post_event(fz.event("user_send_text", text="1"))
        await s.post_event(fz.event("user_send_text", text="/disclose_self_harm"))
        await s.post_event(fz.event("user_send_text", text="/start"))
        await s.post_event(fz.event("user_send_text", text="7"))
        await s.settle()
        assert rasa.texts == ["/greet", "/request_counsellor", "/ask_tip", "/help", "/greet", "7"]


async def test_long_replies_are_split_and_many_buttons_become_numbered_lines(zalo_api, db) -> None:
    client = ZaloClient(zh.zalo_settings(zalo_api), ZaloState(HandoffStore(), fz.APP_ID))
    try:
        long_text = " ".join(f"Đây là câu số {i} của một câu trả lời rất dài." for i in range(150))
        assert await client.send(USER, long_text) >= 3
        parts = zalo_api.texts_to(USER)
        assert all(len(p) <= MAX_TEXT for p in parts) and " ".join(parts).split() == long_text.split()
        buttons = [{"title": f"Chủ đề {i}", "payload": f"/topic{i}"} for i in range(1, 8)]
        await client.send(USER, "Bạn chọn chủ đề nhé:", buttons)
        last = zalo_api.sends(USER)[-1].body["message"]
        assert "attachment" not in last
        assert (
            "1. Chủ đề 1" in last["text"]
            and "7. Chủ đề 7" in last["text"]
            and CHOOSE_BY_NUMBER in last["text"]
        )
    finally:
        await client.aclose()


# --- exactly once, at least once ------------------------------------------------------------------
async def test_a_repeated_msg_id_is_handled_once(zalo_api, db) -> None:
    event = fz.event("user_send_text", text="chao", msg_id="same-msg-id")
    async for s, rasa in served(zalo_api):
        assert (await s.post_event(event)).json() == {"status": "accepted"}
        await s.settle()
        event["timestamp"] = str(int(time.time() * 1000))  # Zalo's retry carries the same msg_id
        assert (await s.post_event(event)).json() == {"status": "duplicate"}
        await s.settle()
    async for s, rasa2 in served(zalo_api):  # also after a restart
        assert (await s.post_event(event)).json() == {"status": "duplicate"}
    assert rasa.texts == ["chao"] and rasa2.texts == [] and len(zalo_api.sends(USER)) == 1
    with sqlite3.connect(db) as conn:  # handled: the child's words are not kept, only a hash of the id
        assert conn.execute("select status, payload from zalo_events").fetchall() == [("done", None)]
        assert USER not in str(conn.execute("select * from zalo_events").fetchall())


async def test_a_message_that_could_not_be_answered_is_retried_not_lost(zalo_api, db) -> None:
    async for s, rasa in served(zalo_api):
        await zalo_api.stop()  # Zalo unreachable: not even the 111 fallback can be sent
        s.zalo.client.base_delay = 0.01
        await s.post_event(fz.event("user_send_text", text="e muon chet"))
        await s.settle()
        assert rasa.texts == ["e muon chet"]
        with sqlite3.connect(db) as conn:
            assert conn.execute("select status from zalo_events").fetchall() == [("pending",)]
            conn.execute("update zalo_events set next_try_at = '2000-01-01 00:00:00'")  # skip the backoff
        await zalo_api.start(zalo_api.port)
        assert await s.zalo.run_due(s.app) == 1
        assert zalo_api.texts_to(USER) == [zh.StandInRasa.SELF_HARM]
        assert await s.zalo.run_due(s.app) == 0


async def test_an_event_left_by_a_dead_process_is_handled_after_a_restart(zalo_api, db) -> None:
    # The previous process stored the event, answered Zalo 200 and died before handling it.
    event = fz.event("user_send_text", text="e muon chet")
    state = ZaloState(HandoffStore(), fz.APP_ID)
    key = event_key(event)
    assert key and state.accept(key, event, lease=0)
    async for s, rasa in served(zalo_api):
        s.zalo.tick = 0.05
        for _ in range(200):  # the worker of the new process picks it up by itself
            if zalo_api.texts_to(USER):
                break
            await asyncio.sleep(0.02)
        assert rasa.texts == ["e muon chet"] and zalo_api.texts_to(USER) == [zh.StandInRasa.SELF_HARM]
        assert state.status(key) == "done"
        assert (await s.post_event(event)).json() == {"status": "duplicate"}


async def test_one_childs_messages_are_answered_in_order(zalo_api, db) -> None:
    async for s, rasa in served(zalo_api):
        await s.post_event(fz.event("user_send_text", text="cham"))  # a slow turn first
        await s.post_event(fz.event("user_send_text", text="nhanh"))
        await s.settle()
        assert [t.rsplit("(", 1)[-1] for t in zalo_api.texts_to(USER)] == ["cham)", "nhanh)"]


async def test_with_the_database_down_the_child_still_gets_an_answer(zalo_api, db, monkeypatch) -> None:
    import sqlalchemy as sa

    def down(*_: Any, **__: Any) -> Any:
        raise sa.exc.OperationalError("select", {}, Exception("database is down"))

    async for s, rasa in served(zalo_api):
        await s.post_event(fz.event("user_send_text", text="chao"))
        await s.settle()
        monkeypatch.setattr(s.zalo.state, "accept", down)
        monkeypatch.setattr(s.zalo.state, "tokens", down)
        reply = await s.post_event(fz.event("user_send_text", text="e muon chet"))
        assert reply.json() == {"status": "accepted", "stored": False}
        await s.settle()
        assert zalo_api.texts_to(USER)[-1] == zh.StandInRasa.SELF_HARM


async def test_rasa_failing_still_gives_111(zalo_api, db) -> None:
    async for s, rasa in served(zalo_api):
        rasa.fail = True
        await s.post_event(fz.event("user_send_text", text="chao"))
        await s.settle()
        assert zalo_api.texts_to(USER) == [texts.UNAVAILABLE]


# --- tokens -------------------------------------------------------------------------------------
def stored_tokens(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select access_token, refresh_token, expires_at is not null from zalo_tokens"
        ).fetchall()


async def test_an_expired_token_is_refreshed_and_the_message_resent(zalo_api, db, tmp_path) -> None:
    async for s, _ in served(zalo_api):
        await s.post_event(fz.event("user_send_text", text="chao"))
        await s.settle()
        zalo_api.expire_access_token()
        await s.post_event(fz.event("user_send_text", text="e muon chet"))
        await s.settle()
        assert zalo_api.texts_to(USER)[-1] == zh.StandInRasa.SELF_HARM
        [refused] = [r for r in zalo_api.requests if r.answer.get("error") == -216]
        assert refused.headers["access_token"] == fz.FIRST_ACCESS
        [refresh] = zalo_api.refreshes()
        assert refresh.headers["secret_key"] == fz.APP_SECRET
        assert refresh.body == {
            "refresh_token": fz.FIRST_REFRESH,
            "app_id": fz.APP_ID,
            "grant_type": "refresh_token",
        }
        assert zalo_api.sends(USER)[-1].headers["access_token"] == "access-1"
        assert stored_tokens(db) == [
            ("access-1", "refresh-1", 1)
        ]  # the new single-use pair, in the case store
        assert not list(Path.cwd().glob("var/*zalo*")) and not list(tmp_path.glob("*zalo*"))
    # A restart uses the stored pair, not the (now dead) one of the environment; the next expiry
    # spends the new refresh token.
    async for s, _ in served(zalo_api):
        zalo_api.expire_access_token()
        await s.post_event(fz.event("user_send_text", text="chao"))
        await s.settle()
        assert [r.body["refresh_token"] for r in zalo_api.refreshes()] == [fz.FIRST_REFRESH, "refresh-1"]
        assert stored_tokens(db) == [("access-2", "refresh-2", 1)]


async def test_the_token_is_refreshed_before_it_expires(zalo_api, db) -> None:
    state = ZaloState(HandoffStore(), fz.APP_ID)
    client = ZaloClient(zh.zalo_settings(zalo_api), state)
    try:
        assert state.tokens(fz.FIRST_ACCESS, fz.FIRST_REFRESH) is not None
        state.save_tokens(fz.FIRST_ACCESS, fz.FIRST_REFRESH, expires_in=60)  # a minute left
        await client.send(USER, "chao")
        assert len(zalo_api.refreshes()) == 1
        assert [r.headers["access_token"] for r in zalo_api.requests if r.path.endswith("/cs")] == [
            "access-1"
        ]
    finally:
        await client.aclose()


async def test_a_new_pair_in_the_environment_reseeds_the_store(zalo_api, db) -> None:
    state = ZaloState(HandoffStore(), fz.APP_ID)
    state.tokens("a", "r")
    state.save_tokens("a2", "r2", 100)
    assert state.tokens("a", "r").access_token == "a2"  # rotated pair wins over the stale environment
    assert state.tokens("fresh", "fresh-r").access_token == "fresh"  # the operator authorised again


async def test_a_failed_refresh_is_an_error_and_a_notice_to_counsellors(
    zalo_api, fake_api, handoff_env, caplog
) -> None:
    caplog.set_level(logging.ERROR)
    zalo_api.refresh_broken = True
    zalo_api.expire_access_token()
    async for s, rasa in served(zalo_api):
        await s.post_event(fz.event("user_send_text", text="e muon chet"))
        await s.settle()
        assert rasa.texts == ["e muon chet"] and zalo_api.texts_to(USER) == []
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert any("Zalo token refresh failed" in e for e in errors)
        assert fz.APP_SECRET not in " ".join(errors) and fz.FIRST_REFRESH not in " ".join(errors)
        notices = [t for t in fake_api.sent_texts(zh.handoff.GROUP) if "Kênh Zalo" in t]
        assert len(notices) == 1
        # The child's message is kept: once the operator fixes the tokens, it is answered.
        with sqlite3.connect(handoff_env) as conn:
            assert conn.execute("select status from zalo_events").fetchall() == [("pending",)]


async def test_a_refresh_by_another_worker_is_reused(zalo_api, db) -> None:
    state = ZaloState(HandoffStore(), fz.APP_ID)
    one = ZaloClient(zh.zalo_settings(zalo_api), state)
    two = ZaloClient(zh.zalo_settings(zalo_api), state)
    try:
        state.tokens(fz.FIRST_ACCESS, fz.FIRST_REFRESH)
        zalo_api.expire_access_token()
        await one.send(USER, "một")
        await two.send(USER, "hai")  # still holds nothing stale: reads the stored pair
        assert len(zalo_api.refreshes()) == 1
        with pytest.raises(RefreshFailed):
            zalo_api.refresh_broken = True
            state.save_tokens("access-1", "refresh-1", 1)  # about to expire: refresh, which fails
            await two.send(USER, "ba")
    finally:
        await one.aclose()
        await two.aclose()


def test_event_keys() -> None:
    text = fz.event("user_send_text", text="a", msg_id="m1")
    assert event_key(text) == event_key({**text, "timestamp": "1"})  # the msg_id decides
    follow = fz.event("follow")
    assert event_key(follow) and event_key(follow) != event_key({**follow, "timestamp": "2"})
    assert event_key({"event_name": "user_send_text"}) is None


async def test_rest_clients_cannot_write_into_a_zalo_conversation() -> None:
    from sanic import Sanic

    from bot.channels.rest import RestInput

    Sanic.test_mode = True
    app = Sanic("rest_zalo_guard")
    app.blueprint(RestInput().blueprint(zh.StandInRasa()), url_prefix="/webhooks/rest")
    async with serving(app) as base, httpx.AsyncClient() as client:
        reply = await client.post(
            f"{base}/webhooks/rest/webhook", json={"sender": f"zalo:{USER}", "message": "chao"}
        )
        assert reply.status_code == 400


def test_window_rule() -> None:
    from bot.channels.zalo_client import outside_window

    now = dt.datetime.now(dt.timezone.utc)
    assert outside_window(None)
    assert not outside_window((now - dt.timedelta(hours=47)).timestamp(), now)
    assert outside_window((now - dt.timedelta(hours=49)).timestamp(), now)
    assert utcnow()  # the store's clock is naive UTC


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_state_on_both_databases(backend, tmp_path) -> None:
    """Tokens and inbox on SQLite, and on PostgreSQL when one answers (rows of a unique app id only)."""
    import uuid

    from tests.support.servers import PG_URL, postgres_ready

    if backend == "postgresql" and not postgres_ready():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (pg_isready failed): SQLite only")
    store = HandoffStore(PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path / 'h.db'}")
    state = ZaloState(store, f"test-{uuid.uuid4().hex[:12]}")
    key = uuid.uuid4().hex
    try:
        assert state.tokens("", "") is None
        assert state.tokens("a0", "r0").access_token == "a0"
        state.save_tokens("a1", "r1", 100)
        assert state.tokens("a0", "r0").refresh_token == "r1"
        event = {"event_name": "user_send_text", "message": {"msg_id": key, "text": "chào"}}
        assert state.accept(key, event, lease=0) and not state.accept(key, event, lease=0)
        assert key in state.due(limit=1000)
        taken = state.take(key, 60)
        assert taken == (event, 2) and state.take(key, 60) is None  # leased: nobody else takes it
        state.done(key)
        assert state.status(key) == "done" and key not in state.due(limit=1000)
    finally:
        from bot.channels.zalo_state import ZaloEventRow, ZaloTokenRow

        with store.session() as session:  # leave the shared database as it was
            session.query(ZaloTokenRow).filter(ZaloTokenRow.app_id == state.app_id).delete()
            session.query(ZaloEventRow).filter(ZaloEventRow.key == key).delete()
        store.dispose()
