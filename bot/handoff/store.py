"""The case store: SQLAlchemy 1.4 on `DATABASE_URL` (default `sqlite:///var/handoff.db`).

Lifecycle (an explicit state machine, SPEC.md names the states):

    open (waiting for a counsellor) --claim--> claimed --close--> closed
      ^                                                             |
      +------------------- reopen (the child comes back) -----------+
    open --cancel (by the child)--> closed

Priorities: `urgent` (imminent risk), `high`, `normal`. The queue lists open cases by priority,
then by how long they have waited. Every change is an event in `handoff_events`; alerts and
other outgoing messages go through `handoff_outbox` and are retried until sent, once each.
Only redacted text (bot/privacy) is ever stored.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import datetime as dt
import functools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.handoff.settings import HandoffSettings, IntakeLimits
from bot.privacy.redact import redact

logger = logging.getLogger(__name__)
T = TypeVar("T")

OPEN, CLAIMED, CLOSED = "open", "claimed", "closed"
ACTIVE = (OPEN, CLAIMED)
PRIORITIES = ["urgent", "high", "normal"]  # first = most urgent
SUMMARY_MESSAGES = 10

Base = declarative_base()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def priority_for_level(level: str | None) -> str:
    """Risk level (bot/risk.py) -> case priority."""
    if level == "imminent":
        return "urgent"
    if level == "high":
        return "high"
    return "normal"


class CaseRow(Base):
    __tablename__ = "handoff_cases"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    waiting_since = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    priority = sa.Column(sa.String(10), nullable=False)
    priority_rank = sa.Column(sa.Integer, nullable=False, index=True)
    risk_category = sa.Column(sa.String(60))
    channel = sa.Column(sa.String(30), nullable=False)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    summary = sa.Column(sa.Text, nullable=False, default="")
    status = sa.Column(sa.String(10), nullable=False, index=True)
    counsellor = sa.Column(sa.String(120))
    #: 0 = first alert only, 1 = re-alerted after the timeout, 2 = overdue (twice the timeout)
    realerts = sa.Column(sa.Integer, nullable=False, default=0)
    # Columns added after the first release are nullable: `_add_missing_columns` adds them to old databases.
    #: Where the request came from (hashed client address, or the sender id): the per-source cap.
    source = sa.Column(sa.String(64), index=True)
    #: Over the cap or in a burst: its alerts go into one digest message instead of one message each.
    digest = sa.Column(sa.Boolean)
    #: Claimed case: the child's first message the counsellor has not answered yet (None: nothing waits).
    child_waiting_since = sa.Column(sa.DateTime)
    #: The counsellors were re-alerted that the counsellor is silent (once per unanswered stretch).
    silence_alerted = sa.Column(sa.Boolean)


class EventRow(Base):
    __tablename__ = "handoff_events"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    case_id = sa.Column(sa.Integer, sa.ForeignKey("handoff_cases.id"), nullable=False, index=True)
    at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    kind = sa.Column(sa.String(30), nullable=False)
    actor = sa.Column(sa.String(120))
    detail = sa.Column(sa.Text)


class OutboxRow(Base):
    __tablename__ = "handoff_outbox"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    #: Makes enqueueing idempotent: one row per key, so a message is sent at most once.
    key = sa.Column(sa.String(120), nullable=False, unique=True)
    case_id = sa.Column(sa.Integer, sa.ForeignKey("handoff_cases.id"), index=True)
    kind = sa.Column(sa.String(30), nullable=False)
    payload = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    next_try_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, index=True)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    sent_at = sa.Column(sa.DateTime, index=True)
    result = sa.Column(sa.Text)
    last_error = sa.Column(sa.String(200))
    #: Where the message landed (Telegram chat and message id), to map a reply back to its case.
    chat_id = sa.Column(sa.BigInteger)
    message_id = sa.Column(sa.BigInteger)
    #: Sending order: most urgent first (0 = urgent alert), then oldest.
    priority_rank = sa.Column(sa.Integer)
    #: A permanent error (and its short fallback failed too): never retried, reported at ERROR.
    gave_up_at = sa.Column(sa.DateTime)
    __table_args__ = (sa.Index("ix_handoff_outbox_message", "chat_id", "message_id"),)


@dataclass
class Event:
    at: dt.datetime
    kind: str
    actor: str | None
    detail: str | None

    def to_json(self) -> dict:
        return {"at": _iso(self.at), "kind": self.kind, "actor": self.actor, "detail": self.detail}


@dataclass
class Case:
    id: int
    created_at: dt.datetime
    waiting_since: dt.datetime
    priority: str
    risk_category: str | None
    channel: str
    sender_id: str
    summary: str
    status: str
    counsellor: str | None
    realerts: int = 0
    source: str | None = None
    digest: bool = False
    child_waiting_since: dt.datetime | None = None
    history: list[Event] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: CaseRow) -> Case:
        return cls(
            id=row.id,
            created_at=row.created_at,
            waiting_since=row.waiting_since,
            priority=row.priority,
            risk_category=row.risk_category,
            channel=row.channel,
            sender_id=row.sender_id,
            summary=row.summary,
            status=row.status,
            counsellor=row.counsellor,
            realerts=row.realerts,
            source=row.source,
            digest=bool(row.digest),
            child_waiting_since=row.child_waiting_since,
        )

    def counsellor_silent(self, timeout: dt.timedelta, now: dt.datetime) -> bool:
        """Claimed, and the child has waited `timeout` for an answer from their counsellor."""
        return (
            self.status == CLAIMED
            and self.child_waiting_since is not None
            and now - self.child_waiting_since >= timeout
        )

    def waiting_minutes(self, now: dt.datetime | None = None) -> int:
        return max(0, int(((now or utcnow()) - self.waiting_since).total_seconds() // 60))

    def to_json(self, with_history: bool = False) -> dict:
        data = {
            "id": self.id,
            "created_at": _iso(self.created_at),
            "waiting_since": _iso(self.waiting_since),
            "priority": self.priority,
            "risk_category": self.risk_category,
            "channel": self.channel,
            "conversation_id": self.sender_id,
            "summary": self.summary,
            "status": self.status,
            "counsellor": self.counsellor,
            "overdue": self.realerts >= 2,
        }
        if with_history:
            data["history"] = [e.to_json() for e in self.history]
        return data


@dataclass
class OutboxItem:
    id: int
    key: str
    case_id: int | None
    kind: str
    payload: dict
    attempts: int


class CaseError(Exception):
    """A lifecycle step that is not allowed (claiming a claimed case, unknown case...)."""


class ChildUnreachable(Exception):
    """The child's channel cannot take a message now (Zalo: 48 h after the child's last message).

    `reason` is said to the counsellor, in Vietnamese; the case records it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreUnavailable(Exception):
    """The case database did not answer within `DATABASE_TIMEOUT_SECONDS`."""


