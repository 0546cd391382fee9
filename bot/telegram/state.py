"""Small SQLite store that makes Telegram delivery at-least-once with dedupe across restarts.

It holds no message text and no chat ids: only hashed dedupe keys of handled messages (per bot)
and button payloads too long for Telegram's 64-byte `callback_data` (those come from the domain).
The Rasa process (channel) and the polling runner share the file; each call opens its own
short connection, so the two processes never hold a lock for long.

Dedupe keys never rely on `update_id`: after a week without updates Telegram picks the next
`update_id` at random, possibly lower than every id seen before. A message is known by its
chat id + message id (+ edit date for an edit), a button press by its callback query id.

A claim is `pending` while the message is handled and becomes `done` only afterwards, so a
crash or restart mid-message does not lose it: a pending claim older than `LEASE_SECONDS`
(its handler died) is taken over by the next delivery of the same message.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import closing
from enum import Enum
from pathlib import Path

from telegram import Update

KEEP_SECONDS = 14 * 24 * 3600  # Telegram keeps undelivered updates for 24 h; two weeks is ample.
LEASE_SECONDS = 180.0  # longer than any handling of one message (the runner waits 120 s for Rasa)
_PRUNE_EVERY = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS telegram_handled (
    bot_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    at REAL NOT NULL,
    PRIMARY KEY (bot_id, key)
);
CREATE TABLE IF NOT EXISTS telegram_button_payloads (
    key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


class Claim(str, Enum):
    NEW = "new"  # handle it (first delivery, or the handler of an earlier one died)
    DUPLICATE = "duplicate"  # handled before
    BUSY = "busy"  # another delivery is being handled right now


def dedupe_key(update: Update) -> str:
    """What identifies an update's content for good (never the update id alone, see above)."""
    if update.callback_query is not None:
        return f"cb:{update.callback_query.id}"
    if update.edited_message is not None:
        message = update.edited_message
        edited = int(message.edit_date.timestamp()) if message.edit_date else 0
        return f"ed:{message.chat.id}:{message.message_id}:{edited}"
    if update.message is not None:
        return f"m:{update.message.chat.id}:{update.message.message_id}"
    return f"u:{update.update_id}"  # kinds we do not subscribe to; the best there is


def _hashed(key: str) -> str:
    """Keys hold chat ids: store a digest, so the file says nothing about who wrote."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class TelegramState:
    """Handled-message keys and long button payloads of one bot."""

    def __init__(self, path: str | Path, bot_id: int | None) -> None:
        self.path = Path(path)
        self.bot_id = bot_id or 0
        self._ready = False
        self._claims = 0

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=10)
        if not self._ready:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self._ready = True
        return conn

    # --- at-least-once, deduplicated ----------------------------------------------------
    def claim(self, key: str, now: float | None = None) -> Claim:
        """Start handling `key`: NEW (go ahead), DUPLICATE (done before) or BUSY (in hand elsewhere)."""
        now = time.time() if now is None else now
        key = _hashed(key)
        with closing(self._connect()) as conn, conn:
            conn.execute("BEGIN IMMEDIATE")  # read and write under one lock: two workers never both win
            row = conn.execute(
                "SELECT done, at FROM telegram_handled WHERE bot_id = ? AND key = ?", (self.bot_id, key)
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO telegram_handled (bot_id, key, done, at) VALUES (?, ?, 0, ?)",
                    (self.bot_id, key, now),
                )
                result = Claim.NEW
            elif row[0]:
                result = Claim.DUPLICATE
            elif row[1] < now - LEASE_SECONDS:  # its handler died mid-message: take it over
                conn.execute(
                    "UPDATE telegram_handled SET at = ? WHERE bot_id = ? AND key = ?", (now, self.bot_id, key)
                )
                result = Claim.NEW
            else:
                result = Claim.BUSY
            self._claims += 1
            if result is Claim.NEW and self._claims % _PRUNE_EVERY == 1:
                conn.execute("DELETE FROM telegram_handled WHERE done = 1 AND at < ?", (now - KEEP_SECONDS,))
        return result

    def done(self, key: str) -> None:
        """The message was handled: later deliveries of it are duplicates."""
        key = _hashed(key)
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "UPDATE telegram_handled SET done = 1, at = ? WHERE bot_id = ? AND key = ?",
                (time.time(), self.bot_id, key),
            )

    def release(self, key: str) -> None:
        """Forget a claim so that a redelivery is handled (nothing could be sent)."""
        key = _hashed(key)
        with closing(self._connect()) as conn, conn:
            conn.execute("DELETE FROM telegram_handled WHERE bot_id = ? AND key = ?", (self.bot_id, key))

    # --- button payloads longer than callback_data allows -----------------------
    def put_payload(self, payload: str) -> str:
        key = "p:" + hashlib.sha256(payload.encode()).hexdigest()[:40]
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT OR IGNORE INTO telegram_button_payloads (key, payload, created_at) VALUES (?, ?, ?)",
                (key, payload, time.time()),
            )
        return key

    def get_payload(self, key: str) -> str | None:
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT payload FROM telegram_button_payloads WHERE key = ?", (key,)
            ).fetchone()
        return str(row[0]) if row else None
