"""Alerts to the counsellors' Telegram chat, through the outbox.

Every outgoing message is first a row of `handoff_outbox` (`enqueue_*`), then `deliver_due()` sends
what is due: on success the row is marked sent (with the Telegram chat and message id, so that a
reply to it finds its case), on failure it is retried later with a growing delay. The key of each
row makes enqueueing idempotent, and a short lease keeps two workers from sending the same row.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Optional

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from bot.handoff import texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import Case, HandoffStore, utcnow

logger = logging.getLogger(__name__)

CLAIM_PREFIX = "handoff:claim:"
CLOSE_PREFIX = "handoff:close:"
MAX_RETRY_DELAY = 300.0
LEASE_SECONDS = 30.0


def claim_keyboard(case_id: int) -> list[list[list[str]]]:
    return [[[texts.CLAIM_BUTTON, f"{CLAIM_PREFIX}{case_id}"]]]


def close_keyboard(case_id: int) -> list[list[list[str]]]:
    return [[[texts.CLOSE_BUTTON, f"{CLOSE_PREFIX}{case_id}"]]]


def _markup(rows: Optional[list]) -> Optional[InlineKeyboardMarkup]:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(title, callback_data=data) for title, data in row] for row in rows]
    )


def enqueue_alert(
    store: HandoffStore, settings: HandoffSettings, case: Case, kind: str = "alert", area: Optional[str] = None
) -> bool:
    """Queue an alert about `case` (kinds: alert, realert, overdue, urgent); False if queued before.

    The alert ends with the local contacts (content/directory.yml) for the kind of harm, in the
    child's area when they chose one (`area`), so the counsellor knows whom to refer to."""
    if settings.chat_id is None:
        return False
    key = f"{kind}:{case.id}:{case.waiting_since.isoformat()}"
    if kind in ("realert", "overdue"):
        key += f":{case.realerts}"
    elif kind == "urgent":  # a new imminent disclosure during a claimed case: every one is alerted
        key += f":{utcnow().isoformat()}"
    payload = {
        "chat_id": settings.chat_id,
        "text": "\n".join([texts.alert_text(case, kind), *texts.directory_lines(case, area)]),
        "buttons": claim_keyboard(case.id) if case.status == "open" else close_keyboard(case.id),
    }
    return store.enqueue(key, "send", payload, case.id)


def enqueue_claimed(store: HandoffStore, settings: HandoffSettings, case: Case, who: str) -> None:
    """Edit the alerts of a claimed case to show who took it (and offer "Đóng ca")."""
    if settings.chat_id is None:
        return
    store.enqueue(
        f"claimed:{case.id}:{case.waiting_since.isoformat()}",
        "edit_alerts",
        {"text": texts.claimed_text(case, who), "buttons": close_keyboard(case.id)},
        case.id,
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
    """The child deleted their data: the alerts of their active case say so and lose their buttons."""
    if settings.chat_id is None:
        return
    store.enqueue(f"deleted:{case.id}", "edit_alerts", {"text": texts.deleted_text(case)}, case.id)


async def _deliver(bot: Bot, store: HandoffStore, kind: str, payload: dict, case_id: Optional[int]) -> dict:
    if kind in ("send", "relay"):  # relay: a child's message; never edited like an alert
        message = await bot.send_message(
            chat_id=payload["chat_id"], text=payload["text"], reply_markup=_markup(payload.get("buttons"))
        )
        return {"chat_id": message.chat_id, "message_id": message.message_id}
    if kind == "edit_alerts":
        edited = 0
        for result in store.sent_results(case_id or 0, "send"):
            if not result.get("message_id"):
                continue
            try:
                await bot.edit_message_text(
                    chat_id=result["chat_id"],
                    message_id=result["message_id"],
                    text=payload["text"],
                    reply_markup=_markup(payload.get("buttons")),
                )
                edited += 1
            except BadRequest as exc:  # deleted or already edited: nothing left to do for that one
                logger.info("alert of case %s not edited: %s", case_id, type(exc).__name__)
        return {"edited": edited}
    raise ValueError(f"unknown outbox kind {kind!r}")


async def deliver_due(store: HandoffStore, bot: Bot) -> int:
    """Send every due outbox row once; returns how many were sent. Failures are retried later."""
    sent = 0
    for item in store.due_outbox():
        if not store.lease(item.id, LEASE_SECONDS):
            continue  # another worker has it
        try:
            result = await _deliver(bot, store, item.kind, item.payload, item.case_id)
        except TelegramError as exc:
            delay = min(MAX_RETRY_DELAY, 2.0 ** item.attempts)
            logger.warning(
                "handoff outbox %s (case %s) failed: %s; retry in %.0f s",
                item.id, item.case_id, type(exc).__name__, delay,
            )
            store.mark_failed(item.id, type(exc).__name__, delay)
            continue
        if store.mark_sent(item.id, result):
            sent += 1
            logger.info("handoff outbox %s (%s, case %s) delivered", item.id, item.kind, item.case_id)
    return sent


DELIVER_NOW_TIMEOUT = 3.0
_bots: dict[tuple, Bot] = {}


async def deliver_now(store: HandoffStore, settings: HandoffSettings) -> None:
    """Send what is due right away (an alert should not wait for the worker's next pass).

    Whatever fails stays in the outbox, and the worker in Rasa's server retries it.
    """
    if not settings.alerts_enabled:
        return
    # One bot per event loop: its HTTP client belongs to the loop that created it.
    key = (settings.telegram_token, os.environ.get("TELEGRAM_API_URL"), id(asyncio.get_running_loop()))
    try:
        if key not in _bots:
            _bots[key] = make_alert_bot(settings)  # type: ignore[assignment]
        await asyncio.wait_for(deliver_due(store, _bots[key]), DELIVER_NOW_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the outbox keeps the message
        logger.warning("immediate delivery failed (%s); the outbox will retry", type(exc).__name__)


def make_alert_bot(settings: HandoffSettings) -> Optional[Bot]:
    """The Telegram bot that sends alerts (TELEGRAM_TOKEN / TELEGRAM_API_URL); None when not configured."""
    if not settings.alerts_enabled:
        return None
    from bot.channels.telegram_client import make_bot
    from bot.channels.telegram_settings import TelegramSettings

    return make_bot(TelegramSettings.from_env())


def describe_case(case: Case) -> dict[str, Any]:
    """Log-safe fields of a case (no summary, no conversation id)."""
    return {"case": case.id, "priority": case.priority, "status": case.status, "channel": case.channel}