def db_timeout() -> float:
    """Seconds any case-store call may take (`DATABASE_TIMEOUT_SECONDS`, default 5)."""
    return HandoffSettings.from_env().database_timeout


# Store calls from the event loop run here: a hung database blocks these threads, never the loop.
# Bounded, so a hung database cannot pile up threads; queued calls time out like running ones.
_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="handoff-db")


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking store call in a worker thread, for at most `db_timeout()` seconds (+1 s grace).

    Raises `StoreUnavailable` (and logs at ERROR) when the database does not answer in time: the
    caller then gives the child 111 instead of freezing every channel.
    """
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_executor, functools.partial(fn, *args, **kwargs))
    try:
        return await asyncio.wait_for(future, db_timeout() + 1.0)
    except asyncio.TimeoutError:
        name = getattr(fn, "__qualname__", getattr(fn, "__name__", "call"))
        logger.error("case store did not answer within %.0f s (%s)", db_timeout() + 1.0, name)
        raise StoreUnavailable(name) from None


async def stop_task(task: asyncio.Future[Any]) -> None:
    """Cancel a background worker and wait until it has really stopped.

    Python 3.10's `wait_for` (in `off_loop`) can swallow a cancel that lands as its call finishes, and
    the worker then runs on: a plain `cancel(); await task` waited for ever and hung server shutdown.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


