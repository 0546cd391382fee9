"""Handoff settings, read from the environment when asked (never at import time).

| variable | meaning | default |
|---|---|---|
| `DATABASE_URL` | SQLAlchemy URL of the case store | `sqlite:///var/handoff.db` |
| `COUNSELLOR_CHAT_ID` | Telegram chat (the counsellors' group) that receives alerts | unset = no counsellor online |
| `COUNSELLOR_IDS` | Telegram user ids allowed to claim, answer and close (comma separated) | empty |
| `COUNSELLOR_API_TOKEN` | bearer token of the counsellor HTTP API | unset = API answers 503 |
| `HANDOFF_TIMEOUT_MIN` | minutes before an unclaimed case is re-alerted (overdue at twice) | 5 |
| `HANDOFF_REPLY_TIMEOUT_MIN` | minutes a child in a claimed case waits for the counsellor before the group is re-alerted, the child is given 111 and the bot answers high/imminent disclosures again | 10 |
| `HANDOFF_CASES_PER_SOURCE_HOUR` | new cases per sender and per client address in an hour that are alerted one by one; more go into a digest | 3 |
| `HANDOFF_ALERTS_PER_MINUTE` | cases alerted one by one in a minute over all sources; more go into a digest | 10 |
| `DATABASE_TIMEOUT_SECONDS` | longest wait for the case database (lock, connect, statement) before the child is given 111 | 5 |
| `COUNSELLOR_SUPERVISOR_IDS` | Telegram user ids (also in `COUNSELLOR_IDS`) who may answer and close cases claimed by others | empty |
| `HANDOFF_TICK_SECONDS` | seconds between two passes of the worker in Rasa's server (outbox, timeouts); tests set it high and drive it by hand | 1 |
| `OUTBOX_MAX_AGE_HOURS` | an alert or relayed message Telegram has not accepted by then is dropped (ERROR log) | 24 |
| `SOURCE_HASH_SECRET` | key of the one-way hash of client addresses (flood guard) | a random key per process |
| `TELEGRAM_TOKEN` | the bot that sends the alerts (the rest of its settings: `bot.telegram.settings`) | |
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///var/handoff.db"


def _ids(raw: str) -> frozenset[int]:
    out = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            out.add(int(part))
    return frozenset(out)


@dataclass(frozen=True)
class IntakeLimits:
    """Above these, new cases are still stored but alerted together in one digest message."""

    #: New (or re-opened) cases per sender, and per source (hashed client address), in an hour.
    per_source_hour: int = 3
    #: Cases alerted one by one in a minute, over all sources (Telegram allows about 20 a minute in a group).
    alerts_per_minute: int = 10


@dataclass(frozen=True)
class HandoffSettings:
    chat_id: int | None = None
    counsellor_ids: frozenset[int] = field(default_factory=frozenset)
    api_token: str = ""
    timeout_min: float = 5.0
    telegram_token: str | None = None
    reply_timeout_min: float = 10.0
    limits: IntakeLimits = field(default_factory=IntakeLimits)
    database_url: str = DEFAULT_DATABASE_URL
    database_timeout: float = 5.0
    supervisor_ids: frozenset[int] = field(default_factory=frozenset)
    tick_seconds: float = 1.0
    outbox_max_age_hours: float = 24.0
    source_hash_secret: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HandoffSettings:
        env = os.environ if environ is None else environ
        chat = (env.get("COUNSELLOR_CHAT_ID") or "").strip()

        def number(name: str, default: float) -> float:
            try:
                return float(env.get(name) or default)
            except ValueError:
                return default

        timeout = number("HANDOFF_TIMEOUT_MIN", 5)
        defaults = IntakeLimits()
        return cls(
            reply_timeout_min=number("HANDOFF_REPLY_TIMEOUT_MIN", 10),
            limits=IntakeLimits(
                per_source_hour=int(number("HANDOFF_CASES_PER_SOURCE_HOUR", defaults.per_source_hour)),
                alerts_per_minute=int(number("HANDOFF_ALERTS_PER_MINUTE", defaults.alerts_per_minute)),
            ),
            chat_id=int(chat) if chat.lstrip("-").isdigit() else None,
            counsellor_ids=_ids(env.get("COUNSELLOR_IDS") or ""),
            api_token=(env.get("COUNSELLOR_API_TOKEN") or "").strip(),
            timeout_min=timeout,
            telegram_token=(env.get("TELEGRAM_TOKEN") or "").strip() or None,
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            database_timeout=max(1.0, number("DATABASE_TIMEOUT_SECONDS", 5)),
            supervisor_ids=_ids(env.get("COUNSELLOR_SUPERVISOR_IDS") or ""),
            tick_seconds=number("HANDOFF_TICK_SECONDS", 1.0),
            outbox_max_age_hours=number("OUTBOX_MAX_AGE_HOURS", 24),
            source_hash_secret=env.get("SOURCE_HASH_SECRET") or "",
        )

    @property
    def alerts_enabled(self) -> bool:
        """Counsellors can be reached: a Telegram bot and a counsellors' chat are configured."""
        return bool(self.telegram_token and self.chat_id is not None)

    @property
    def timeout(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.timeout_min)

    @property
    def reply_timeout(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.reply_timeout_min)

    @property
    def outbox_max_age(self) -> dt.timedelta:
        return dt.timedelta(hours=self.outbox_max_age_hours)

    def is_counsellor(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.counsellor_ids

    def __repr__(self) -> str:  # never print the token
        return (
            f"HandoffSettings(chat_id={self.chat_id}, counsellors={len(self.counsellor_ids)}, "
            f"api={'on' if self.api_token else 'off'}, timeout_min={self.timeout_min})"
        )
