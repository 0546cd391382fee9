"""What the Zalo channel keeps, in the case store's database (`DATABASE_URL`, bot/handoff/store.py).

- `zalo_tokens`: the OA's current access/refresh token pair. Zalo's refresh token is single-use:
  every refresh returns a new pair that must be saved before anything else uses it, and it must
  survive restarts and be shared by every Rasa worker, so it lives here and never in a file.
- `zalo_events`: an inbox of webhook events, for exactly-once on `msg_id` with at-least-once
  handling. The webhook answers Zalo 200 at once, so Zalo never redelivers: a process that dies
  mid-message would lose it. The event is therefore written here (with its payload) *before* the
  200, leased while it is handled, and marked done only after; the channel's worker picks up
  whatever a dead process left behind. The payload (the child's text) is wiped once handled.
  Keys are a hash of `msg_id` (or of event, user and time), never a user id in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.handoff.store import Base, HandoffStore, utcnow

PENDING, DONE, FAILED = "pending", "done", "failed"
KEEP_DONE = dt.timedelta(days=14)


class ZaloTokenRow(Base):
    __tablename__ = "zalo_tokens"
    app_id = sa.Column(sa.String(64), primary_key=True)
    access_token = sa.Column(sa.Text, nullable=False)
    refresh_token = sa.Column(sa.Text, nullable=False)
    #: None: not known (a pair seeded from the environment); used until Zalo says it expired.
    expires_at = sa.Column(sa.DateTime)
    #: sha256 of the ZALO_REFRESH_TOKEN that seeded the row: a new one in the environment re-seeds.
    seeded_from = sa.Column(sa.String(64), nullable=False)
    updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)


class ZaloEventRow(Base):
    __tablename__ = "zalo_events"
    key = sa.Column(sa.String(64), primary_key=True)
    received_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    status = sa.Column(sa.String(10), nullable=False, index=True)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    next_try_at = sa.Column(sa.DateTime, nullable=False, index=True)
    payload = sa.Column(sa.Text)


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime | None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def event_key(event: dict) -> str | None:
    """Dedupe key of a webhook event: its `msg_id`, else event name + user + time (follow, unfollow)."""
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    msg_id = message.get("msg_id") or message.get("mid")
    if msg_id:
        return _digest(f"msg:{msg_id}")
    who = event.get("follower") or event.get("sender")
    user = who.get("id") if isinstance(who, dict) else None
    if event.get("event_name") and user and event.get("timestamp"):
        return _digest(f"{event['event_name']}:{user}:{event['timestamp']}")
    return None


class ZaloState:
    """Token pair and event inbox of one Zalo app, on the case store's engine."""

    def __init__(self, store: HandoffStore, app_id: str) -> None:
        self.store = store
        self.app_id = app_id
        self._ready = False

    def _engine(self) -> sa.engine.Engine:
        engine = self.store.engine
        if not self._ready:  # the store created its tables before this module was imported, maybe
            for table in (ZaloTokenRow.__table__, ZaloEventRow.__table__):
                table.create(engine, checkfirst=True)
            self._ready = True
        return engine

    def _session(self):  # type: ignore[no-untyped-def]
        self._engine()
        return self.store.session()

    # --- tokens ---------------------------------------------------------------------------
    def tokens(self, env_access: str, env_refresh: str) -> Tokens | None:
        """The current pair; seeded from the environment the first time, or when the environment
        holds a new refresh token (the operator authorised the OA again)."""
        with self._session() as session:
            row = session.get(ZaloTokenRow, self.app_id, with_for_update=True)
            if env_refresh and (row is None or row.seeded_from != _digest(env_refresh)):
                if row is None:
                    row = ZaloTokenRow(app_id=self.app_id)
                    session.add(row)
                row.access_token, row.refresh_token = env_access, env_refresh
                row.expires_at, row.seeded_from, row.updated_at = None, _digest(env_refresh), utcnow()
            if row is None:
                return None
            return Tokens(row.access_token, row.refresh_token, row.expires_at)

    def save_tokens(self, access: str, refresh: str, expires_in: float) -> Tokens:
        expires_at = utcnow() + dt.timedelta(seconds=expires_in)
        with self._session() as session:
            row = session.get(ZaloTokenRow, self.app_id, with_for_update=True)
            if row is None:  # pragma: no cover - tokens() always runs first
                row = ZaloTokenRow(app_id=self.app_id, seeded_from="")
                session.add(row)
            row.access_token, row.refresh_token, row.expires_at, row.updated_at = (
                access,
                refresh,
                expires_at,
                utcnow(),
            )
        return Tokens(access, refresh, expires_at)

    # --- event inbox ------------------------------------------------------------------------
    def accept(self, key: str, event: dict, lease: float) -> bool:
        """Write a new event, leased to the caller; False if this key was seen before."""
        now = utcnow()
        try:
            with self._session() as session:
                session.add(
                    ZaloEventRow(
                        key=key,
                        received_at=now,
                        status=PENDING,
                        attempts=1,
                        next_try_at=now + dt.timedelta(seconds=lease),
                        payload=json.dumps(event, ensure_ascii=False),
                    )
                )
            return True
        except sa.exc.IntegrityError:
            return False

    def due(self, limit: int = 20) -> list[str]:
        """Pending events whose lease ran out (their handler died or failed)."""
        with self._session() as session:
            rows = (
                session.query(ZaloEventRow.key)
                .filter(ZaloEventRow.status == PENDING, ZaloEventRow.next_try_at <= utcnow())
                .order_by(ZaloEventRow.received_at)
                .limit(limit)
            )
            return [r.key for r in rows]

    def take(self, key: str, lease: float) -> tuple[dict, int] | None:
        """Lease a due event (payload, attempt number); None if it is done or someone has it."""
        now = utcnow()
        with self._session() as session:
            taken = session.execute(
                sa.update(ZaloEventRow)
                .where(
                    ZaloEventRow.key == key, ZaloEventRow.status == PENDING, ZaloEventRow.next_try_at <= now
                )
                .values(next_try_at=now + dt.timedelta(seconds=lease), attempts=ZaloEventRow.attempts + 1)
            ).rowcount
            if not taken:
                return None
            row = session.get(ZaloEventRow, key)
            return json.loads(row.payload or "{}"), row.attempts

    def done(self, key: str) -> None:
        """Handled: the payload (the child's words) is wiped; the key stays to refuse repeats."""
        now = utcnow()
        with self._session() as session:
            session.execute(
                sa.update(ZaloEventRow)
                .where(ZaloEventRow.key == key)
                .values(status=DONE, payload=None, next_try_at=now)
            )
            session.execute(
                sa.delete(ZaloEventRow).where(
                    ZaloEventRow.status != PENDING, ZaloEventRow.received_at < now - KEEP_DONE
                )
            )

    def retry_later(self, key: str, delay: float, give_up: bool) -> None:
        with self._session() as session:
            values: dict[str, Any] = {"next_try_at": utcnow() + dt.timedelta(seconds=delay)}
            if give_up:
                values.update(status=FAILED, payload=None)
            session.execute(sa.update(ZaloEventRow).where(ZaloEventRow.key == key).values(**values))

    def status(self, key: str) -> str | None:
        with self._session() as session:
            row = session.get(ZaloEventRow, key)
            return row.status if row else None
