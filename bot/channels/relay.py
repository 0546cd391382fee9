"""While a counsellor has the child's case, the child's messages go to the counsellor, not to the bot.

Every child channel (Telegram, web chat, REST) calls `relay_if_claimed` (through `front_door.py`)
before handing a message to Rasa. The message is kept in the child's conversation (a user turn the bot does not answer) and
queued for the counsellors' chat as "[Ca #12] …". The safety net keeps working: a new imminent
disclosure is also answered by Rasa, which gives 111/115 and re-alerts the case as urgent; and once
the child has waited `HANDOFF_REPLY_TIMEOUT_MIN` for the counsellor, a high disclosure too gets the
bot's hotline reply. Store calls run off the event loop with a timeout: a hung database means the
bot answers the message itself (an ERROR is logged), never a frozen channel.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.events import UserUttered

from bot.handoff import notify, service
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import CLAIMED, HandoffStore, off_loop, shared_store
from bot.risk import level_of

logger = logging.getLogger(__name__)


async def relay_if_claimed(
    agent: Any,
    sender_id: str,
    text: str,
    input_channel: str,
    settings: HandoffSettings | None = None,
    store: HandoffStore | None = None,
) -> bool:
    """True when the message went to the child's counsellor and the bot must not answer it."""
    if not text.strip() or text.startswith("/"):
        return False  # buttons and commands are for the bot
    try:
        store = store or shared_store()
        settings = settings or HandoffSettings.from_env()
        case = await off_loop(store.active_case, sender_id)
        if case is None or case.status != CLAIMED:
            return False
        case = await off_loop(service.relay, store, settings, case, text)
    except Exception as exc:  # noqa: BLE001 - if the relay breaks, the bot answers as usual
        logger.error("handoff relay failed (%s): the bot answers", type(exc).__name__)
        return False
    await notify.deliver_now(store, settings)
    if agent is None:
        return True
    parsed = await agent.parse_message(text)
    level = level_of((parsed.get("intent") or {}).get("name"))
    silent = case.counsellor_silent(settings.reply_timeout, store.now())
    if level == "imminent" or (level == "high" and silent):
        return False  # the bot gives its hotline reply (domain.yml); the counsellors also got the message
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
        tracker.update(
            UserUttered(
                text, parsed.get("intent"), parsed.get("entities"), parsed, input_channel=input_channel
            )
        )
        await agent.tracker_store.save(tracker)
    return True
