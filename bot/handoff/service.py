"""The handoff steps the actions and the channels share (store + outbox, no Rasa, no network).

Each function changes the store and queues the Telegram messages that go with the change;
`notify.deliver_due()` sends them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from bot.handoff import notify, outcomes, texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import CLAIMED, CLOSED, OPEN, Case, CaseError, HandoffStore, priority_for_level, utcnow
from bot.reports import events as report

logger = logging.getLogger(__name__)


@dataclass
class Requested:
    case: Case
    is_new: bool
    #: What the bot tells the child (always names 111).
    reply: str


def request_counsellor(
    store: HandoffStore,
    settings: HandoffSettings,
    sender_id: str,
    channel: str,
    level: str | None,
    category: str | None,
    messages: Iterable[str] = (),
    source: str | None = None,
    area: str | None = None,
) -> Requested:
    """Open (or refresh) the child's case and alert the counsellors when it is new or more urgent.

    `source`: where the request came from (a hashed client address; `source_of`), for the intake
    limits: past them the case is kept but alerted in a digest (a flood cannot bury real cases).
    """
    priority = priority_for_level(level)
    started = utcnow()
    case, alert = store.open_case(
        sender_id, channel or "unknown", priority, category, messages, source=source, limits=settings.limits
    )
    if priority == "urgent" and case.status == CLAIMED:
        alert = True  # the safety net keeps working during a live relay
    if alert and case.status == OPEN and case.waiting_since >= started:  # new or re-opened, not raised
        report.record("case_created", channel=case.channel, category=category, level=level or "none")
    if alert:
        kind = "alert" if case.status == OPEN else "urgent"
        notify.enqueue_alert(store, settings, case, kind, area=area)
        logger.info(
            "handoff case %s %s (%s)",
            case.id,
            "alerted" if case.status == OPEN else "re-alerted",
            case.priority,
        )
    if not settings.alerts_enabled:
        reply = texts.NO_COUNSELLOR
        if alert:
            store.add_event(case.id, "no_counsellor", "bot")
    elif case.status == CLAIMED:
        reply = texts.CASE_ALREADY_CLAIMED
    elif not alert:
        reply = texts.CASE_ALREADY_WAITING
    else:
        reply = texts.CASE_CREATED_URGENT if case.priority == "urgent" else texts.CASE_CREATED
    return Requested(case, alert, reply)


def claim(store: HandoffStore, settings: HandoffSettings, case_id: int, who: str) -> Case:
    case = store.claim(case_id, who)
    report.record("case_claimed", minutes=(utcnow() - case.waiting_since).total_seconds() / 60)
    notify.enqueue_claimed(store, settings, case, who)
    return case


def close(store: HandoffStore, settings: HandoffSettings, case_id: int, who: str) -> Case:
    case = store.close(case_id, who)
    report.record("case_closed", channel=case.channel)  # no outcome yet: "missing outcome" in the report
    notify.enqueue_closed(store, settings, case, who)
    return case


def due_silences(store: HandoffStore, settings: HandoffSettings) -> list[Case]:
    """Claimed cases whose child has waited `HANDOFF_REPLY_TIMEOUT_MIN` for the counsellor: the
    group is re-alerted (the caller tells the child 111). Returns them."""
    due = store.due_silences(settings.reply_timeout)
    for case in due:
        notify.enqueue_alert(store, settings, case, "silent")
        logger.warning(
            "handoff case %s: counsellor silent for %s min; re-alerted", case.id, settings.reply_timeout_min
        )
    return due


def record_outcome(
    store: HandoffStore,
    case_id: int,
    outcome: str | None,
    referrals: Iterable[str] = (),
    reporter: str | None = None,
) -> outcomes.Outcome:
    """A closed case's coded outcome, referral targets and reporter (issue 15), once; counted for the report.

    Raises CaseError (no such case, not closed yet) or outcomes.OutcomeError (unknown code, recorded twice)."""
    case = store.get(case_id)
    if case.status != CLOSED:
        raise CaseError(f"case {case_id} is {case.status}: close it first")
    earlier = outcomes.get(store.engine, case_id)  # a skipped outcome being filled in: its referrals counted
    result = outcomes.record(store.engine, case_id, outcome, referrals, reporter)
    report.record("case_outcome", outcome=result.outcome, reporter=result.reporter)
    for target in result.referrals:
        if earlier is None or target not in earlier.referrals:
            report.record("referral", referral=target)
    return result


def missing_outcomes(store: HandoffStore) -> list[Case]:
    """Closed cases (closed by a counsellor, not cancelled by the child) with no outcome recorded."""
    recorded = set(outcomes.recorded_ids(store.engine))
    return [c for c in store.list(CLOSED) if c.id not in recorded and _closed_by_counsellor(store, c.id)]


def _closed_by_counsellor(store: HandoffStore, case_id: int) -> bool:
    history = store.get(case_id, with_history=True).history
    last = next(
        (e.kind for e in reversed(history) if e.kind in ("closed", "cancelled", "deleted_by_child")), None
    )
    return last == "closed"


def due_timeouts(store: HandoffStore, settings: HandoffSettings) -> list[Case]:
    """Open cases past the timeout: re-alert them (overdue at twice it). Returns them."""
    due = store.due_realerts(settings.timeout)
    for case in due:
        notify.enqueue_alert(store, settings, case, "overdue" if case.realerts >= 2 else "realert")
    return due


def cancel(store: HandoffStore, settings: HandoffSettings, sender_id: str) -> Case | None:
    """The child withdraws their waiting case; the counsellors' group is told. None if none waits."""
    case = store.cancel_waiting(sender_id)
    if case is not None:
        report.record("case_closed", channel=case.channel, outcome="cancelled_by_child")
        notify.enqueue_cancelled(store, settings, case)
    return case


