"""The SQLite tracker store does not fsync on every save (WAL, synchronous=NORMAL): see bot/stores/tracker.py."""
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
    saved = await store.retrieve("child-wal")
    assert [e.text for e in saved.events if isinstance(e, UserUttered)] == ["chào bạn"]
