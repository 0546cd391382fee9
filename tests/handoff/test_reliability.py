"""No silent failure on the alert path (issue 12, findings 2, 3, 4 and 8), with the fake Bot API.

- Long disclosures: alerts always fit Telegram's 4,096 characters; a permanent refusal is never
  retried, falls back to a short alert, and an alert that cannot be delivered at all is reported.
- Floods: the outbox sends the most urgent first; past the per-source cap or in a burst, alerts are
  collapsed into one digest message, so a real urgent case is not buried.
- A claimed case whose counsellor stays silent: the group is re-alerted, the child is given 111 and
  the bot answers high disclosures again (settable clock, no sleeping).
- A hung case database never blocks the event loop and ends in the 111 reply and an ERROR log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker

from actions.handoff import ActionCreateCase, ActionCreateUrgentCase
from bot.channels.counsellor import CounsellorInput, send_counsellor_message
from bot.channels.relay import relay_if_claimed
from bot.channels.telegram import TelegramInput
from bot.handoff import notify, service, texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore, IntakeLimits, utcnow
from bot.telegram.settings import TelegramSettings
from tests.support import fake_bot_api as tg
from tests.support import handoff_harness as harness
from tests.support.handoff_harness import run_action
from tests.support.proxy import BlackHole

CHILD_SENDER = f"tg:{harness.CHILD}"


def child_tracker(
    sender: str, texts_: list[str], level: str | None = None, source: str | None = None
) -> Tracker:
    meta = {"source": source} if source else {}
    events = [
        {"event": "user", "text": t, "input_channel": "rest", "parse_data": {}, "metadata": meta}
        for t in texts_
    ]
    slots = {"risk_level": level, "risk_category": "disclose_self_harm" if level == "imminent" else None}
    return Tracker(sender, slots, {}, events, False, None, {}, "action_listen")


def group_texts(api: tg.FakeBotAPI) -> list[str]:
    return api.sent_texts(harness.GROUP)


def refused(api: tg.FakeBotAPI) -> list[dict]:
    return [c.params for c in api.calls if c.method == "sendMessage" and c.status != 200]


def telegram_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- finding 2: long disclosures ------------------------------------------------------------
async def test_fake_refuses_what_telegram_refuses(fake_api) -> None:
    from telegram import Bot
    from telegram.error import BadRequest

    bot = Bot(fake_api.token, base_url=fake_api.api_url)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(chat_id=harness.GROUP, text="🔴" * 2049)  # 4,098 UTF-16 units
    await bot.send_message(chat_id=harness.GROUP, text="🔴" * 2048)
    await bot.shutdown()


async def test_long_disclosure_alert_fits_and_reaches_counsellors(fake_api, handoff_env) -> None:
    story = "em muốn chết vì " + "bố em đánh em mỗi tối " * 180  # about 4,000 characters
    history = [f"tin thứ {i}: " + "chuyện ở lớp " * 300 for i in range(9)] + [story[:4000]]
    said = await run_action(ActionCreateUrgentCase(), child_tracker("web-long", history, "imminent"))
    assert said == [texts.CASE_CREATED_URGENT]
    alerts = [t for t in group_texts(fake_api) if t.startswith("[Ca #1]")]
    assert len(alerts) == 1, f"refused: {[(len(p['text'])) for p in refused(fake_api)]}"
    alert = alerts[0]
    assert telegram_len(alert) <= 4096 and refused(fake_api) == []
    assert "KHẨN CẤP" in alert and "GET /cases/1" in alert and "em muốn chết" in alert  # newest line kept
    assert "/dong 1" in alert  # the footer survives the trim
    store = HandoffStore()
    assert store.pending_outbox() == 0
    assert len(store.get(1).summary) > 30_000  # the case API keeps the whole (redacted) summary


async def test_long_relay_fits(fake_api, handoff_env) -> None:
    settings, store = HandoffSettings.from_env(), HandoffStore()
    case, _ = store.open_case("web-relay", "rest", "high")
    case = service.claim(store, settings, case.id, "api:Lan")
    service.relay(store, settings, case, "a" * 5000)
    await notify.deliver_due(store, notify.make_alert_bot(settings))
    [relayed] = [t for t in group_texts(fake_api) if t.startswith("[Ca #1] a")]
    assert telegram_len(relayed) <= 4096 and store.pending_outbox() == 0


async def test_permanent_refusal_is_not_retried_and_falls_back_to_a_short_alert(
    fake_api, handoff_env
) -> None:
    fake_api.fail_next(
        "sendMessage", status=400, retry_after=None, description="Bad Request: can't parse entities"
    )
    said = await run_action(ActionCreateCase(), child_tracker("web-400", ["có người dọa tung ảnh"], "high"))
    assert said == [texts.CASE_CREATED]
    store = HandoffStore()
    sent = group_texts(fake_api)
    assert len(sent) == 1 and sent[0] == texts.short_alert_text(1, "high", "alert")
    assert "111" not in sent[0] and "Cao" in sent[0]
    # The short alert still has the claim button and maps replies to the case.
    [short] = fake_api.sent_messages(harness.GROUP)
    assert "handoff:claim:1" in str(short.get("reply_markup"))
    assert store.case_of_message(harness.GROUP, store.sent_results(1, "send")[0]["message_id"]) == 1
    assert store.pending_outbox() == 0
    calls = len(fake_api.calls_of("sendMessage", ok_only=False))
    await notify.deliver_due(store, notify.make_alert_bot(HandoffSettings.from_env()))
    assert len(fake_api.calls_of("sendMessage", ok_only=False)) == calls  # never retried
    assert "alert_shortened" in [e.kind for e in store.get(1, with_history=True).history]


async def test_undeliverable_alert_is_reported(fake_api, handoff_env, caplog) -> None:
    for _ in range(2):  # the alert, then its short fallback: the bot was removed from the group
        fake_api.fail_next(
            "sendMessage", status=403, retry_after=None, description="Forbidden: bot was kicked"
        )
    caplog.set_level(logging.INFO)
    said = await run_action(ActionCreateUrgentCase(), child_tracker("web-403", ["em muốn chết"], "imminent"))
    assert "111" in said[0]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("case 1 could NOT be reported" in e for e in errors), errors
    store = HandoffStore()
    assert store.pending_outbox() == 0
    assert "alert_undelivered" in [e.kind for e in store.get(1, with_history=True).history]
    calls = len(fake_api.calls_of("sendMessage", ok_only=False))
    await notify.deliver_due(store, notify.make_alert_bot(HandoffSettings.from_env()))
    assert (
        len(fake_api.calls_of("sendMessage", ok_only=False)) == calls == 2
    )  # given up, not retried 12 times


# --- finding 3: floods --------------------------------------------------------------------
async def test_outbox_sends_the_most_urgent_first(fake_api, handoff_env, monkeypatch) -> None:
    monkeypatch.setenv("HANDOFF_CASES_PER_SOURCE_HOUR", "1000")
    monkeypatch.setenv("HANDOFF_ALERTS_PER_MINUTE", "1000")
    settings, store = HandoffSettings.from_env(), HandoffStore()
    for i in range(60):
        service.request_counsellor(store, settings, f"web-n{i}", "rest", "low", None, [f"buồn {i}"])
    real = service.request_counsellor(
        store, settings, "web-real", "rest", "imminent", "disclose_self_harm", ["x"]
    )
    await notify.deliver_due(store, notify.make_alert_bot(settings))
    first = group_texts(fake_api)[0]
    assert first.startswith(f"[Ca #{real.case.id}]") and "KHẨN CẤP" in first
    assert len(group_texts(fake_api)) == 50  # one batch; the rest in the next pass, oldest first
    assert group_texts(fake_api)[1].startswith("[Ca #1]")


async def test_flood_from_one_address_collapses_and_a_real_case_goes_first(
    fake_api, handoff_env, monkeypatch
) -> None:
    monkeypatch.setenv("HANDOFF_CASES_PER_SOURCE_HOUR", "3")
    clock = Clock()
    settings, store = HandoffSettings.from_env(), HandoffStore(clock=clock)
    bot = notify.make_alert_bot(settings)
    attacker = service.source_of("203.0.113.9")
    for i in range(100):  # fresh sender ids (REST, new web sessions), one client address
        said = service.request_counsellor(
            store, settings, f"web-f{i}", "rest", "imminent", None, ["x"], attacker
        )
        assert "111" in said.reply
        await notify.deliver_due(store, bot)  # like the action's immediate delivery
    real = service.request_counsellor(
        store, settings, "web-real", "rest", "imminent", None, ["y"], service.source_of("198.51.100.7")
    )
    await notify.deliver_due(store, bot)
    alerts = [t.split("]")[0] for t in group_texts(fake_api) if t.startswith("[Ca #")]
    assert alerts == ["[Ca #1", "[Ca #2", "[Ca #3", f"[Ca #{real.case.id}"] and real.case.id == 101
    assert not any(t.startswith("[Tổng hợp]") for t in group_texts(fake_api))  # the digest gathers the burst
    clock.advance(0.6)  # 36 s
    await notify.deliver_due(store, bot)
    digests = [p for p in fake_api.sent_messages(harness.GROUP) if p["text"].startswith("[Tổng hợp]")]
    assert len(digests) == 1 and "97 cảnh báo" in digests[0]["text"]
    assert "#4," in digests[0]["text"] and "#100" in digests[0]["text"]
    assert "handoff:claim:4" in str(digests[0]["reply_markup"])  # the collapsed cases can still be claimed
    assert store.pending_outbox() == 0 and len(store.queue()) == 101  # nothing lost: every case is on the API


async def test_a_burst_across_many_addresses_collapses(fake_api, handoff_env, monkeypatch) -> None:
    monkeypatch.setenv("HANDOFF_ALERTS_PER_MINUTE", "5")
    clock = Clock()
    settings, store = HandoffSettings.from_env(), HandoffStore(clock=clock)
    for i in range(40):
        service.request_counsellor(
            store, settings, f"web-b{i}", "rest", "high", None, ["x"], service.source_of(f"10.0.{i}.1")
        )
    clock.advance(1)
    await notify.deliver_due(store, notify.make_alert_bot(settings))
    sent = group_texts(fake_api)
    assert len([t for t in sent if t.startswith("[Ca #")]) == 5
    assert len([t for t in sent if t.startswith("[Tổng hợp]")]) == 1


async def test_rate_limit_ends_the_pass_and_is_retried(fake_api, handoff_env, monkeypatch) -> None:
    monkeypatch.setenv("HANDOFF_ALERTS_PER_MINUTE", "100")
    settings, store = HandoffSettings.from_env(), HandoffStore()
    fake_api.fail_next("sendMessage", status=429, retry_after=1)
    for i in range(3):
        service.request_counsellor(
            store, settings, f"web-r{i}", "rest", "high", None, ["x"], service.source_of(f"10.1.{i}.1")
        )
    bot = notify.make_alert_bot(settings)
    assert await notify.deliver_due(store, bot) == 0
    assert len(fake_api.calls_of("sendMessage", ok_only=False)) == 1  # the pass stopped at the 429
    await asyncio.sleep(1.1)
    assert await notify.deliver_due(store, bot) == 3


# --- finding 4: a silent counsellor ---------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)


class GroomingAgent(harness.StubAgent):
    async def parse_message(self, text: str) -> dict[str, Any]:
        if "dụ" in text:
            return {"text": text, "intent": {"name": "disclose_grooming", "confidence": 1.0}, "entities": []}
        return await super().parse_message(text)


async def test_silent_counsellor_realerts_gives_111_and_lets_the_bot_answer(
    fake_api, handoff_env, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HANDOFF_REPLY_TIMEOUT_MIN", "10")
    clock = Clock()
    store = HandoffStore(clock=clock)
    settings = HandoffSettings.from_env()
    case, _ = store.open_case(CHILD_SENDER, "telegram", "high")
    service.claim(store, settings, case.id, f"tg:{harness.COUNSELLOR}")
    tg_settings = TelegramSettings(
        token=fake_api.token,
        api_url=fake_api.api_url,
        webhook_secret=harness.SECRET,
        state_db=tmp_path / "tg.sqlite3",
    )
    counsellor = CounsellorInput(settings, store)
    async for served in harness.serve(TelegramInput(tg_settings), counsellor, None):
        agent = GroomingAgent()
        served.app.ctx.agent = agent
        # A high disclosure while the counsellor is there: relayed, the bot stays quiet.
        assert await relay_if_claimed(agent, CHILD_SENDER, "em sợ lắm", "telegram", settings, store)
        clock.advance(9)
        assert await relay_if_claimed(
            agent, CHILD_SENDER, "có người dụ em gửi ảnh", "telegram", settings, store
        )
        await counsellor.run_once(served.app)
        assert not any("chưa trả lời trẻ" in t for t in group_texts(fake_api))
        # 10 minutes after the first unanswered message: the group is re-alerted, the child told 111.
        clock.advance(1.5)
        await counsellor.run_once(served.app)
        [silent] = [t for t in group_texts(fake_api) if "chưa trả lời trẻ" in t]
        assert f"tg:{harness.COUNSELLOR}" in silent and "10 phút" in silent
        assert (
            texts.COUNSELLOR_SILENT in fake_api.sent_texts(harness.CHILD) and "111" in texts.COUNSELLOR_SILENT
        )
        await counsellor.run_once(served.app)  # once per silence
        assert sum("chưa trả lời trẻ" in t for t in group_texts(fake_api)) == 1
        assert sum(t == texts.COUNSELLOR_SILENT for t in fake_api.sent_texts(harness.CHILD)) == 1
        # While the counsellor is silent, a high disclosure gets the bot's hotline reply (not relayed only).
        assert not await relay_if_claimed(
            agent, CHILD_SENDER, "người đó lại dụ em", "telegram", settings, store
        )
        assert await relay_if_claimed(agent, CHILD_SENDER, "alo", "telegram", settings, store)  # low: relayed
        # The counsellor answers: the bot is quiet again, and the clock starts over.
        await send_counsellor_message(
            served.app, store, store.get(case.id), f"tg:{harness.COUNSELLOR}", "Cô đây."
        )
        assert await relay_if_claimed(agent, CHILD_SENDER, "nó lại dụ em", "telegram", settings, store)
        clock.advance(11)
        await counsellor.run_once(served.app)
        assert sum("chưa trả lời trẻ" in t for t in group_texts(fake_api)) == 2


# --- finding 8: a hung database ---------------------------------------------------------------
class LoopWatch:
    """Measures the longest time the event loop did not run a 50 ms ticker."""

    def __init__(self) -> None:
        self.gap = 0.0
        self._started = 0.0
        self._task: asyncio.Task | None = None

    async def _tick(self) -> None:
        last = self._started  # from __enter__: a block before the first tick counts too
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            self.gap = max(self.gap, now - last)
            last = now

    def __enter__(self) -> LoopWatch:
        self._started = time.monotonic()
        self._task = asyncio.ensure_future(self._tick())
        return self

    def __exit__(self, *_: Any) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_hung_postgres_gives_111_without_freezing_the_loop(
    fake_api, handoff_env, monkeypatch, caplog
) -> None:
    hole = BlackHole(hold=8.0)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{hole.port}/test")
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "2")
    caplog.set_level(logging.ERROR)
    try:
        with LoopWatch() as watch:
            started = time.monotonic()
            said = await run_action(
                ActionCreateUrgentCase(), child_tracker("web-hung", ["em muốn chết"], "imminent")
            )
            took = time.monotonic() - started
            await asyncio.sleep(0.2)
        assert said == [texts.STORE_DOWN] and "111" in said[0]
        assert took < 6.0 and watch.gap < 1.0, (took, watch.gap)
        assert any(r.levelno >= logging.ERROR for r in caplog.records)
    finally:
        hole.close()


async def test_hung_postgres_relay_lets_the_bot_answer_without_freezing(monkeypatch, caplog) -> None:
    hole = BlackHole(hold=8.0)
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "2")
    caplog.set_level(logging.ERROR)
    store = HandoffStore(f"postgresql://postgres@127.0.0.1:{hole.port}/test")
    try:
        with LoopWatch() as watch:
            started = time.monotonic()
            relayed = await relay_if_claimed(
                None, "web-x", "em sợ", "rest", HandoffSettings.from_env({}), store
            )
            took = time.monotonic() - started
            await asyncio.sleep(0.2)
        assert relayed is False  # the front door hands the message to Rasa, which answers
        assert took < 6.0 and watch.gap < 1.0, (took, watch.gap)
        assert any("relay failed" in r.getMessage() for r in caplog.records)
    finally:
        hole.close()


async def test_locked_sqlite_does_not_freeze_the_worker(
    fake_api, handoff_env, monkeypatch, tmp_path, caplog
) -> None:
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "1")
    db = tmp_path / "locked.db"
    store = HandoffStore(f"sqlite:///{db}")
    store.open_case("web-l", "rest", "high")
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:  # another process holding the write lock for 8 s
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(8)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=hold_lock)
    thread.start()
    locked.wait(5)
    caplog.set_level(logging.ERROR)
    counsellor = CounsellorInput(HandoffSettings.from_env(), store)
    try:
        with LoopWatch() as watch:
            started = time.monotonic()
            with pytest.raises(Exception):
                await counsellor.run_once(None)
            took = time.monotonic() - started
            await asyncio.sleep(0.2)
        assert took < 4.0 and watch.gap < 1.0, (took, watch.gap)
    finally:
        release.set()
        thread.join()
        store.dispose()


def test_default_limits_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "handoff.md").read_text(encoding="utf-8")
    defaults = IntakeLimits()
    for name in (
        "HANDOFF_CASES_PER_SOURCE_HOUR",
        "HANDOFF_ALERTS_PER_MINUTE",
        "HANDOFF_REPLY_TIMEOUT_MIN",
        "DATABASE_TIMEOUT_SECONDS",
    ):
        assert name in doc
    assert defaults.per_source_hour == 3 and defaults.alerts_per_minute == 10


def test_rest_and_web_pass_only_a_hashed_client_address() -> None:
    from bot.channels.rest import RestInput

    request = type("Request", (), {"remote_addr": "", "ip": "203.0.113.9"})()
    meta = RestInput().get_metadata(request)
    assert meta == {"source": service.source_of("203.0.113.9")}
    assert meta["source"].startswith("addr:") and "203.0.113.9" not in meta["source"]
    assert service.source_of("203.0.113.10") != meta["source"]


def test_a_database_of_the_previous_release_gets_the_new_columns(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from bot.handoff.store import Base

    new = {
        "handoff_cases": {"source", "digest", "child_waiting_since", "silence_alerted"},
        "handoff_outbox": {"priority_rank", "gave_up_at"},
    }
    old = sa.MetaData()
    for table in Base.metadata.sorted_tables:
        sa.Table(table.name, old, *[c.copy() for c in table.columns if c.name not in new.get(table.name, ())])
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    old.create_all(engine)
    engine.dispose()
    store = HandoffStore(url)
    case, is_new = store.open_case("web-old", "rest", "urgent", limits=IntakeLimits())
    assert is_new and store.enqueue("k", "send", {"text": "x"}, case.id, priority_rank=0)
    assert [i.key for i in store.due_outbox()] == ["k"]
    store.dispose()


async def test_hung_database_makes_the_counsellor_api_answer_503(
    fake_api, handoff_env, monkeypatch, tmp_path
) -> None:
    hole = BlackHole(hold=8.0)
    monkeypatch.setenv("DATABASE_TIMEOUT_SECONDS", "2")
    store = HandoffStore(f"postgresql://postgres@127.0.0.1:{hole.port}/test")
    tg_settings = TelegramSettings(
        token=fake_api.token,
        api_url=fake_api.api_url,
        webhook_secret=harness.SECRET,
        state_db=tmp_path / "tg.sqlite3",
    )
    try:
        async for served in harness.serve(TelegramInput(tg_settings), CounsellorInput(store=store), None):
            with LoopWatch() as watch:
                started = time.monotonic()
                answer = await served.client.get(
                    served.url + "/webhooks/counsellor/cases", headers=served.api_headers()
                )
                took = time.monotonic() - started
                await asyncio.sleep(0.2)
            assert answer.status_code == 503 and "unavailable" in answer.json()["error"]
            assert took < 6.0 and watch.gap < 1.0, (took, watch.gap)
    finally:
        hole.close()


async def test_order_and_digest_on_each_database(store, fake_api, handoff_env, monkeypatch) -> None:
    """The same outbox rules on SQLite and PostgreSQL (the `store` fixture runs both)."""
    monkeypatch.setenv("HANDOFF_CASES_PER_SOURCE_HOUR", "2")
    clock = Clock()
    store.clock = clock
    settings = HandoffSettings.from_env()
    flood = service.source_of("203.0.113.1")
    for i in range(6):
        service.request_counsellor(store, settings, f"web-d{i}", "rest", "low", None, ["x"], flood)
    real = service.request_counsellor(
        store, settings, "web-u", "rest", "imminent", None, ["y"], service.source_of("1.1.1.1")
    )
    bot = notify.make_alert_bot(settings)
    await notify.deliver_due(store, bot)
    assert [t.split("]")[0] for t in group_texts(fake_api)] == [f"[Ca #{real.case.id}", "[Ca #1", "[Ca #2"]
    clock.advance(1)
    await notify.deliver_due(store, bot)
    assert group_texts(fake_api)[-1].startswith("[Tổng hợp] 4 cảnh báo") and store.pending_outbox() == 0


async def test_short_alert_hit_by_a_network_error_is_retried_not_given_up(fake_api, handoff_env) -> None:
    fake_api.fail_next(
        "sendMessage", status=400, retry_after=None, description="Bad Request: message is too long"
    )
    fake_api.fail_next("sendMessage", status=502, retry_after=None, description="Bad Gateway")
    settings, store = HandoffSettings.from_env(), HandoffStore()
    service.request_counsellor(store, settings, "web-502", "rest", "high", None, ["x"])
    bot = notify.make_alert_bot(settings)
    assert await notify.deliver_due(store, bot) == 0 and store.pending_outbox() == 1
    await asyncio.sleep(1.1)
    assert await notify.deliver_due(store, bot) == 1  # retried: the alert reaches the group once
    assert len(group_texts(fake_api)) == 1 and group_texts(fake_api)[0].startswith("[Ca #1]")


def test_a_flood_digest_keeps_the_newest_and_oldest_case_numbers() -> None:
    """1,001 urgent alerts in one digest: the list would pass Telegram's 4,096 characters and be cut, hiding
    the real case that came last. Both ends stay, with the count of those in between."""
    items = [{"case_id": i, "priority": "urgent"} for i in range(1, 1002)]
    text = texts.digest_text(items)
    assert texts.telegram_len(text) <= texts.TELEGRAM_MAX
    assert text.startswith("[Tổng hợp] 1001 cảnh báo")
    assert "(1001): #1, #2," in text and text.endswith("#1000, #1001")
    assert "(921 ca khác, xem API)" in text and "#500," not in text
    short = texts.digest_text([{"case_id": i, "priority": "high"} for i in (3, 1, 2)])
    assert short.endswith("(3): #1, #2, #3")