_shared: dict[str, HandoffStore] = {}


def shared_store() -> HandoffStore:
    """The process's store for the current `DATABASE_URL` (one engine per URL, created on first use)."""
    url = HandoffSettings.from_env().database_url
    if url not in _shared:
        _shared[url] = HandoffStore(url)
    return _shared[url]


def _add_missing_columns(engine: sa.engine.Engine) -> None:
    """A database made by an older release lacks the newer (nullable) columns: add them."""
    for table in Base.metadata.sorted_tables:
        have = {c["name"] for c in sa.inspect(engine).get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            try:
                with engine.begin() as conn:
                    conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
            except sa.exc.DBAPIError:  # the other process (Rasa / action server) added it first
                if column.name not in {c["name"] for c in sa.inspect(engine).get_columns(table.name)}:
                    raise


def summarise(messages: Iterable[str]) -> str:
    """Redacted summary of the last ≤ 10 messages, one per line."""
    # Only the last ones are redacted: the whole conversation is not redacted again at every case update.
    last = [m for m in messages if m and m.strip()][-SUMMARY_MESSAGES:]
    return "\n".join(f"- {redact(m).replace(chr(10), ' ').strip()}" for m in last)


class HandoffStore:
    """Cases, events and outbox in one SQL database. The engine is created on first use."""

    def __init__(self, url: str | None = None, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.url = url or HandoffSettings.from_env().database_url
        #: Naive-UTC "now" of every time rule of the store (tests set a fake clock). The default looks
        #: `utcnow` up at each call, so patching the module's `utcnow` also moves it.
        self.clock: Callable[[], dt.datetime] = clock or (lambda: utcnow())
        self._engine: sa.engine.Engine | None = None
        self._session: sessionmaker | None = None
        self._lock = threading.RLock()

    # --- plumbing -----------------------------------------------------------------------
    @property
    def engine(self) -> sa.engine.Engine:
        with self._lock:  # the retention purge uses the store from a thread too
            return self._engine_locked()

    def _engine_locked(self) -> sa.engine.Engine:
        if self._engine is None:
            url = sa.engine.make_url(self.url)
            kwargs: dict[str, Any] = {"future": True}
            if url.get_backend_name() == "sqlite":
                if url.database and url.database != ":memory:":
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                # Rasa's server and the action server both write: wait a little for the lock, never long.
                kwargs["connect_args"] = {"timeout": db_timeout(), "check_same_thread": False}
            else:
                kwargs["pool_pre_ping"] = True
                kwargs["pool_timeout"] = db_timeout()
                if url.get_backend_name() == "postgresql":  # no answer in time = an error, not a hang
                    ms = int(db_timeout() * 1000)
                    kwargs["connect_args"] = {
                        "connect_timeout": max(2, int(db_timeout())),
                        "options": f"-c statement_timeout={ms} -c lock_timeout={ms}",
                    }
            engine = sa.create_engine(url, **kwargs)
            Base.metadata.create_all(engine)
            _add_missing_columns(engine)
            self._session = sessionmaker(engine, future=True, expire_on_commit=False)
            self._engine = engine
        return self._engine

    def now(self) -> dt.datetime:
        return self.clock()

    def session(self):  # type: ignore[no-untyped-def]
        self.engine
        assert self._session is not None
        return self._session.begin()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def drop_all(self) -> None:
        """Tests only: remove every handoff table."""
        Base.metadata.drop_all(self.engine)

    def _event(
        self, session: Any, case_id: int, kind: str, actor: str | None, detail: str | None = None
    ) -> None:
        session.add(EventRow(case_id=case_id, kind=kind, actor=actor, detail=detail, at=self.clock()))

    def _row(self, session: Any, case_id: int) -> CaseRow:
        row = session.get(CaseRow, case_id)
        if row is None:
            raise CaseError(f"case {case_id} does not exist")
        return row

    # --- lifecycle ----------------------------------------------------------------------
    def open_case(
        self,
        sender_id: str,
        channel: str,
        priority: str,
        risk_category: str | None = None,
        messages: Iterable[str] = (),
        source: str | None = None,
        limits: IntakeLimits | None = None,
    ) -> tuple[Case, bool]:
        """The child's active case, raised to `priority` if higher; else a new (or re-opened) one.

        Returns (case, is_new): `is_new` is True when counsellors must be alerted. A new or
        re-opened case past `limits` (per sender and per source per hour, or a burst across all
        sources) is still stored, but marked `digest`: its alerts are collapsed into one message.
        """
        if priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r}")
        if sender_id.startswith("deleted:"):  # the id of an anonymised case: never a child's conversation
            raise CaseError("reserved sender id")
        summary = summarise(messages)
        now = self.clock()
        with self.session() as session:
            row = (
                session.query(CaseRow)
                .filter(CaseRow.sender_id == sender_id)
                .order_by(CaseRow.id.desc())
                .with_for_update()
                .first()
            )
            if row is not None and row.status in ACTIVE:
                raised = PRIORITIES.index(priority) < row.priority_rank
                if raised:
                    self._event(session, row.id, "priority", "bot", f"{row.priority} -> {priority}")
                    row.priority, row.priority_rank = priority, PRIORITIES.index(priority)
                if risk_category:
                    row.risk_category = risk_category
                if summary:
                    row.summary = summary
                row.updated_at = now
                return Case.from_row(row), raised
            digest = self._over_limits(session, sender_id, source, now, limits)
            if row is not None:  # closed: the child came back
                row.status, row.counsellor, row.realerts = OPEN, None, 0
                row.source, row.digest = source or row.source, digest
                row.child_waiting_since, row.silence_alerted = None, False
                row.priority, row.priority_rank = priority, PRIORITIES.index(priority)
                row.risk_category = risk_category or row.risk_category
                row.channel = channel
                row.summary = summary or row.summary
                row.waiting_since = row.updated_at = now
                self._event(session, row.id, "reopened", "child")
                return Case.from_row(row), True
            row = CaseRow(
                created_at=now,
                updated_at=now,
                waiting_since=now,
                priority=priority,
                priority_rank=PRIORITIES.index(priority),
                risk_category=risk_category,
                channel=channel,
                sender_id=sender_id,
                summary=summary,
                status=OPEN,
                realerts=0,
                source=source,
                digest=digest,
            )
            session.add(row)
            session.flush()
            self._event(session, row.id, "created", "bot", priority)
            return Case.from_row(row), True

    def _over_limits(
        self,
        session: Any,
        sender_id: str,
        source: str | None,
        now: dt.datetime,
        limits: IntakeLimits | None,
    ) -> bool:
        """True when a new case from this sender/source must go into the digest (see `IntakeLimits`)."""
        if limits is None:
            return False
        opened = (
            session.query(sa.func.count(EventRow.id))
            .join(CaseRow, CaseRow.id == EventRow.case_id)
            .filter(EventRow.kind.in_(("created", "reopened")))
        )
        hour = now - dt.timedelta(hours=1)
        cap = limits.per_source_hour
        if opened.filter(CaseRow.sender_id == sender_id, EventRow.at >= hour).scalar() >= cap:
            return True
        if source and opened.filter(CaseRow.source == source, EventRow.at >= hour).scalar() >= cap:
            return True
        alone = opened.filter(EventRow.at >= now - dt.timedelta(minutes=1), CaseRow.digest.isnot(True))
        return alone.scalar() >= limits.alerts_per_minute

    def claim(self, case_id: int, counsellor: str) -> Case:
        """open -> claimed, atomically: of two counsellors pressing at once, one wins."""
        with self.session() as session:
            done = session.execute(
                sa.update(CaseRow)
                .where(CaseRow.id == case_id, CaseRow.status == OPEN)
                .values(
                    status=CLAIMED,
                    counsellor=counsellor,
                    updated_at=self.clock(),
                    child_waiting_since=None,
                    silence_alerted=False,
                )
            ).rowcount
            row = self._row(session, case_id)
            if not done:
                raise CaseError(
                    f"case {case_id} is {row.status}" + (f" by {row.counsellor}" if row.counsellor else "")
                )
            self._event(session, case_id, "claimed", counsellor)
            return Case.from_row(row)

    def close(self, case_id: int, actor: str, kind: str = "closed") -> Case:
        """open/claimed -> closed (`kind` = closed by a counsellor, cancelled by the child, ...)."""
        with self.session() as session:
            row = self._row(session, case_id)
            if row.status == CLOSED:
                raise CaseError(f"case {case_id} is already closed")
            row.status, row.updated_at = CLOSED, self.clock()
            self._event(session, case_id, kind, actor)
            return Case.from_row(row)

    def cancel_waiting(self, sender_id: str) -> Case | None:
        """The child cancels their open (not yet claimed) case; None if there is none."""
        case = self.active_case(sender_id)
        if case is None or case.status != OPEN:
            return None
        try:
            return self.close(case.id, "child", kind="cancelled")
        except CaseError:
            return None

    def add_event(self, case_id: int, kind: str, actor: str | None, detail: str | None = None) -> Case:
        """Record an event; `detail` is redacted first. A child's message starts the wait for the
        counsellor's answer (if none was running); the counsellor's message ends it."""
        with self.session() as session:
            row = self._row(session, case_id)
            self._event(session, case_id, kind, actor, redact(detail) if detail else None)
            if kind == "child_message" and row.child_waiting_since is None:
                row.child_waiting_since = self.clock()
            elif kind == "counsellor_message":
                row.child_waiting_since, row.silence_alerted = None, False
            return Case.from_row(row)

    def forget_sender(self, sender_id: str) -> builtins.list[int]:
        """The child asked to delete their data: their cases keep only anonymous counts.

        Each case loses its link to the child (sender id), its summary, the text of its events and
        any unsent message; an active case is closed. Returns the ids of the cases changed.
        """
        changed: list[int] = []
        with self.session() as session:
            for row in session.query(CaseRow).filter(CaseRow.sender_id == sender_id).with_for_update():
                if row.status in ACTIVE:
                    row.status = CLOSED
                    self._event(session, row.id, "deleted_by_child", "child")
                row.sender_id = f"deleted:{row.id}"
                row.summary, row.source = "", None
                row.updated_at = self.clock()
                session.query(EventRow).filter(EventRow.case_id == row.id).update({"detail": None})
                session.query(OutboxRow).filter(
                    OutboxRow.case_id == row.id, OutboxRow.sent_at.is_(None)
                ).update({"sent_at": self.clock(), "payload": "{}", "last_error": "deleted_by_child"})
                changed.append(row.id)
        return changed

    def anonymise_closed_before(self, cutoff: dt.datetime, dry_run: bool = False) -> builtins.list[int]:
        """Retention (bot/privacy/retention.py): closed cases with no activity since `cutoff`
        (naive UTC) lose their link to the child, like `forget_sender`; rows stay for counts.

        A case counts as active until its last update and its last event; open and claimed cases
        and cases already anonymised are never touched. `dry_run` only returns the ids.
        """
        if cutoff.tzinfo is not None:
            cutoff = cutoff.astimezone(dt.timezone.utc).replace(tzinfo=None)
        recent_event = sa.exists().where(EventRow.case_id == CaseRow.id, EventRow.at >= cutoff)
        changed: list[int] = []
        with self.session() as session:
            query = session.query(CaseRow).filter(
                CaseRow.status == CLOSED,
                CaseRow.updated_at < cutoff,
                ~CaseRow.sender_id.like("deleted:%"),
                ~recent_event,
            )
            if not dry_run:
                query = query.with_for_update()
            for row in query.order_by(CaseRow.id):
                changed.append(row.id)
                if dry_run:
                    continue
                row.sender_id = f"deleted:{row.id}"
                row.summary, row.source = "", None
                session.query(EventRow).filter(EventRow.case_id == row.id).update({"detail": None})
                session.query(OutboxRow).filter(
                    OutboxRow.case_id == row.id, OutboxRow.sent_at.is_(None)
                ).update({"sent_at": self.clock(), "payload": "{}", "last_error": "retention"})
                self._event(session, row.id, "anonymised_retention", "bot")
        return changed

    # --- reading ------------------------------------------------------------------------
    def get(self, case_id: int, with_history: bool = False) -> Case:
        with self.session() as session:
            case = Case.from_row(self._row(session, case_id))
            if with_history:
                rows = session.query(EventRow).filter(EventRow.case_id == case_id).order_by(EventRow.id)
                case.history = [Event(r.at, r.kind, r.actor, r.detail) for r in rows]
            return case

    def active_case(self, sender_id: str) -> Case | None:
        with self.session() as session:
            row = (
                session.query(CaseRow)
                .filter(CaseRow.sender_id == sender_id, CaseRow.status.in_(ACTIVE))
                .order_by(CaseRow.id.desc())
                .first()
            )
            return Case.from_row(row) if row else None

    def latest_case(self, sender_id: str) -> Case | None:
        with self.session() as session:
            row = (
                session.query(CaseRow)
                .filter(CaseRow.sender_id == sender_id)
                .order_by(CaseRow.id.desc())
                .first()
            )
            return Case.from_row(row) if row else None

    def queue(self) -> builtins.list[Case]:
        """Open cases: most urgent first, then the longest waiting."""
        return self.list(OPEN)

    def list(self, status: str | None = None) -> builtins.list[Case]:
        with self.session() as session:
            query = session.query(CaseRow)
            if status:
                query = query.filter(CaseRow.status == status)
            rows = query.order_by(CaseRow.priority_rank, CaseRow.waiting_since, CaseRow.id)
            return [Case.from_row(r) for r in rows]

    # --- timeouts -----------------------------------------------------------------------
    def due_realerts(self, timeout: dt.timedelta, now: dt.datetime | None = None) -> builtins.list[Case]:
        """Open cases past the timeout (re-alert) or twice it (overdue); each level is returned once.

        The returned cases already have `realerts` raised (1 = re-alerted, 2 = overdue).
        """
        now = now or self.clock()
        due: list[Case] = []
        with self.session() as session:
            rows = (
                session.query(CaseRow).filter(CaseRow.status == OPEN, CaseRow.realerts < 2).with_for_update()
            )
            for row in rows:
                level = min(2, int((now - row.waiting_since) / timeout)) if timeout.total_seconds() > 0 else 2
                if level > row.realerts:
                    row.realerts = level
                    self._event(session, row.id, "overdue" if level == 2 else "realert", "bot")
                    due.append(Case.from_row(row))
        return due

    def due_silences(self, timeout: dt.timedelta) -> builtins.list[Case]:
        """Claimed cases whose child has waited `timeout` for their counsellor; each stretch once."""
        now = self.clock()
        due: list[Case] = []
        with self.session() as session:
            rows = (
                session.query(CaseRow)
                .filter(
                    CaseRow.status == CLAIMED,
                    CaseRow.child_waiting_since <= now - timeout,
                    CaseRow.silence_alerted.isnot(True),
                )
                .with_for_update()
            )
            for row in rows:
                row.silence_alerted = True
                self._event(session, row.id, "counsellor_silent", "bot", row.counsellor)
                due.append(Case.from_row(row))
        return due

    # --- outbox -------------------------------------------------------------------------
    def enqueue(
        self,
        key: str,
        kind: str,
        payload: dict,
        case_id: int | None = None,
        priority_rank: int = 2,
        not_before: dt.datetime | None = None,
    ) -> bool:
        """Add an outgoing message once; False if `key` was already enqueued.

        `priority_rank`: 0 goes first (urgent alerts), then 1, 2...; the oldest first within a rank.
        `not_before`: not sent earlier (a digest gathers a burst first).
        """
        now = self.clock()
        try:
            with self.session() as session:
                session.add(
                    OutboxRow(
                        key=key,
                        case_id=case_id,
                        kind=kind,
                        payload=json.dumps(payload, ensure_ascii=False),
                        created_at=now,
                        next_try_at=not_before or now,
                        priority_rank=priority_rank,
                    )
                )
            return True
        except sa.exc.IntegrityError:
            return False

    def _due(self, session: Any, now: dt.datetime) -> Any:
        return session.query(OutboxRow).filter(
            OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None), OutboxRow.next_try_at <= now
        )

    def due_outbox(self, now: dt.datetime | None = None, limit: int = 50) -> builtins.list[OutboxItem]:
        """Messages to send now (digest rows aside): most urgent first, then the oldest."""
        now = now or self.clock()
        with self.session() as session:
            rows = (
                self._due(session, now)
                .filter(OutboxRow.kind != "digest")
                .order_by(sa.func.coalesce(OutboxRow.priority_rank, 2), OutboxRow.id)
                .limit(limit)
            )
            return [
                OutboxItem(r.id, r.key, r.case_id, r.kind, json.loads(r.payload), r.attempts) for r in rows
            ]

    def next_digest_at(self, delay: float) -> dt.datetime:
        """When the digest being gathered goes out: the time of the pending one, else `delay` s from now."""
        with self.session() as session:
            pending = (
                session.query(sa.func.min(OutboxRow.next_try_at))
                .filter(
                    OutboxRow.kind == "digest", OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None)
                )
                .scalar()
            )
        return pending or self.clock() + dt.timedelta(seconds=delay)

    def take_digest(self, seconds: float, limit: int = 5000) -> builtins.list[OutboxItem]:
        """Lease every due digest row for `seconds` in one statement (most urgent, then oldest first).

        The lease end is unique to this call, so of two workers each gets only the rows it leased.
        """
        now = self.clock()
        until = now + dt.timedelta(seconds=seconds, microseconds=int.from_bytes(os.urandom(2), "big"))
        with self.session() as session:
            ids = [r.id for r in self._due(session, now).filter(OutboxRow.kind == "digest").limit(limit)]
            if not ids:
                return []
            session.execute(
                sa.update(OutboxRow)
                .where(OutboxRow.id.in_(ids), OutboxRow.sent_at.is_(None), OutboxRow.next_try_at <= now)
                .values(next_try_at=until)
                .execution_options(synchronize_session=False)
            )
            rows = (
                session.query(OutboxRow)
                .filter(OutboxRow.id.in_(ids), OutboxRow.next_try_at == until)
                .order_by(sa.func.coalesce(OutboxRow.priority_rank, 2), OutboxRow.id)
            )
            return [
                OutboxItem(r.id, r.key, r.case_id, r.kind, json.loads(r.payload), r.attempts) for r in rows
            ]

    def mark_sent_many(self, item_ids: builtins.list[int], result: dict) -> int:
        """Digest rows sent as one message; the result carries no message id (a reply to a digest
        belongs to no single case)."""
        with self.session() as session:
            return session.execute(
                sa.update(OutboxRow)
                .where(OutboxRow.id.in_(item_ids), OutboxRow.sent_at.is_(None))
                .values(
                    sent_at=self.clock(),
                    payload="{}",
                    result=json.dumps(result),
                    attempts=OutboxRow.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount

    def give_up(self, item_id: int, error: str) -> None:
        """A permanent failure: never retried again (the caller reports it)."""
        with self.session() as session:
            session.execute(
                sa.update(OutboxRow)
                .where(OutboxRow.id == item_id)
                .values(attempts=OutboxRow.attempts + 1, last_error=error[:200], gave_up_at=self.clock())
            )

    def mark_sent(self, item_id: int, result: dict | None = None) -> bool:
        """Mark a message sent; False if another worker already did (it must not be sent twice)."""
        with self.session() as session:
            return bool(
                session.execute(
                    sa.update(OutboxRow)
                    .where(OutboxRow.id == item_id, OutboxRow.sent_at.is_(None))
                    .values(
                        sent_at=self.clock(),
                        payload="{}",  # sent: the text (e.g. a relayed child message) is not kept
                        result=json.dumps(result or {}),
                        attempts=OutboxRow.attempts + 1,
                        chat_id=(result or {}).get("chat_id"),
                        message_id=(result or {}).get("message_id"),
                    )
                ).rowcount
            )

    def lease(self, item_id: int, seconds: float) -> bool:
        """Take an item for `seconds` (pushes next_try_at); False if someone else has it or it is sent."""
        now = self.clock()
        with self.session() as session:
            return bool(
                session.execute(
                    sa.update(OutboxRow)
                    .where(OutboxRow.id == item_id, OutboxRow.sent_at.is_(None), OutboxRow.next_try_at <= now)
                    .values(next_try_at=now + dt.timedelta(seconds=seconds))
                ).rowcount
            )

    def mark_failed(self, item_id: int | builtins.list[int], error: str, retry_in: float) -> None:
        ids = item_id if isinstance(item_id, list) else [item_id]
        with self.session() as session:
            session.execute(
                sa.update(OutboxRow)
                .where(OutboxRow.id.in_(ids))
                .execution_options(synchronize_session=False)
                .values(
                    attempts=OutboxRow.attempts + 1,
                    last_error=error[:200],
                    next_try_at=self.clock() + dt.timedelta(seconds=retry_in),
                )
            )

    def expire_outbox(
        self, max_age: dt.timedelta, now: dt.datetime | None = None
    ) -> builtins.list[int | None]:
        """Drop messages still undelivered after `max_age` (their text, e.g. a relayed child message, is
        not kept forever); returns their case ids. The caller logs it as an error."""
        now = now or utcnow()
        with self.session() as session:
            rows = (
                session.query(OutboxRow)
                .filter(OutboxRow.sent_at.is_(None), OutboxRow.created_at < now - max_age)
                .with_for_update()
                .all()
            )
            for row in rows:
                row.sent_at, row.payload, row.last_error = now, "{}", "expired"
            return [row.case_id for row in rows]

    def sent_results(self, case_id: int, kind: str | None = None) -> builtins.list[dict]:
        """Results (e.g. Telegram message ids) of the sent messages of a case."""
        with self.session() as session:
            query = session.query(OutboxRow).filter(
                OutboxRow.case_id == case_id, OutboxRow.sent_at.isnot(None)
            )
            if kind:
                query = query.filter(OutboxRow.kind == kind)
            return [json.loads(r.result or "{}") for r in query.order_by(OutboxRow.id)]

    def case_of_message(self, chat_id: int, message_id: int) -> int | None:
        """The case an alert/relay message in the counsellors' chat belongs to (for Telegram replies)."""
        with self.session() as session:
            row = (
                session.query(OutboxRow)
                .filter(OutboxRow.chat_id == chat_id, OutboxRow.message_id == message_id)
                .first()
            )
            return row.case_id if row else None

    def pending_outbox(self) -> int:
        with self.session() as session:
            pending = session.query(OutboxRow).filter(
                OutboxRow.sent_at.is_(None), OutboxRow.gave_up_at.is_(None)
            )
            return pending.count()
