"""What the counsellors' group and the outbox keep: delivered payloads are emptied, undelivered ones expire
(with an ERROR), and on delete-my-data or retention every alert and relayed child message is deleted
(or, past Telegram's 48 hours, edited to a placeholder). Fake Bot API, real case store (SQLite)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from pathlib import Path

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.handoff import notify, service, texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore, utcnow
from tests.support import fake_bot_api as tg
from tests.support import handoff_harness as harness

CHILD = "web-privacy-1"
RELAYED = "em đang ở nhà một mình, số em 0912 345 678"


@pytest.fixture
async def fake_api():
    api = await tg.FakeBotAPI().start()
    yield api
    await api.stop()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "handoff.db"


@pytest.fixture
def store(db: Path):
    s = HandoffStore(f"sqlite:///{db}")
    yield s
    s.dispose()


@pytest.fixture
def settings(fake_api) -> HandoffSettings:
    return HandoffSettings(chat_id=harness.GROUP, telegram_token=fake_api.token)


@pytest.fixture
async def bot(fake_api):
    b = Bot(fake_api.token, base_url=fake_api.api_url, request=HTTPXRequest())
    yield b
    await b.shutdown()


def payloads(db: Path) -> list[tuple[str, dict, str | None]]:
    with sqlite3.connect(db) as conn:
        return [
            (k, json.loads(p), e)
            for k, p, e in conn.execute("select kind, payload, last_error from handoff_outbox")
        ]


async def a_case_in_the_group(store: HandoffStore, settings: HandoffSettings, bot: Bot) -> int:
    case, _ = store.open_case(CHILD, "rest", "urgent", "disclose_self_harm", ["e muon chet"])
    notify.enqueue_alert(store, settings, case)
    case = service.claim(store, settings, case.id, "api:Lan")
    service.relay(store, settings, case, RELAYED)
    await notify.deliver_due(store, bot)
    return case.id


async def test_delivered_payloads_keep_no_text(store, settings, bot, fake_api, db) -> None:
    await a_case_in_the_group(store, settings, bot)
    assert any(RELAYED in t for t in fake_api.sent_texts(harness.GROUP))
    stored = json.dumps(payloads(db), ensure_ascii=False)
    assert "0912" not in stored and "nhà một mình" not in stored


async def test_undelivered_messages_expire_with_an_error(store, settings, db, caplog, monkeypatch) -> None:
    case, _ = store.open_case(CHILD, "rest", "high", None, ["có người dọa em"])
    case = service.claim(store, settings, case.id, "api:Lan")
    service.relay(store, settings, case, RELAYED)  # Telegram never accepts it
    assert notify.expire_undelivered(store) == 0  # not old yet
    monkeypatch.setenv("OUTBOX_MAX_AGE_HOURS", "1")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "update handoff_outbox set created_at = ?", ((utcnow() - dt.timedelta(hours=2)).isoformat(" "),)
        )
    with caplog.at_level(logging.ERROR):
        assert notify.expire_undelivered(store) >= 1
    assert "undelivered" in caplog.text and "0912" not in caplog.text
    assert RELAYED not in json.dumps(payloads(db), ensure_ascii=False)
    assert store.due_outbox() == []  # never sent later


async def test_delete_my_data_removes_the_group_messages(store, settings, bot, fake_api) -> None:
    case_id = await a_case_in_the_group(store, settings, bot)
    ids = {r["message_id"] for kind in notify.REMOVABLE for r in store.sent_results(case_id, kind)}
    assert len(ids) >= 2  # the alert and the relayed message
    service.forget(store, settings, CHILD)
    await notify.deliver_due(store, bot)
    assert {int(c["message_id"]) for c in fake_api.calls_of("deleteMessage")} == ids
    notice = fake_api.sent_texts(harness.GROUP)[-1]
    assert notice == texts.deleted_text(store.get(case_id)) and "0912" not in notice


async def test_past_48_hours_messages_are_edited_to_a_placeholder(store, settings, bot, fake_api) -> None:
    case_id = await a_case_in_the_group(store, settings, bot)
    for _ in range(2):
        fake_api.fail_next("deleteMessage", status=400, description="Bad Request: message can't be deleted")
    service.forget(store, settings, CHILD)
    await notify.deliver_due(store, bot)
    edits = [c for c in fake_api.calls_of("editMessageText") if c["text"] == texts.MESSAGE_REMOVED]
    assert len(edits) == 2, case_id


async def test_retention_removes_the_group_messages(store, settings, bot, fake_api) -> None:
    case_id = await a_case_in_the_group(store, settings, bot)
    service.close(store, settings, case_id, "api:Lan")
    await notify.deliver_due(store, bot)
    service.purge_closed(store, utcnow() + dt.timedelta(days=1), dry_run=True)  # a dry run changes nothing
    await notify.deliver_due(store, bot)
    assert fake_api.calls_of("deleteMessage") == []
    service.purge_closed(store, utcnow() + dt.timedelta(days=1))
    await notify.deliver_due(store, bot)
    assert len(fake_api.calls_of("deleteMessage")) >= 2
