"""Messages for a web chat conversation whose widget is not connected, kept until it comes back.

A socket.io emit to an empty room is lost without a trace, so the web chat never relies on it for
what matters: counsellor messages and handoff notices are stored here first (table
`webchat_inbox`, in the case store's database, `DATABASE_URL`), sent with their id, and removed
only when the widget acknowledges them (`bot_received`). When the widget reconnects with its session
id, whatever is still here is replayed in order. Entries older than `KEEP_DAYS` are dropped.
With several instances (socket.io over Redis) the table is shared: the instance whose socket got the
acknowledgement removes the row, and the instance that sent the message sees it gone (`holds`).

The calls are blocking (SQLAlchemy): the channel runs them in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import sqlalchemy as sa

from bot.handoff.store import shared_store, utcnow

KEEP_DAYS = 7  # a child who comes back within a week still reads the counsellor's answer

_metadata = sa.MetaData()
inbox_table = sa.Table(
    "webchat_inbox",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # Ids are never reused (SQLite would reuse the highest after a delete): the widget shows an id once.
    sqlite_autoincrement=True,
)


# One for the process: inboxes (one per channel object) may share an engine and race to create the table.
_create_lock = threading.Lock()


class WebInbox:
    """Undelivered messages per web chat conversation (session id)."""

    def __init__(self, engine: sa.engine.Engine | None = None) -> None:
        self._engine = engine

    @property
    def engine(self) -> sa.engine.Engine:
        engine = self._engine or shared_store().engine
        with _create_lock:
            if not getattr(engine, "_webchat_inbox_ready", False):  # once per engine (tests make several)
                try:
                    _metadata.create_all(engine)
                except sa.exc.DBAPIError:  # another process (instance) created it meanwhile
                    if not sa.inspect(engine).has_table(inbox_table.name):
                        raise
                engine._webchat_inbox_ready = True  # type: ignore[attr-defined]
        return engine

    def put(self, session_id: str, payload: dict[str, Any]) -> int:
        """Store a message for the conversation; its id travels with it to the widget."""
        with self.engine.begin() as conn:
            conn.execute(
                inbox_table.delete().where(inbox_table.c.created_at < utcnow() - dt.timedelta(days=KEEP_DAYS))
            )
            result = conn.execute(
                inbox_table.insert().values(
                    session_id=session_id,
                    payload=json.dumps(payload, ensure_ascii=False),
                    created_at=utcnow(),
                )
            )
            return int(result.inserted_primary_key[0])

    def pending(self, session_id: str) -> list[tuple[int, dict[str, Any]]]:
        """What the conversation has not acknowledged yet, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(inbox_table.c.id, inbox_table.c.payload)
                .where(inbox_table.c.session_id == session_id)
                .order_by(inbox_table.c.id)
            ).all()
        return [(int(row.id), json.loads(row.payload)) for row in rows]

    def holds(self, session_id: str, msg_id: int) -> bool:
        """Is this message still waiting for the widget's confirmation? (Another instance may have had it.)"""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(inbox_table.c.id).where(
                    inbox_table.c.id == msg_id, inbox_table.c.session_id == session_id
                )
            ).first()
        return row is not None

    def remove(self, session_id: str, ids: list[int]) -> int:
        """The widget has shown these: forget them. Returns how many were removed."""
        if not ids:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(
                inbox_table.delete().where(inbox_table.c.session_id == session_id, inbox_table.c.id.in_(ids))
            )
            return int(result.rowcount or 0)

    def forget(self, session_id: str) -> None:
        """The child deleted their data: drop what is waiting for them."""
        with self.engine.begin() as conn:
            conn.execute(inbox_table.delete().where(inbox_table.c.session_id == session_id))
