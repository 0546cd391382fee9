"""Retention: forget what is older than RETENTION_DAYS (default 30).

- Conversations whose *last* event is older than the cutoff are deleted from Rasa's SQL tracker
  store (table `events`, the store of endpoints.yml; SQLite `var/tracker.db` by default).
- Closed handoff cases with no activity since the cutoff are anonymised like "xóa dữ liệu" does
  (`HandoffStore.anonymise_closed_before`): no link to the child, no summary, no event text, no
  unsent message. The rows stay, so anonymous counts remain. Open and claimed cases are never touched.

The clock is settable (`now` = datetime or epoch seconds) so tests and `scripts/purge.py --now`
can run the purge "in the future". Reports hold counts only, never text or ids.

    make purge                                   # now, RETENTION_DAYS (30)
    .venv/bin/python scripts/purge.py --dry-run --days 7 --now 2025-01-31T00:00
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import re
import time
from collections.abc import Callable, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.privacy.settings import DEFAULT_RETENTION_DAYS, PrivacySettings

logger = logging.getLogger(__name__)

DEFAULT_DAYS = DEFAULT_RETENTION_DAYS
DEFAULT_TRACKER_URL = "sqlite:///var/tracker.db"
ROOT = Path(__file__).resolve().parent.parent.parent
DAY_SECONDS = 24 * 3600

Clock = dt.datetime | float | int | None


def retention_days(value: int | str | None = None) -> int:
    """`value`, else RETENTION_DAYS from the environment, else 30 (at least 1 day)."""
    raw = value if value is not None else PrivacySettings.from_env().retention_days
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"RETENTION_DAYS must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise ValueError("RETENTION_DAYS must be at least 1")
    return days


def to_utc(now: Clock = None) -> dt.datetime:
    """`now` (aware or naive-UTC datetime, epoch seconds, None = the current time) as naive UTC."""
    if now is None:
        return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(now, (int, float)):
        return dt.datetime.fromtimestamp(now, dt.timezone.utc).replace(tzinfo=None)
    if now.tzinfo is not None:
        return now.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return now


def cutoff_for(now: Clock = None, days: int | None = None) -> dt.datetime:
    """Naive UTC time before which data is old."""
    return to_utc(now) - dt.timedelta(days=retention_days(days))


def _epoch(value: dt.datetime) -> float:
    return value.replace(tzinfo=dt.timezone.utc).timestamp()


# --- the tracker store's URL -------------------------------------------------------------------
_ENV_VAR = re.compile(r"\$\{([^}]+)\}")


def _expand(value: Any) -> Any:
    """`${VAR}` in endpoints.yml, as Rasa expands it (any variable: the file names them, not this package)."""
    if isinstance(value, str):
        return _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), ""), value)
    return value


def tracker_url(endpoints: str | Path | None = None) -> str:
    """SQLAlchemy URL of the tracker store configured in endpoints.yml (`tracker_store:` with
    `url`, or dialect/host/port/db/username/password); `sqlite:///var/tracker.db` by default.
    A relative SQLite path is taken from the folder of endpoints.yml, where Rasa runs."""
    import yaml

    path = Path(endpoints) if endpoints else ROOT / "endpoints.yml"
    config: dict = {}
    if path.exists():
        config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tracker_store") or {}
    config = {key: _expand(value) for key, value in config.items()}
    if config.get("url") and "://" in str(config["url"]):
        url = sa.engine.make_url(str(config["url"]))
    elif config.get("host") and "://" in str(config["host"]):
        url = sa.engine.make_url(str(config["host"]))
    elif config.get("dialect") or config.get("db"):
        port = config.get("port")
        url = sa.engine.URL.create(
            str(config.get("dialect") or "sqlite"),
            username=config.get("username") or None,
            password=config.get("password") or None,
            host=config.get("host") or config.get("url") or None,
            port=int(port) if port not in (None, "") else None,
            database=str(config.get("db") or "rasa.db"),
        )
    else:
        url = sa.engine.make_url(DEFAULT_TRACKER_URL)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        if not Path(url.database).is_absolute():
            url = url.set(database=str(path.parent / url.database))
    return url.render_as_string(hide_password=False)


# --- the purge ---------------------------------------------------------------------------------
@dataclass
class PurgeReport:
    """What a purge did (or would do): counts only."""

    days: int
    cutoff: dt.datetime
    conversations: int = 0
    events: int = 0
    cases: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (
            f"retention {self.days} days (cutoff {self.cutoff.isoformat(timespec='seconds')}Z)"
            f"{' [dry run]' if self.dry_run else ''}: "
            f"{self.conversations} conversation(s) ({self.events} event(s)) {verb} deleted, "
            f"{self.cases} closed case(s) {verb} anonymised"
        )


_metadata = sa.MetaData()
_events = sa.Table(
    "events",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255)),
    sa.Column("timestamp", sa.Float),
)


def _tracker_engine(url: str) -> sa.engine.Engine | None:
    """An engine on the tracker store, or None when there is no SQLite file yet (nothing to purge)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            return None
    return sa.create_engine(parsed, future=True)


