"""Telegram runner: `python -m bot.telegram`.

Polling mode (default): takes updates with `getUpdates` and POSTs each one, as is, to Rasa's
Telegram route (`$RASA_URL/webhooks/telegram/webhook`, with the secret header), the same path
Telegram itself uses in webhook mode. If Rasa cannot be reached or answers with an error, the
runner answers the child with the 111 message itself: a disclosure never meets silence.
The offset comes only from the updates Telegram has just returned, never from a stored high-water
mark: after a week without updates Telegram picks the next `update_id` at random, possibly lower
than any id seen before, and an old offset above it would confirm and discard every new message.
So the runner confirms each batch with `offset = last id + 1` and, once that call comes back empty,
polls without an offset again (Telegram then returns its earliest unconfirmed updates, whatever
their ids). A restart starts without an offset; what it sees again is skipped by the channel,
which dedupes on chat id + message id / callback query id (`bot.telegram.state`).

Webhook mode (`TELEGRAM_WEBHOOK_URL` set): registers the webhook and the command menu, then exits.

At start the runner waits (up to `--wait-for-rasa`, 300 s) for Rasa's Telegram route, so
messages sent while Rasa loads its model are answered by the bot, not by the fallback.
Options: `--once` handles what is pending and exits; `-v` logs update and chat ids.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Iterable

import httpx
from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.telegram.client import (
    ALLOWED_UPDATES,
    TelegramSender,
    describe,
    make_bot,
    retry_after_seconds,
)
from bot.telegram.settings import HEALTH_PATH, SECRET_HEADER, WEBHOOK_PATH, TelegramSettings
from bot.telegram.updates import Kind, chat_type_of, classify

logger = logging.getLogger("bot.telegram")

POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates call open
RASA_TIMEOUT = httpx.Timeout(120.0, connect=5.0)


class PollingRunner:
    """Moves updates from `getUpdates` to Rasa's Telegram route, one chat at a time."""

    def __init__(
        self,
        settings: TelegramSettings,
        bot: Bot | None = None,
        http: httpx.AsyncClient | None = None,
        *,
        poll_timeout: int = POLL_TIMEOUT,
        max_backoff: float = 60.0,
    ) -> None:
        self.settings = settings
        self.sender = TelegramSender(bot or make_bot(settings), settings)
        self.http = http or httpx.AsyncClient(timeout=RASA_TIMEOUT)
        self.poll_timeout = poll_timeout
        self.max_backoff = max_backoff
        self._ready = False
        self.offset: int | None = None  # confirms the last batch; None: nothing to confirm

    @property
    def rasa_webhook(self) -> str:
        return self.settings.rasa_url + WEBHOOK_PATH

    async def close(self) -> None:
        await self.http.aclose()
        await self.sender.aclose()

    # --- setup ------------------------------------------------------------------------
    async def setup_polling(self) -> None:
        """A webhook and getUpdates exclude each other: drop the webhook (keeping its updates)."""
        await self.sender.call(self.sender.bot.initialize)  # getMe: checks the token early
        await self.sender.delete_webhook()
        await self.sender.register_commands()
        self._ready = True
        logger.info("Polling Telegram; updates go to %s", self.rasa_webhook)

    async def setup_webhook(self) -> None:
        assert self.settings.webhook_url
        await self.sender.call(self.sender.bot.initialize)
        await self.sender.set_webhook(self.settings.webhook_url, self.settings.webhook_secret)
        await self.sender.register_commands()
        logger.info("Webhook registered: Telegram now calls %s", self.settings.webhook_url)

    async def wait_for_rasa(self, timeout: float, stop: asyncio.Event | None = None) -> bool:
        """Wait until Rasa's Telegram route is up, so a starting Rasa does not trigger fallbacks.

        Telegram keeps updates meanwhile. Returns False (and polling starts anyway, with the
        111 fallback) on timeout or when Rasa is up without a usable Telegram channel.
        """
        stop = stop or asyncio.Event()
        health = self.settings.rasa_url + HEALTH_PATH
        deadline = asyncio.get_running_loop().time() + timeout
        logged = False
        while not stop.is_set():
            try:
                reply = await self.http.get(health, timeout=5)
                if reply.status_code == 404:
                    logger.error(
                        "Rasa has no Telegram route: add bot.channels.telegram.TelegramInput to credentials.yml"
                    )
                    return False
                status = reply.json().get("status") if reply.status_code == 200 else None
                if status == "ok":
                    return True
                if status == "disabled":
                    logger.error("Rasa's Telegram channel is disabled: start Rasa with TELEGRAM_TOKEN set")
                    return False
            except (httpx.HTTPError, ValueError):
                pass
            if asyncio.get_running_loop().time() >= deadline:
                logger.warning(
                    "Rasa not reachable at %s: polling anyway, chats get the 111 message",
                    self.settings.rasa_url,
                )
                return False
            if not logged:
                logger.info("Waiting for Rasa at %s ...", self.settings.rasa_url)
                logged = True
            await self._pause(stop, 1.0)
        return False

    # --- one update ---------------------------------------------------------------------
    async def forward(self, update: Update) -> int | None:
        """POST the update to Rasa; the HTTP status, or None if Rasa could not be reached."""
        try:
            reply = await self.http.post(
                self.rasa_webhook,
                json=update.to_dict(),
                headers={SECRET_HEADER: self.settings.webhook_secret},
            )
        except httpx.HTTPError as exc:
            logger.warning("Rasa unreachable for update %s (%s)", update.update_id, type(exc).__name__)
            return None
        return reply.status_code

    async def fallback(self, update: Update) -> None:
        """Answer the chat without Rasa: the channel's own reply, or the 111 message."""
        in_group = chat_type_of(update) not in (None, ChatType.PRIVATE)
        username = await self.sender.username() if in_group else None
        inbound = classify(update, self.settings.bot_id, username)
        if inbound.callback_query_id:
            await self.sender.answer_callback(inbound.callback_query_id)
        if inbound.kind is Kind.IGNORE or inbound.chat_id is None:
            return
        if inbound.reply:  # group pointer and non-text replies already name 111
            await self.sender.send_text(inbound.chat_id, inbound.reply)
        else:
            await self.sender.send_fallback(inbound.chat_id)

    async def handle(self, update: Update) -> None:
        status = await self.forward(update)
        if status is not None and 200 <= status < 300:
            logger.debug("Update %s handled by Rasa", update.update_id)
            return
        if status == 400:
            logger.error("Rasa rejected update %s as unreadable: skipped", update.update_id)
            return
        if status == 403:
            logger.error(
                "Rasa rejected the secret token: TELEGRAM_WEBHOOK_SECRET differs between Rasa and the runner"
            )
        elif status == 503:
            logger.error("Rasa's Telegram channel is disabled: start Rasa with TELEGRAM_TOKEN set")
        elif status == 404:
            logger.error(
                "Rasa has no Telegram route: add bot.channels.telegram.TelegramInput to credentials.yml"
            )
        elif status is not None:
            logger.error("Rasa answered %s for update %s", status, update.update_id)
        await self.fallback(update)
        logger.warning("Update %s answered by the runner with its fallback message", update.update_id)

    async def _handle_chat(self, updates: Iterable[Update]) -> None:
        for update in updates:
            await self.handle(update)

    async def handle_batch(self, updates: list[Update]) -> None:
        """Chats run side by side, each chat in order; the batch is confirmed only when all are done.

        If anything could not be delivered the batch is polled again; updates Rasa already
        handled are then skipped by the channel.
        """
        by_chat: dict[object, list[Update]] = {}
        for update in updates:
            chat = update.effective_chat
            by_chat.setdefault(chat.id if chat else ("update", update.update_id), []).append(update)
        results = await asyncio.gather(
            *(self._handle_chat(chat) for chat in by_chat.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        # Trust what Telegram returned: confirm this batch next time, or nothing once it is confirmed.
        self.offset = max(u.update_id for u in updates) + 1 if updates else None

    # --- loop -----------------------------------------------------------------------------
    async def poll_once(self, timeout: int | None = None) -> int:
        """One getUpdates call and its updates; returns how many were handled."""
        if not self._ready:
            await self.setup_polling()
        updates = await self.sender.bot.get_updates(
            offset=self.offset,
            timeout=self.poll_timeout if timeout is None else timeout,
            allowed_updates=ALLOWED_UPDATES,
        )
        await self.handle_batch(list(updates))
        return len(updates)

    async def run(
        self, stop: asyncio.Event | None = None, *, once: bool = False, wait_for_rasa: float = 0
    ) -> int:
        """Poll until `stop` is set (or once). Returns a process exit code."""
        stop = stop or asyncio.Event()
        if wait_for_rasa > 0:
            await self.wait_for_rasa(wait_for_rasa, stop)
        backoff = 1.0
        while not stop.is_set():
            try:
                poll = asyncio.ensure_future(self.poll_once(0 if once else None))
                stopping = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if poll not in done:  # stop requested while waiting
                    poll.cancel()
                    await asyncio.gather(poll, return_exceptions=True)
                    break
                poll.result()
                backoff = 1.0
                if once:
                    return 0
            except InvalidToken:
                logger.error("Telegram rejected TELEGRAM_TOKEN")
                return 2
            except RetryAfter as exc:
                await self._pause(stop, retry_after_seconds(exc))
            except Conflict as exc:
                logger.error("Another poller or a webhook holds this bot (%s)", describe(exc, self.settings))
                self._ready = False
                backoff = await self._back_off(stop, backoff)
            except (TelegramError, OSError) as exc:
                logger.warning("Polling failed (%s)", describe(exc, self.settings))
                if once:
                    return 1
                backoff = await self._back_off(stop, backoff)
        return 0

    async def _back_off(self, stop: asyncio.Event, backoff: float) -> float:
        await self._pause(stop, backoff)
        return min(self.max_backoff, backoff * 2)

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass


async def amain(settings: TelegramSettings, *, once: bool = False, wait_for_rasa: float = 0) -> int:
    runner = PollingRunner(settings)
    try:
        if settings.webhook_url:
            try:
                await runner.setup_webhook()
            except TelegramError as exc:
                logger.error("Could not register the webhook: %s", describe(exc, settings))
                return 1
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            return await runner.run(stop, once=once, wait_for_rasa=wait_for_rasa)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    finally:
        await runner.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.telegram", description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="handle pending updates once, then exit")
    parser.add_argument(
        "--wait-for-rasa",
        type=float,
        default=300,
        metavar="SECONDS",
        help="wait this long for Rasa's Telegram route before polling (default 300; 0: don't wait)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log update and chat ids")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "telegram"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = TelegramSettings.from_env()
    except ValueError as exc:
        logger.error("%s", exc)
        return 2
    if not settings.enabled:
        logger.error("TELEGRAM_TOKEN is not set: nothing to run")
        return 2
    return asyncio.run(amain(settings, once=args.once, wait_for_rasa=args.wait_for_rasa))


if __name__ == "__main__":
    sys.exit(main())