def relay(store: HandoffStore, settings: HandoffSettings, case: Case, text: str) -> Case:
    """A child's message during a claimed case, to the counsellors' chat as "[Ca #12] …" (via the outbox).

    The outbox row maps the Telegram message back to the case, so a counsellor can reply to it.
    Returns the case as it is now (`child_waiting_since`: since when the child waits for an answer).
    """
    case = store.add_event(case.id, "child_message", "child", text)  # redacted, for counsellors on the API
    if settings.chat_id is not None:
        payload = {"chat_id": settings.chat_id, "text": texts.relay_text(case.id, text)}
        store.enqueue(f"relay:{case.id}:{uuid.uuid4().hex}", "relay", payload, case.id, priority_rank=1)
    return case


_SOURCE_KEY = HandoffSettings.from_env().source_hash_secret.encode() or os.urandom(32)


def source_of(client_address: str | None) -> str | None:
    """A client address as a keyed one-way hash (`SOURCE_HASH_SECRET`, else a key per process): enough
    to count requests per source, never stored raw (a plain hash of an IPv4 address is easy to reverse)."""
    if not client_address:
        return None
    return "addr:" + hmac.new(_SOURCE_KEY, client_address.encode(), hashlib.sha256).hexdigest()[:24]


def record_feedback(store: HandoffStore, sender_id: str, helpful: bool) -> Case | None:
    """The child's answer to "did it help?" on their latest case (an anonymous event)."""
    case = store.latest_case(sender_id)
    if case is not None:
        store.add_event(case.id, "feedback", "child", "helpful" if helpful else "not_helpful")
    report.record("feedback", answer="helpful" if helpful else "not_helpful")
    return case


def forget(store: HandoffStore, settings: HandoffSettings, sender_id: str) -> list[int]:
    """ "Xóa dữ liệu": anonymise the child's cases; counsellors see that an active one was closed."""
    active = store.active_case(sender_id)
    changed = store.forget_sender(sender_id)
    for case_id in changed:  # the alerts and relayed messages in the counsellors' group go too
        notify.enqueue_remove_messages(store, case_id, "deleted_by_child")
    if active is not None:
        notify.enqueue_deleted(store, settings, active)
    if changed:
        logger.info("handoff cases %s anonymised on the child's request", changed)
    return changed


def purge_closed(store: HandoffStore, cutoff: dt.datetime, dry_run: bool = False) -> list[int]:
    """Retention: anonymise closed cases untouched since `cutoff` (naive UTC); open and claimed
    cases are never touched. Returns the ids (logged as a count only)."""
    changed = store.anonymise_closed_before(cutoff, dry_run=dry_run)
    for case_id in [] if dry_run else changed:
        notify.enqueue_remove_messages(store, case_id, "retention")
    logger.info(
        "retention: %d closed case(s) %s", len(changed), "would be anonymised" if dry_run else "anonymised"
    )
    return changed
