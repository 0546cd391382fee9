"""What every child channel does before Rasa sees a message (Telegram, web chat, REST).

1. **Empty** (nothing but spaces, or a sticker/photo with no text): a kind answer that names 111.
2. **Too long** (over `MAX_MESSAGE_CHARS`, 4000): the child is told, and the first part is still read,
   so that a disclosure at the start of a long story is not lost.
3. **Flood** (more than `RATE_LIMIT_MESSAGES` within `RATE_LIMIT_SECONDS` from one sender): one kind
   message per window, the rest are dropped, except that a message the safety patterns flag as a
   risk always goes through.
4. **Live relay** to the child's counsellor while a case is claimed (`relay.py`).
5. **Failure**: if any step fails on the message (the relay's or Rasa's database down, say), the child
   is told and given 111/113/115 instead of silence, and an ERROR is logged (the same `UNAVAILABLE`
   answer as the channels' own).

The texts are in `bot/telegram/texts.py`, with every other fixed text of the child channels.

`FrontDoor.wrap` wraps a channel's `on_new_message`; the agent comes from the app, which `attach`
remembers when the server starts (Rasa gives channels nothing else).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.relay import relay_if_claimed
from bot.channels.settings import ChannelSettings
from bot.nlu.safety import has_risk_cue
from bot.telegram.texts import EMPTY, FLOOD, TOO_LONG, UNAVAILABLE

logger = logging.getLogger(__name__)


class RateLimiter:
    """Sliding window per sender, in memory (one process; enough to stop a flood, not an attacker farm)."""

    def __init__(self, limit: int, seconds: float, max_senders: int = 10000) -> None:
        self.limit, self.seconds, self.max_senders = limit, seconds, max_senders
        self._seen: OrderedDict[str, deque] = OrderedDict()
        self._warned: dict[str, float] = {}

    def allow(self, sender: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        window = self._seen.pop(sender, None) or deque()
        while window and now - window[0] > self.seconds:
            window.popleft()
        allowed = len(window) < self.limit
        if allowed:
            window.append(now)
        self._seen[sender] = window
        while len(self._seen) > self.max_senders:
            self._seen.popitem(last=False)
        return allowed

    def first_refusal(self, sender: str, now: float | None = None) -> bool:
        """True once per window: the flood gets one kind message, not one per message."""
        now = time.monotonic() if now is None else now
        if now - self._warned.get(sender, -1e9) > self.seconds:
            self._warned[sender] = now
            return True
        return False


class FrontDoor:
    def __init__(self) -> None:
        self.app: Any = None
        settings = ChannelSettings.from_env()
        self.max_chars = settings.max_message_chars
        self.limiter = RateLimiter(settings.rate_limit_messages, float(settings.rate_limit_seconds))

    def attach(self, blueprint: Any) -> None:
        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _: Any) -> None:
            self.app = app

    @property
    def agent(self) -> Any:
        return getattr(getattr(self.app, "ctx", None), "agent", None)

    async def admit(self, message: UserMessage, agent: Any = None) -> UserMessage | None:
        """The message to hand to Rasa (maybe shortened), or None when it was answered here."""
        text = message.text if isinstance(message.text, str) else ""
        text = text.replace("\x00", "")
        out, sender = message.output_channel, message.sender_id
        if not text.strip():
            await out.send_text_message(sender, EMPTY)
            return None
        if not self.limiter.allow(sender) and not has_risk_cue(text[: self.max_chars]):
            logger.info("rate limit: a message from one sender dropped")
            if self.limiter.first_refusal(sender):
                await out.send_text_message(sender, FLOOD)
            return None
        if len(text) > self.max_chars:
            await out.send_text_message(sender, TOO_LONG)
            text = text[: self.max_chars]
        message.text = text
        if await relay_if_claimed(agent or self.agent, sender, text, message.input_channel or "unknown"):
            return None
        return message

    def wrap(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Callable[[UserMessage], Awaitable[Any]]:
        async def handle(message: UserMessage) -> Any:
            step = "front door"  # the relay to a counsellor runs here, before Rasa: it may fail too
            try:
                admitted = await self.admit(message)
                if admitted is None:
                    return None
                step = "Rasa"
                return await on_new_message(admitted)
            except Exception as exc:  # e.g. the tracker store's database is down: the child still gets 111
                logger.error("%s failed on a message (%s): answered with 111", step, type(exc).__name__)
                await message.output_channel.send_text_message(message.sender_id, UNAVAILABLE)
                return None

        return handle
