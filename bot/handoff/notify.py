"""Alerts to the counsellors' Telegram chat, through the outbox.

Every outgoing message is first a row of `handoff_outbox` (`enqueue_*`), then `deliver_due()` sends
what is due, most urgent first, then oldest: on success the row is marked sent (with the Telegram
chat and message id, so that a reply to it finds its case); on a temporary failure it is retried
later with a growing delay (a 429 ends the pass: the whole chat is rate limited). A permanent
refusal (BadRequest, Forbidden, chat migrated) is never retried: it is logged at ERROR and a short
alert without the summary goes instead; if even that fails, the row is given up and the case gets
an `alert_undelivered` event. Alerts of cases past the intake limits (`IntakeLimits`) are
collapsed into one digest message per pass. The key of each row makes enqueueing idempotent, and a
short lease keeps two workers from sending the same row. Store calls run off the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, RetryAfter, TelegramError

from bot.handoff import texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import OPEN, PRIORITIES, Case, HandoffStore, OutboxItem, off_loop
from bot.telegram.client import PERMANENT_SEND_ERRORS as PERMANENT
from bot.telegram.client import make_bot
from bot.telegram.client import retry_after_seconds as _retry_after
from bot.telegram.settings import TelegramSettings

logger = logging.getLogger(__name__)

CLAIM_PREFIX = "handoff:claim:"
CLOSE_PREFIX = "handoff:close:"
MAX_RETRY_DELAY = 300.0
LEASE_SECONDS = 30.0
DIGEST_BUTTONS = 6  # claim buttons on a digest message, most urgent cases first
#: A digest gathers the alerts of a burst for this long, then goes out as one message.
DIGEST_DELAY_SECONDS = 10.0


def claim_keyboard(case_id: int) -> list[list[list[str]]]:
    return [[[texts.CLAIM_BUTTON, f"{CLAIM_PREFIX}{case_id}"]]]


def close_keyboard(case_id: int) -> list[list[list[str]]]:
    return [[[texts.CLOSE_BUTTON, f"{CLOSE_PREFIX}{case_id}"]]]


def _markup(rows: list | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(title, callback_data=data) for title, data in row] for row in rows]
    )


def enqueue_alert(
    store: HandoffStore, settings: HandoffSettings, case: Case, kind: str = "alert", area: str | None = None
) -> bool:
    """Queue an alert about `case` (kinds: alert, realert, overdue, urgent, silent); False if queued before.

    An open case past the intake limits (`case.digest`) goes into the next digest message instead. The alert
    ends with the local contacts (content/directory.yml) for the kind of harm, in the child's area when they
    chose one (`area`), so the counsellor knows whom to refer to.
    """
    if settings.chat_id is None:
        return False
    now = store.now()
    key = f"{kind}:{case.id}:{case.waiting_since.isoformat()}"
    if kind in ("realert", "overdue"):
        key += f":{case.realerts}"
    elif kind in ("urgent", "silent"):  # during a claimed case: every one is alerted
        key += f":{now.isoformat()}"
    rank = PRIORITIES.index(case.priority) if case.priority in PRIORITIES else len(PRIORITIES)
    if case.digest and case.status == OPEN:
        payload = {
            "chat_id": settings.chat_id,
            "case_id": case.id,
            "priority": case.priority,
            "alert_kind": kind,
        }
        due = store.next_digest_at(DIGEST_DELAY_SECONDS)
        return store.enqueue(key, "digest", payload, case.id, priority_rank=rank, not_before=due)
    payload = {
        "chat_id": settings.chat_id,
        "text": texts.fit("\n".join([texts.alert_text(case, kind, now), *texts.directory_lines(case, area)])),
        "buttons": claim_keyboard(case.id) if case.status == OPEN else close_keyboard(case.id),
        "priority": case.priority,
        "alert_kind": kind,
    }
    return store.enqueue(key, "send", payload, case.id, priority_rank=rank)


def enqueue_claimed(store: HandoffStore, settings: HandoffSettings, case: Case, who: str) -> None:
    """Edit the alerts of a claimed case to show who took it (and offer "Đóng ca")."""
    if settings.chat_id is None:
        return
    store.enqueue(
        f"claimed:{case.id}:{case.waiting_since.isoformat()}",
        "edit_alerts",
        {"text": texts.claimed_text(case, who), "buttons": close_keyboard(case.id)},
        case.id,
        priority_rank=1,
    )


def enqueue_closed(store: HandoffStore, settings: HandoffSettings, case: Case, who: str) -> None:
    if settings.chat_id is None:
        return
    store.enqueue(
        f"closed:{case.id}:{case.waiting_since.isoformat()}",
        "send",
        {"chat_id": settings.chat_id, "text": texts.closed_text(case, who)},
        case.id,
    )


def enqueue_cancelled(store: HandoffStore, settings: HandoffSettings, case: Case) -> None:
    """The child withdrew the request: the alerts lose their button and say so."""
    if settings.chat_id is None:
        return
    store.enqueue(
        f"cancelled:{case.id}:{case.waiting_since.isoformat()}",
        "edit_alerts",
        {"text": texts.cancelled_text(case)},
        case.id,
    )


def enqueue_deleted(store: HandoffStore, settings: HandoffSettings, case: Case) -> None:
    """The child deleted their data: the counsellors get a short notice without content (the alerts and
    relayed messages themselves are deleted, `enqueue_remove_messages`)."""
    if settings.chat_id is None:
        return
    store.enqueue(
        f"deleted:{case.id}",
        "notice",
        {"chat_id": settings.chat_id, "text": texts.deleted_text(case)},
        case.id,
    )


def enqueue_remove_messages(store: HandoffStore, case_id: int, reason: str) -> bool:
    """Delete every alert and relayed child message the bot sent to the counsellors about a case
    (delete my data, retention). Where Telegram refuses (older than 48 hours), the message is edited
    to `texts.MESSAGE_REMOVED`. Nothing is queued for a case that sent nothing."""
    if not any(r.get("message_id") for kind in REMOVABLE for r in store.sent_results(case_id, kind)):
        return False
    return store.enqueue(f"remove:{case_id}:{reason}", "remove_messages", {}, case_id)


#: Outbox kinds whose sent messages hold a child's words or a summary: removed on delete / retention.
REMOVABLE = ("send", "relay")


async def _deliver(bot: Bot, store: HandoffStore, kind: str, payload: dict, case_id: int | None) -> dict:
    if kind in ("send", "relay", "notice"):  # relay: a child's message; never edited like an alert
        message = await bot.send_message(
            chat_id=payload["chat_id"],
            text=texts.fit(payload["text"]),  # the last guard: Telegram refuses longer for good
            reply_markup=_markup(payload.get("buttons")),
        )
        return {"chat_id": message.chat_id, "message_id": message.message_id}
    if kind == "edit_alerts":
        edited = 0
        for result in await off_loop(store.sent_results, case_id or 0, "send"):
            if not result.get("message_id"):
                continue
            try:
                await bot.edit_message_text(
                    chat_id=result["chat_id"],
                    message_id=result["message_id"],
                    text=texts.fit(payload["text"]),
                    reply_markup=_markup(payload.get("buttons")),
                )
                edited += 1
            except BadRequest as exc:  # deleted or already edited: nothing left to do for that one
                logger.info("alert of case %s not edited: %s", case_id, type(exc).__name__)
        return {"edited": edited}
    if kind == "remove_messages":
        return await _remove(bot, store, case_id or 0)
    raise ValueError(f"unknown outbox kind {kind!r}")


async def _remove(bot: Bot, store: HandoffStore, case_id: int) -> dict:
    deleted = edited = 0
    for result in (r for kind in REMOVABLE for r in store.sent_results(case_id, kind)):
        if not result.get("message_id"):
            continue
        where = {"chat_id": result["chat_id"], "message_id": result["message_id"]}
        try:
            await bot.delete_message(**where)
            deleted += 1
        except BadRequest:  # older than 48 hours (or already gone): the text is replaced instead
            try:
                await bot.edit_message_text(text=texts.MESSAGE_REMOVED, **where)
                edited += 1
            except BadRequest as exc:
                logger.info("message of case %s neither deleted nor edited: %s", case_id, type(exc).__name__)
    return {"deleted": deleted, "edited": edited}


def outbox_max_age() -> dt.timedelta:
    """`OUTBOX_MAX_AGE_HOURS` (24): an alert or relay not delivered by then is dropped, with an ERROR."""
    return HandoffSettings.from_env().outbox_max_age


def expire_undelivered(store: HandoffStore) -> int:
    """Drop outbox rows undelivered for too long: their text is not kept, and it is an error."""
    cases = store.expire_outbox(outbox_max_age())
    if cases:
        logger.error(
            "handoff outbox: %d message(s) undelivered for %s dropped (cases %s): check Telegram and COUNSELLOR_CHAT_ID",
            len(cases),
            outbox_max_age(),
            sorted({c for c in cases if c is not None}),
        )
    return len(cases)


class _RateLimited(Exception):
    """Telegram asked to wait: the rest of this pass would be refused too."""


async def deliver_due(store: HandoffStore, bot: Bot) -> int:
    """Send every due outbox row once, most urgent first, then the digest; returns how many rows
    went out. Temporary failures are retried later; permanent ones fall back to a short alert."""
    sent = 0
    try:
        for item in await off_loop(store.due_outbox):
            if not await off_loop(store.lease, item.id, LEASE_SECONDS):
                continue  # another worker has it
            sent += await _send_one(bot, store, item)
        sent += await _send_digest(bot, store)
    except _RateLimited:
        pass
    return sent


async def _send_one(bot: Bot, store: HandoffStore, item: OutboxItem) -> int:
    try:
        result = await _deliver(bot, store, item.kind, item.payload, item.case_id)
    except RetryAfter as exc:
        await off_loop(store.mark_failed, item.id, "RetryAfter", _retry_after(exc))
        raise _RateLimited from exc
    except PERMANENT as exc:  # before TelegramError: BadRequest is a NetworkError
        return await _refused(bot, store, item, exc)
    except TelegramError as exc:
        delay = min(MAX_RETRY_DELAY, 2.0**item.attempts)
        logger.warning(
            "handoff outbox %s (case %s) failed: %s; retry in %.0f s",
            item.id,
            item.case_id,
            type(exc).__name__,
            delay,
        )
        await off_loop(store.mark_failed, item.id, type(exc).__name__, delay)
        return 0
    if await off_loop(store.mark_sent, item.id, result):
        logger.info("handoff outbox %s (%s, case %s) delivered", item.id, item.kind, item.case_id)
        return 1
    return 0


async def _refused(bot: Bot, store: HandoffStore, item: OutboxItem, exc: TelegramError) -> int:
    """Telegram refused the message for good: never retry it; send a short alert instead, and report
    (ERROR log, case event) when even that cannot be delivered."""
    error = type(exc).__name__
    logger.error(
        "handoff outbox %s (%s, case %s) refused by Telegram for good (%s): sending a short alert instead",
        item.id,
        item.kind,
        item.case_id,
        error,
    )
    if item.kind not in ("send", "relay") or item.case_id is None:
        await off_loop(store.give_up, item.id, error)  # e.g. a closed-case notice: nothing shorter to say
        return 0
    chat_id = item.payload.get("chat_id")
    if isinstance(exc, ChatMigrated):  # the group became a supergroup: its new id works
        logger.error("counsellors' group moved to chat %s: update COUNSELLOR_CHAT_ID", exc.new_chat_id)
        chat_id = exc.new_chat_id
    kind = "relay" if item.kind == "relay" else str(item.payload.get("alert_kind") or "alert")
    short = texts.short_alert_text(item.case_id, item.payload.get("priority"), kind)
    try:
        message = await bot.send_message(
            chat_id=chat_id, text=short, reply_markup=_markup(item.payload.get("buttons"))
        )
    except RetryAfter as again:  # only busy: try again when Telegram allows
        await off_loop(store.mark_failed, item.id, "RetryAfter", _retry_after(again))
        raise _RateLimited from again
    except TelegramError as again:
        if not isinstance(again, PERMANENT):  # a network hiccup: the next pass tries again
            delay = min(MAX_RETRY_DELAY, 2.0**item.attempts)
            await off_loop(store.mark_failed, item.id, f"{error}; fallback {type(again).__name__}", delay)
            return 0
        logger.error(
            "handoff outbox %s: case %s could NOT be reported to the counsellors' chat (%s, then %s); "
            "counsellors must check the API",
            item.id,
            item.case_id,
            error,
            type(again).__name__,
        )
        await off_loop(store.give_up, item.id, f"{error}; fallback {type(again).__name__}")
        await off_loop(store.add_event, item.case_id, "alert_undelivered", "bot", error)
        return 0
    result = {"chat_id": message.chat_id, "message_id": message.message_id, "short": error}
    await off_loop(store.mark_sent, item.id, result)
    await off_loop(store.add_event, item.case_id, "alert_shortened", "bot", error)
    return 1


async def _send_digest(bot: Bot, store: HandoffStore) -> int:
    """Every due digest row as one message, with claim buttons for the most urgent open cases."""
    items = await off_loop(store.take_digest, LEASE_SECONDS)
    if not items:
        return 0
    ids = [i.id for i in items]
    payloads = [i.payload for i in items]
    claimable: list[int] = []
    for p in payloads:
        if p.get("case_id") not in claimable and p.get("alert_kind") in ("alert", "realert", "overdue"):
            claimable.append(p["case_id"])
    buttons = [[[f"{texts.CLAIM_BUTTON} #{c}", f"{CLAIM_PREFIX}{c}"]] for c in claimable[:DIGEST_BUTTONS]]
    try:
        message = await bot.send_message(
            chat_id=payloads[0]["chat_id"], text=texts.digest_text(payloads), reply_markup=_markup(buttons)
        )
    except RetryAfter as exc:
        await off_loop(store.mark_failed, ids, "RetryAfter", _retry_after(exc))
        raise _RateLimited from exc
    except TelegramError as exc:
        level = logging.ERROR if isinstance(exc, PERMANENT) else logging.WARNING
        logger.log(level, "handoff digest of %d alert(s) not sent: %s; retried", len(ids), type(exc).__name__)
        delay = min(MAX_RETRY_DELAY, 2.0 ** items[0].attempts)
        await off_loop(store.mark_failed, ids, type(exc).__name__, delay)
        return 0
    await off_loop(store.mark_sent_many, ids, {"digest_message_id": message.message_id})
    logger.info("handoff digest of %d alert(s) delivered", len(ids))
    return len(ids)


DELIVER_NOW_TIMEOUT = 3.0
_bots: dict[tuple, Bot] = {}


async def deliver_now(store: HandoffStore, settings: HandoffSettings) -> None:
    """Send what is due right away (an alert should not wait for the worker's next pass).

    Whatever fails stays in the outbox, and the worker in Rasa's server retries it.
    """
    if not settings.alerts_enabled:
        return
    try:
        # One bot per event loop: its HTTP client belongs to the loop that created it.
        key = (settings.telegram_token, TelegramSettings.from_env().api_url, id(asyncio.get_running_loop()))
        if key not in _bots:
            _bots[key] = make_alert_bot(settings)  # type: ignore[assignment]
        await asyncio.wait_for(deliver_due(store, _bots[key]), DELIVER_NOW_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the outbox keeps the message
        logger.warning("immediate delivery failed (%s); the outbox will retry", type(exc).__name__)


def make_alert_bot(settings: HandoffSettings) -> Bot | None:
    """The Telegram bot that sends alerts (TELEGRAM_TOKEN / TELEGRAM_API_URL); None when not configured."""
    if not settings.alerts_enabled:
        return None
    return make_bot(TelegramSettings.from_env())


def describe_case(case: Case) -> dict[str, Any]:
    """Log-safe fields of a case (no summary, no conversation id)."""
    return {"case": case.id, "priority": case.priority, "status": case.status, "channel": case.channel}
