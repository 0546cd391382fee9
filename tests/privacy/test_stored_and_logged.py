"""What is kept is redacted: the tracker store's rows and every log line (the bot still read the original)."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import bot  # noqa: F401 - installs the log redaction, as every process of the bot does
from bot.stores.tracker import PrivateSQLTrackerStore

SECRET = "số em là 0912 345 678, mail lan.nguyen@gmail.com, nhà em ở 12 Lê Lợi, tên em là Lan"
RAW = ["0912 345 678", "lan.nguyen@gmail.com", "Lê Lợi", "Lan,", 'Lan"']


@pytest.fixture
def store(tmp_path: Path) -> PrivateSQLTrackerStore:
    return PrivateSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))


async def test_the_tracker_store_keeps_only_redacted_text(
    store: PrivateSQLTrackerStore, tmp_path: Path
) -> None:
    tracker = DialogueStateTracker("child-1", [])
    parse = {"text": SECRET, "intent": {"name": "express_distress", "confidence": 0.9}, "entities": []}
    tracker.update(UserUttered(SECRET, parse["intent"], [], parse))
    tracker.update(ActionExecuted("utter_distress"))
    tracker.update(BotUttered("👤 Tư vấn viên: em ở 12 Lê Lợi đúng không? Gọi 111 nhé."))
    await store.save(tracker)

    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        rows = [json.loads(r[0]) for r in conn.execute("select data from events")]
        intents = [r[0] for r in conn.execute("select intent_name from events where type_name = 'user'")]
    stored = json.dumps(rows, ensure_ascii=False)
    for raw in ("0912 345 678", "lan.nguyen@gmail.com", "Lê Lợi"):
        assert raw not in stored
    assert "[SĐT]" in stored and "[EMAIL]" in stored and "111" in stored
    assert intents == ["express_distress"]  # the understanding is kept

    again = await PrivateSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db")
    ).retrieve("child-1")
    assert again is not None and len(again.events) == 3 and "[SĐT]" in again.events[0].text


async def test_saving_again_adds_only_new_events(store: PrivateSQLTrackerStore, tmp_path: Path) -> None:
    tracker = DialogueStateTracker("child-2", [])
    tracker.update(UserUttered("chào", {"name": "greet", "confidence": 1.0}))
    await store.save(tracker)
    tracker.update(UserUttered("sđt em 0987654321", {"name": "out_of_scope", "confidence": 1.0}))
    await store.save(tracker)
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        texts = [json.loads(r[0]).get("text") for r in conn.execute("select data from events order by id")]
    assert texts == ["chào", "sđt em [SĐT]"]


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("rasa.core.processor").debug("Received user message '%s'", SECRET)
        logging.getLogger("bot.test").warning("call 0912.345.678 or 111")
    assert "0912" not in caplog.text and "gmail" not in caplog.text
    assert "[SĐT]" in caplog.text and "111" in caplog.text


# --- the redactor runs once per message ----------------------------------------------------------
class CountingRedact:
    def __init__(self, redact) -> None:
        self.redact, self.texts = redact, []

    def __call__(self, text):
        self.texts.append(text)
        return self.redact(text)


async def test_the_tracker_store_redacts_each_message_once(
    store: PrivateSQLTrackerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.stores.tracker as tracker_module

    counting = CountingRedact(tracker_module.redact)
    monkeypatch.setattr(tracker_module, "redact", counting)
    tracker = DialogueStateTracker("child-3", [])
    parse = {"text": SECRET, "intent": {"name": "express_distress", "confidence": 0.9}, "entities": []}
    tracker.update(UserUttered(SECRET, parse["intent"], [], parse))  # the text is in `text` and `parse_data`
    tracker.update(BotUttered("Gọi 111 nhé."))
    await store.save(tracker)
    assert counting.texts == [SECRET, "Gọi 111 nhé."]


def test_a_case_summary_redacts_only_the_messages_it_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.handoff.store as store_module

    counting = CountingRedact(store_module.redact)
    monkeypatch.setattr(store_module, "redact", counting)
    summary = store_module.summarise([f"tin {i}: sđt 0912 345 {i:03d}" for i in range(200)])
    assert len(counting.texts) == store_module.SUMMARY_MESSAGES
    assert "0912" not in summary and summary.count("[SĐT]") == store_module.SUMMARY_MESSAGES


def test_a_log_record_is_redacted_once_for_all_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.privacy.logs as logs_module

    counting = CountingRedact(logs_module.redact)
    monkeypatch.setattr(logs_module, "redact", counting)
    logger = logging.getLogger("bot.test.once")
    streams = [logging.StreamHandler(__import__("io").StringIO()) for _ in range(3)]
    for handler in streams:
        logger.addHandler(handler)
    try:
        logger.warning("call %s", "0912.345.678")
    finally:
        for handler in streams:
            logger.removeHandler(handler)
    assert all("[SĐT]" in h.stream.getvalue() for h in streams)
    assert len(counting.texts) == 1
