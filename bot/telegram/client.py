"""Sending to Telegram through python-telegram-bot's `Bot`, with retries and no message logging.

`TelegramSender` wraps one `Bot`: every call is retried with exponential backoff on network
errors and 5xx answers, a 429 waits exactly the `retry_after` Telegram asked for, and the
number of tries is bounded. Client errors (400, 403 blocked by the user...) are not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot, BotCommand, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.telegram import texts
from bot.telegram.format import split_text
from bot.telegram.settings import TelegramSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
TYPING_REFRESH_SECONDS = 4.0  # Telegram shows "typing…" for about 5 s

_NOT_RETRIED = (BadRequest, Forbidden, InvalidToken, Conflict, ChatMigrated)
#: Telegram refused this message for good (too long, chat not found, bot removed, group migrated):
#: sending the same message again can never work. BadRequest is a NetworkError subclass: test it first.
PERMANENT_SEND_ERRORS = (BadRequest, Forbidden, ChatMigrated)


def quiet_library_loggers() -> None:
    """Keep children's messages and the token out of the logs, whatever the log level.

    httpx logs every request URL (which holds the token) at INFO; python-telegram-bot logs
    every API call with its parameters (message texts) and results at DEBUG.
    """
    for name, floor in (("httpx", logging.WARNING), ("telegram", logging.INFO)):
        log = logging.getLogger(name)
        if log.level < floor:  # an explicit level: a DEBUG root logger does not lower it
            log.setLevel(floor)


def make_bot(settings: TelegramSettings) -> Bot:
    """A plain `Bot` pointed at `settings.api_url` (Telegram, a self-hosted server or a fake)."""
    if not settings.token:
        raise ValueError("TELEGRAM_TOKEN is not set")
    quiet_library_loggers()
    request = HTTPXRequest(connection_pool_size=32, read_timeout=15.0, write_timeout=15.0, pool_timeout=5.0)
    return Bot(
        settings.token,
        base_url=settings.api_url,
        base_file_url=settings.file_url,
        request=request,
    )


def retry_after_seconds(exc: RetryAfter) -> float:
    """`RetryAfter.retry_after` is an int or a timedelta depending on PTB_TIMEDELTA."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def describe(exc: BaseException, settings: TelegramSettings | None = None) -> str:
    """A log-safe one-liner for an exception (type and message, token redacted)."""
    text = f"{type(exc).__name__}: {exc}"
    return settings.redact(text) if settings else text


class TelegramSender:
    """Retrying, privacy-preserving calls to the Bot API for one bot."""

    def __init__(
        self,
        bot: Bot,
        settings: TelegramSettings | None = None,
        *,
        max_tries: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.max_tries = max_tries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._username: str | None = None

    async def call(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Call a Bot method, retrying transient failures a bounded number of times."""
        name = getattr(func, "__name__", "call")
        for attempt in range(1, self.max_tries + 1):
            try:
                return await func(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if attempt == self.max_tries or wait > self.max_retry_after:
                    raise
                logger.warning("Telegram %s rate limited: retrying in %.1f s", name, wait)
                await self._sleep(wait)
            except _NOT_RETRIED:
                raise
            except NetworkError as exc:  # includes TimedOut and 5xx answers
                if attempt == self.max_tries:
                    raise
                wait = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                logger.warning(
                    "Telegram %s failed (%s): try %d/%d, retrying in %.1f s",
                    name,
                    describe(exc, self.settings),
                    attempt,
                    self.max_tries,
                    wait,
                )
                await self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_text(
        self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> list[Message]:
        """Send plain text, split under Telegram's limit; the keyboard goes with the last part."""
        chunks = split_text(text)
        sent: list[Message] = []
        for index, chunk in enumerate(chunks):
            markup = reply_markup if index == len(chunks) - 1 else None
            sent.append(
                await self.call(self.bot.send_message, chat_id=chat_id, text=chunk, reply_markup=markup)
            )
        if not chunks and reply_markup is not None:
            # Buttons need some text; an empty reply with buttons still shows the buttons.
            sent.append(
                await self.call(self.bot.send_message, chat_id=chat_id, text="…", reply_markup=reply_markup)
            )
        logger.debug("Sent %d message(s) to chat %s", len(sent), chat_id)
        return sent

    async def send_fallback(self, chat_id: int) -> None:
        """The 111 message, for when the bot itself cannot answer."""
        await self.send_text(chat_id, texts.UNAVAILABLE)

    async def answer_callback(self, callback_query_id: str, text: str | None = None) -> None:
        """Stop the button's spinner, with a short notice if given (Telegram shows up to 200 characters);
        an expired query is not worth failing the update for."""
        try:
            await self.call(
                self.bot.answer_callback_query, callback_query_id, text=text[:200] if text else None
            )
        except TelegramError as exc:
            logger.info("answerCallbackQuery failed: %s", describe(exc, self.settings))

    async def send_typing(self, chat_id: int) -> None:
        """Best effort, single try: a lost "typing…" is not worth a retry."""
        try:
            await self.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError as exc:
            logger.debug("sendChatAction failed: %s", describe(exc, self.settings))

    @contextlib.asynccontextmanager
    async def typing(self, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" until the block ends (refreshed every few seconds)."""

        async def keep_typing() -> None:
            while True:
                await asyncio.sleep(TYPING_REFRESH_SECONDS)
                await self.send_typing(chat_id)

        await self.send_typing(chat_id)  # before the reply, never after it
        task = asyncio.ensure_future(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def aclose(self) -> None:
        """Close the HTTP clients (the sending one exists even if the Bot was never initialized)."""
        await self.bot.shutdown()
        await self.bot.request.shutdown()

    async def username(self) -> str | None:
        """The bot's @username (one getMe, cached); None if Telegram cannot be asked."""
        if self._username is None:
            try:
                me = await self.call(self.bot.get_me)
            except TelegramError as exc:
                logger.warning("getMe failed: %s", describe(exc, self.settings))
                return None
            self._username = me.username
        return self._username

    async def register_commands(self) -> None:
        """Show the Vietnamese command menu in Telegram."""
        commands = [BotCommand(name, description) for name, description in texts.BOT_COMMANDS]
        await self.call(self.bot.set_my_commands, commands)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.call(
            self.bot.set_webhook,
            url=url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )

    async def delete_webhook(self) -> None:
        """Polling and a webhook exclude each other; pending updates are kept."""
        await self.call(self.bot.delete_webhook, drop_pending_updates=False)
