"""The anonymous event table behind the monthly report (`make report`, scripts/report.py).

One row per thing that happened (a disclosure, a case opened / claimed / closed, a tip read, a quiz
finished, a feedback answer), written when it happens. It is never derived from trackers or cases:
deletion ("xóa dữ liệu") and retention remove those, and the district's counts must survive them.

A row holds only coded values: the day (Vietnam time), the channel and category codes, bands,
minutes. No sender id, no case id, no text: nothing in it leads back to a child. It lives in the
case store's database (DATABASE_URL) in its own table, `report_events`.

`record()` never raises: an event that cannot be written is an ERROR log, never a failed reply.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from bot.handoff.store import shared_store  # the database only: bot.handoff.service records here

logger = logging.getLogger(__name__)

#: The district counts days in Vietnam time (UTC+7, no daylight saving).
VN = dt.timezone(dt.timedelta(hours=7))

KINDS = (
    "disclosure",  # category, level, age_band, reporter, channel
    "case_created",  # category, level (= priority), channel
    "case_claimed",  # minutes (time to claim)
    "case_closed",  # outcome (None, or cancelled_by_child), channel
    "case_outcome",  # outcome (None = skipped), reporter: recorded by a counsellor after closing
    "referral",  # referral (target code)
    "tip",  # topic, age_band, role
    "quiz",  # age_band, score, total (a finished quiz)
    "feedback",  # answer: helpful / not_helpful
)
#: Columns a caller may fill; anything else is refused (a coded value only, never free text).
FIELDS = (
    "channel",
    "category",
    "level",
    "age_band",
    "reporter",
    "role",
    "outcome",
    "referral",
    "topic",
    "answer",
)
_CODE = re.compile(r"^[a-z0-9_\-]{1,40}$")

metadata = sa.MetaData()
events_table = sa.Table(
    "report_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    *(sa.Column(name, sa.String(40)) for name in FIELDS),
    sa.Column("minutes", sa.Float),
    sa.Column("score", sa.Integer),
    sa.Column("total", sa.Integer),
)

_ready: set[str] = set()


def today(now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:  # naive = UTC, as in the case store
        now = now.replace(tzinfo=dt.timezone.utc)
    return now.astimezone(VN).date()


def _engine(engine: sa.engine.Engine | None = None) -> sa.engine.Engine:
    if engine is None:
        engine = shared_store().engine  # the case store's database
    key = str(engine.url)
    if key not in _ready:
        metadata.create_all(engine)
        _ready.add(key)
    return engine


def _clean(kind: str, fields: dict) -> dict:
    if kind not in KINDS:
        raise ValueError(f"unknown report event kind {kind!r}")
    row: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name in ("minutes",):
            row[name] = round(float(value), 2)
        elif name in ("score", "total"):
            row[name] = int(value)
        elif name in FIELDS and _CODE.match(str(value)):
            row[name] = str(value)
        else:  # a field we do not know, or something that is not a code (text, an id...)
            raise ValueError(f"report event field {name!r} refused")
    return row


def record(
    kind: str, day: dt.date | None = None, engine: sa.engine.Engine | None = None, **fields: Any
) -> bool:
    """Add one anonymous event; False (and an ERROR log) when it could not be written."""
    try:
        row = _clean(kind, fields)
        with _engine(engine).begin() as conn:
            conn.execute(events_table.insert().values(day=day or today(), kind=kind, **row))
        return True
    except Exception as exc:  # noqa: BLE001 - counting must never break a reply to a child
        logger.error("report event %s not recorded: %s", kind, type(exc).__name__)
        return False


def month_events(month: str, engine: sa.engine.Engine | None = None) -> list[dict]:
    """Every event of `month` ("2026-11"), oldest first, as dicts."""
    first = dt.date.fromisoformat(f"{month}-01")
    after = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    query = (
        sa.select(events_table)
        .where(events_table.c.day >= first, events_table.c.day < after)
        .order_by(events_table.c.day, events_table.c.id)
    )
    with _engine(engine).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def add_many(rows: Iterable[dict], engine: sa.engine.Engine | None = None) -> int:
    """Tests and back-fills: insert prepared rows (each with `day` and `kind`), validated like `record`."""
    empty = {name: None for name in (*FIELDS, "minutes", "score", "total")}  # executemany needs one shape
    rows = [
        {
            **empty,
            "day": r["day"],
            "kind": r["kind"],
            **_clean(r["kind"], {k: v for k, v in r.items() if k not in ("day", "kind")}),
        }
        for r in rows
    ]
    with _engine(engine).begin() as conn:
        if rows:
            conn.execute(events_table.insert(), rows)
    return len(rows)
