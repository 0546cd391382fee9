"""Speed fixes in the Rasa server (bot/stores/tracker.py, bot/rasa_speed.py): no fsync per save with SQLite
(WAL, synchronous=NORMAL, pooled connections); one jsonschema validator for custom action replies."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores.tracker import PrivateSQLTrackerStore


async def test_sqlite_store_uses_a_write_ahead_log(tmp_path: Path) -> None:
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker.from_events("child-wal", [UserUttered("chào bạn")])
    await store.save(tracker)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL (FULL is 2)
    # Connections stay open between saves: closing the last one would checkpoint (fsync) each time.
    assert (tmp_path / "tracker.db-wal").exists()
    saved = await store.retrieve("child-wal")
    assert [e.text for e in saved.events if isinstance(e, UserUttered)] == ["chào bạn"]


def test_action_results_are_validated_with_one_validator(tmp_path: Path) -> None:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))  # installs bot/rasa_speed.py
    action = RemoteAction("action_tip", None)
    good = {
        "events": [{"event": "slot", "name": "topic", "value": "passwords"}],
        "responses": [{"text": "Mẹo"}],
    }
    calls = []
    original = jsonschema.validate

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)  # Rasa's own code calls this: metaschema check and a new validator each time
        return original(*args, **kwargs)

    jsonschema.validate = counting
    try:
        for _ in range(3):
            assert action._validate_action_result(good) is True
    finally:
        jsonschema.validate = original
    assert calls == [], "no validator is built per call"
    try:
        action._validate_action_result({"events": [{"event": 5}]})
    except jsonschema.ValidationError as exc:
        assert "Failed to validate Action server response" in exc.message
    else:
        raise AssertionError("an invalid reply must be refused")


async def test_a_tracker_read_back_saves_only_its_new_events_without_counting(tmp_path: Path) -> None:
    from rasa.shared.core.events import ActionExecuted, BotUttered

    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))
    await store.save(DialogueStateTracker.from_events("child-n", [UserUttered("chào bạn")]))
    counted = []
    original = store._additional_events

    def counting(session, tracker):  # type: ignore[no-untyped-def]
        counted.append(tracker.sender_id)
        return original(session, tracker)

    store._additional_events = counting  # type: ignore[method-assign]
    for turn in range(3):
        tracker = await store.retrieve("child-n")
        tracker.update(BotUttered(f"trả lời {turn}"))
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"tin {turn}"))
        await store.save(tracker)
        await store.save(tracker)  # saved twice: nothing doubled
    assert counted == [], "no count query for a tracker read from the store"
    saved = await store.retrieve("child-n")
    users = [e.text for e in saved.events if isinstance(e, UserUttered)]
    assert users == ["chào bạn", "tin 0", "tin 1", "tin 2"]
    assert [e.text for e in saved.events if isinstance(e, BotUttered)] == [
        "trả lời 0",
        "trả lời 1",
        "trả lời 2",
    ]
    # A copy does not know what is stored: Rasa's count decides, and still nothing is doubled.
    copy = saved.copy()
    copy.update(UserUttered("tin 3"))
    await store.save(copy)
    assert counted == ["child-n"]
    again = await store.retrieve("child-n")
    assert [e.text for e in again.events if isinstance(e, UserUttered)][-2:] == ["tin 2", "tin 3"]
    assert len(again.events) == len(saved.events) + 1