def purge_conversations(url: str, cutoff: dt.datetime, dry_run: bool = False) -> tuple[int, int]:
    """Delete every conversation whose last event is before `cutoff` (naive UTC).

    Returns (conversations, events) deleted (or that would be with `dry_run`).
    """
    engine = _tracker_engine(url)
    if engine is None:
        return 0, 0
    try:
        if not sa.inspect(engine).has_table("events"):
            return 0, 0
        old = (
            sa.select(_events.c.sender_id)
            .group_by(_events.c.sender_id)
            .having(sa.func.max(_events.c.timestamp) < _epoch(cutoff))
        )
        with engine.begin() as conn:
            senders = [row[0] for row in conn.execute(old)]
            events = 0
            for start in range(0, len(senders), 500):
                chunk = senders[start : start + 500]
                where = _events.c.sender_id.in_(chunk)
                if dry_run:
                    events += conn.execute(
                        sa.select(sa.func.count()).select_from(_events).where(where)
                    ).scalar_one()
                else:
                    events += conn.execute(sa.delete(_events).where(where)).rowcount
        return len(senders), events
    finally:
        engine.dispose()


#: Anonymises the closed cases with no activity since a cutoff (naive UTC); with `dry_run` (the second
#: argument) only says which. The handoff service owns the cases: its owner passes this in
#: (`partial(service.purge_closed, store)`), so privacy imports nothing above it.
PurgeCases = Callable[[dt.datetime, bool], Sized]


def purge(
    now: Clock = None,
    days: int | None = None,
    tracker: str | None = None,
    *,
    purge_cases: PurgeCases,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete old conversations and anonymise old closed cases; returns counts.

    `tracker`: SQLAlchemy URL of the tracker store (default: from endpoints.yml);
    `purge_cases`: what anonymises the old closed cases (see `PurgeCases`).
    """
    days = retention_days(days)
    cutoff = cutoff_for(now, days)
    report = PurgeReport(days=days, cutoff=cutoff, dry_run=dry_run)
    report.conversations, report.events = purge_conversations(tracker or tracker_url(), cutoff, dry_run)
    report.cases = len(purge_cases(cutoff, dry_run))
    logger.info("%s", report.summary())
    return report


async def purge_daily(
    purge_cases: PurgeCases,
    days: int | None = None,
    tracker: str | None = None,
    interval: float = DAY_SECONDS,
    clock: Callable[[], Clock] = time.time,
    runs: int | None = None,
) -> None:
    """Run the purge at once, then every `interval` seconds (24 h), for ever (or `runs` times).

    For the server's event loop: the purge runs in a thread; a failure is logged and retried at
    the next run. Cancel the task to stop it.
    """
    done = 0
    while runs is None or done < runs:
        try:
            await asyncio.to_thread(functools.partial(purge, clock(), days, tracker, purge_cases=purge_cases))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - keep the loop alive; say what failed, no data
            logger.error("retention purge failed: %s", type(exc).__name__)
        done += 1
        if runs is not None and done >= runs:
            break
        await asyncio.sleep(interval)
