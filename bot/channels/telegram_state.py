"""Small SQLite store that makes Telegram delivery exactly-once across restarts.

It holds no message text and no chat ids: only update ids (per bot), the polling offset and
button payloads too long for Telegram's 64-byte `callback_data` (those come from the domain).
The Rasa process (channel) and the polling runner share the file; each call opens its own
short connection, so the two processes never hold a lock for long.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import closing
from pathlib import Path

KEEP_SECONDS = 14 * 24 * 3600  # Telegram keeps undelivered updates for 24 h; two weeks is ample.
_PRUNE_EVERY = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS telegram_handled_updates (
    bot_id INTEGER NOT NULL,
    update_id INTEGER NOT NULL,
    handled_at REAL NOT NULL,
    PRIMARY KEY (bot_id, update_id)
);
CREATE TABLE IF NOT EXISTS telegram_poll_offset (
    bot_id INTEGER PRIMARY KEY,
    next_offset INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS telegram_button_payloads (
    key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


class TelegramState:
    """Handled update ids, polling offset and long button payloads of one bot."""

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

    # --- exactly-once ---------------------------------------------------------
    def claim(self, update_id: int) -> bool:
        """Atomically mark an update as handled; False when it was handled before."""
        now = time.time()
        with closing(self._connect()) as conn, conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO telegram_handled_updates (bot_id, update_id, handled_at) VALUES (?, ?, ?)",
                (self.bot_id, int(update_id), now),
            )
            claimed = cur.rowcount == 1
            self._claims += 1
            if claimed and self._claims % _PRUNE_EVERY == 1:
                conn.execute(
                    "DELETE FROM telegram_handled_updates WHERE handled_at < ?", (now - KEEP_SECONDS,)
                )
        return claimed

    def release(self, update_id: int) -> None:
        """Forget an update so a redelivery is processed (used when nothing could be sent)."""
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "DELETE FROM telegram_handled_updates WHERE bot_id = ? AND update_id = ?",
                (self.bot_id, int(update_id)),
            )

    # --- polling offset -------------------------------------------------------
    def get_offset(self) -> int | None:
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT next_offset FROM telegram_poll_offset WHERE bot_id = ?", (self.bot_id,)
            ).fetchone()
        return int(row[0]) if row else None

    def set_offset(self, next_offset: int) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT INTO telegram_poll_offset (bot_id, next_offset, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(bot_id) DO UPDATE SET next_offset = MAX(next_offset, excluded.next_offset), "
                "updated_at = excluded.updated_at",
                (self.bot_id, int(next_offset), time.time()),
            )

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
