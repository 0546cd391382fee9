"""SQL tracker store that forgets a conversation when the child asks (and the child's handoff cases).

Configured in endpoints.yml as `type: bot.stores.tracker.PrivateSQLTrackerStore`
with the usual SQLTrackerStore keys (`dialect`, `db`, or `url`...). If Rasa
cannot import it, Rasa silently falls back to an in-memory store: the test
suite restarts a server and reads a conversation back to prove it is used.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import rasa_speed
from bot.channels.web_inbox import WebInbox
from bot.handoff import service
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import off_loop, shared_store
from bot.privacy.redact import redact
from bot.privacy.retention import purge_daily
from bot.privacy.settings import PrivacySettings

logger = logging.getLogger(__name__)

#: Attribute of a tracker read from the store: how many of its events are already stored.
STORED_EVENTS = "_stored_events"

#: The reply that confirms deletion; it is sent only after the child said yes.
DELETE_CONFIRMED_ACTION = "utter_delete_data"


def asked_to_forget(tracker: DialogueStateTracker) -> bool:
    """True when the bot has just confirmed deleting this conversation."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name == DELETE_CONFIRMED_ACTION:
            return True
    return False


def redacted(data: dict) -> dict:
    """An event as stored: the user's and the bot's text with personal data replaced (bot/privacy).

    A user event carries its text twice (`text`, `parse_data.text`): it is redacted once.
    """
    text = data.get("text")
    if isinstance(text, str):
        data["text"] = redact(text)
    parse = data.get("parse_data")
    if isinstance(parse, dict) and isinstance(parse.get("text"), str):
        parse["text"] = data["text"] if parse["text"] == text else redact(parse["text"])
    return data


def _sqlite_wal(dbapi_connection: Any, _: Any) -> None:
    """Write-ahead log, synced at checkpoints: a save no longer waits for an fsync of its own.

    Rasa saves the tracker synchronously, inside the event loop, after every message; with SQLite's
    default (rollback journal, synchronous=FULL) that fsync took a quarter of the server's time under
    load (docs/scaling.md, profile). WAL with synchronous=NORMAL stays consistent after a crash of
    the process; a power cut may lose the last turns, never corrupt the file.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PrivateSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that stores only redacted text and forgets a conversation on "xóa dữ liệu".

    The bot still understands the message (NLU ran on the original); only what is kept is redacted.
    """

    _retention: asyncio.Task | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rasa_speed.install()  # built once per Rasa server process: the place for its speed fixes
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens a file database with NullPool: every save opened and closed a
            # connection, and the last close checkpoints the log (an fsync). Keep connections open.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
            )
            sa.event.listen(self.engine, "connect", _sqlite_wal)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    def _keep_retention(self) -> None:
        """Once per server: purge conversations older than RETENTION_DAYS daily (bot/privacy/retention.py).

        The store owns its data, so it also runs its retention, on its own database. RETENTION_DAYS=off
        disables it (e.g. when `make purge` runs from cron instead).
        """
        if self._retention is not None or not PrivacySettings.from_env().daily_purge:
            return
        url = self.engine.url.render_as_string(hide_password=False)
        cases = functools.partial(service.purge_closed, shared_store())  # the handoff service owns the cases
        self._retention = asyncio.get_running_loop().create_task(purge_daily(cases, tracker=url))

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._keep_retention()
        if asked_to_forget(tracker):
            await self.forget(tracker.sender_id)
            return
        # SQLTrackerStore.save, with every new event redacted before it is written.
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._new_events(session, tracker):
                data = redacted(event.as_dict())
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
        setattr(tracker, STORED_EVENTS, len(tracker.events))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            setattr(tracker, STORED_EVENTS, len(tracker.events))
        return tracker

    def _new_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The events not stored yet. Rasa counts the stored ones with a query on every save (13% of a
        worker's time on PostgreSQL); a tracker read from this store knows how many it had. Rasa holds
        the conversation's lock from reading to saving, so nobody else wrote in between. A tracker
        from elsewhere (a copy, a new conversation) is counted the way Rasa does."""
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None or tracker.events.maxlen is not None or stored > len(tracker.events):
            return self._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, None)

    async def forget(self, sender_id: str) -> int:
        """Delete every stored event of one conversation, and have the handoff service anonymise
        the child's cases (it owns them); returns how many events were deleted."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        logger.info("deleted a conversation on request (%d events)", deleted)
        try:
            await off_loop(service.forget, shared_store(), HandoffSettings.from_env(), sender_id)
        except Exception as exc:  # noqa: BLE001 - the conversation is gone; say what was not done
            logger.error("the child's handoff cases were not anonymised: %s", type(exc).__name__)
        try:
            WebInbox().forget(sender_id)  # counsellor messages still waiting for an offline web chat
        except Exception as exc:  # noqa: BLE001
            logger.error("the child's kept web chat messages were not deleted: %s", type(exc).__name__)
        return deleted
