"""Telegram channel for Rasa, built on python-telegram-bot's `Bot` (no `Application`).

In `credentials.yml`:

    bot.channels.telegram.TelegramInput:

Settings come from the environment when Rasa builds the channel (see `bot.telegram.settings`);
without `TELEGRAM_TOKEN` the channel loads disabled and its route answers 503.

One code path handles every update: `POST /webhooks/telegram/webhook` with the
`X-Telegram-Bot-Api-Secret-Token` header. Telegram calls it in webhook mode; the polling
runner (`python -m bot.telegram`) calls it with each update it takes from `getUpdates`.

For each update, at least once and deduplicated (see `bot.telegram.state`: chat id + message id or
callback query id, marked handled only after handling):
- text, edited text and commands (`/start` -> `/greet`...) go to Rasa as user `tg:<chat id>`;
- a pressed inline button is answered (`answerCallbackQuery`) and its payload goes to Rasa;
- stickers, photos, voice... get a kind reply from the channel; media are never downloaded;
- in groups the bot only answers when addressed, and only to point to a private chat and 111;
- if Rasa fails, the child still gets the 111 message;
- updates of the counsellors' group (`COUNSELLOR_CHAT_ID`) and a child's messages while a counsellor
  has their case are handled by `telegram_handoff` (claim, reply, close, live relay).
Rasa's replies go out as plain text (split under 4096 characters), buttons as inline keyboards.
No message text is ever logged: update ids and chat ids only, at DEBUG.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Update
from telegram.constants import ChatType

from bot.channels.front_door import FrontDoor
from bot.channels.telegram_handoff import TelegramHandoff
from bot.telegram.client import TelegramSender, describe, make_bot
from bot.telegram.format import build_keyboard, resolve_callback_data
from bot.telegram.settings import SECRET_HEADER, TelegramSettings
from bot.telegram.state import Claim, TelegramState, dedupe_key
from bot.telegram.updates import Inbound, Kind, chat_type_of, classify

logger = logging.getLogger(__name__)

SENDER_PREFIX = "tg:"


def sender_id_for(chat_id: int) -> str:
    return f"{SENDER_PREFIX}{chat_id}"


def chat_id_for(recipient_id: str) -> int:
    """Telegram chat id of a Rasa conversation id (`tg:<chat id>`)."""
    raw = str(recipient_id)
    raw = raw.removeprefix(SENDER_PREFIX)
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{recipient_id!r} is not a Telegram conversation id") from None


class TelegramOutput(OutputChannel):
    """Sends Rasa's bot messages to a Telegram chat; usable later for pushed messages."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, sender: TelegramSender, state: TelegramState) -> None:
        self.sender = sender
        self.state = state

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.sender.send_text(chat_id_for(recipient_id), text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        keyboard = build_keyboard(buttons, self.state.put_payload)
        await self.sender.send_text(chat_id_for(recipient_id), text or "", keyboard)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.sender.call(self.sender.bot.send_photo, chat_id=chat_id_for(recipient_id), photo=image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self.sender.send_text(chat_id_for(recipient_id), str(attachment))

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        for element in elements:
            text = "\n".join(str(element.get(key)) for key in ("title", "subtitle") if element.get(key))
            await self.send_text_with_buttons(recipient_id, text, element.get("buttons") or [])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """`custom: {text, buttons}` (or nested under `telegram:`) is sent; anything else is skipped."""
        payload = json_message.get("telegram", json_message) if isinstance(json_message, dict) else {}
        if isinstance(payload, dict) and payload.get("text"):
            await self.send_text_with_buttons(
                recipient_id, str(payload["text"]), payload.get("buttons") or []
            )
        else:
            logger.debug("Custom payload without text not sent to Telegram")


class TelegramInput(InputChannel):
    """Rasa input channel for Telegram (webhook route shared with the polling runner)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        if credentials:
            logger.warning(
                "Telegram settings come from the environment; keys in credentials.yml are ignored: %s",
                ", ".join(sorted(credentials)),
            )
        return cls()

    def __init__(self, settings: TelegramSettings | None = None) -> None:
        self.settings = settings or TelegramSettings.from_env()
        self._sender: TelegramSender | None = None
        self._state: TelegramState | None = None
        self.handoff = TelegramHandoff()
        self.front_door = FrontDoor()
        if self.settings.enabled:
            logger.info("Telegram channel enabled (%s)", self.settings)
        else:
            logger.info("Telegram channel disabled: TELEGRAM_TOKEN is not set")

    # --- lazily built resources (the Bot's HTTP client belongs to the server's loop) -------
    @property
    def sender(self) -> TelegramSender:
        if self._sender is None:
            self._sender = TelegramSender(make_bot(self.settings), self.settings)
        return self._sender

    @property
    def state(self) -> TelegramState:
        if self._state is None:
            self._state = TelegramState(self.settings.state_db, self.settings.bot_id)
        return self._state

    def get_output_channel(self) -> OutputChannel | None:
        if not self.settings.enabled:
            return None
        return TelegramOutput(self.sender, self.state)

    # --- HTTP -------------------------------------------------------------------------
    def secret_ok(self, header_value: str | None) -> bool:
        expected = self.settings.webhook_secret.encode()
        return bool(expected) and hmac.compare_digest((header_value or "").encode(), expected)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.listener("after_server_stop")
        async def close_bot(*_: Any) -> None:
            if self._sender is not None:
                sender, self._sender = self._sender, None
                await sender.aclose()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.enabled else "disabled"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.enabled:
                return response.json({"status": "disabled"}, status=503)
            if not self.secret_ok(request.headers.get(SECRET_HEADER)):
                logger.warning("Telegram webhook call with a wrong secret token rejected")
                return response.json({"status": "forbidden"}, status=403)
            try:
                data = request.json
            except InvalidUsage:  # malformed JSON
                data = None
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                return response.json({"status": "bad request"}, status=400)

            agent = getattr(request.app.ctx, "agent", None)
            # Shielded: a caller that hangs up (timeout) must not cut a reply to a child in half.
            task = asyncio.ensure_future(self.handle_update(data, on_new_message, agent, request.app))
            task.add_done_callback(lambda done: _log_task_failure(done, self.settings))
            try:
                status = await asyncio.shield(task)
            except UnreadableUpdate:
                return response.json({"status": "bad request"}, status=400)
            except UpdateBusy:  # the caller retries later, or answers 111 itself (the runner)
                return response.json({"status": "busy"}, status=409)
            except Exception:  # noqa: BLE001 - nothing reached the child: let the caller retry
                return response.json({"status": "error"}, status=500)
            return response.json({"status": status})

        return telegram_webhook

    # --- one update ---------------------------------------------------------------------
    async def handle_update(
        self,
        data: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any = None,
        app: Any = None,
    ) -> str:
        """Handle one update at least once, deduplicated; returns `ok` or `duplicate`.

        The message is marked handled only once it was handled: if handling raises or is
        cancelled the claim is released, and if the process dies its claim expires, so a
        redelivery is handled again. Raises `UnreadableUpdate` for a body that is no update,
        `UpdateBusy` while another delivery of the same message is in hand, and otherwise
        only when nothing could be delivered to Telegram.
        """
        try:
            update = Update.de_json(data, self.sender.bot)
        except Exception as exc:  # noqa: BLE001 - any parsing error means "not an update"
            raise UnreadableUpdate(type(exc).__name__) from None
        key = dedupe_key(update)
        claim = self.state.claim(key)
        if claim is Claim.DUPLICATE:
            logger.debug("Update %s already handled: skipped", update.update_id)
            return "duplicate"
        if claim is Claim.BUSY:
            raise UpdateBusy(update.update_id)
        try:
            await self._process(update, on_new_message, agent, app)
        except BaseException:  # also a cancellation (shutdown): a redelivery must be handled
            self.state.release(key)
            raise
        self.state.done(key)
        return "ok"

    async def _process(
        self,
        update: Update,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any,
        app: Any = None,
    ) -> None:
        if self.handoff.is_counsellor_chat(update):
            if app is not None:
                await self.handoff.handle_counsellor_update(update, self.sender, app)
            elif update.callback_query is not None:
                await self.sender.answer_callback(update.callback_query.id)
            return
        in_group = chat_type_of(update) not in (None, ChatType.PRIVATE)
        username = await self.sender.username() if in_group else None
        inbound = classify(update, self.settings.bot_id, username)
        logger.debug("Update %s from chat %s: %s", inbound.update_id, inbound.chat_id, inbound.kind.value)

        if inbound.callback_query_id:
            await self.sender.answer_callback(inbound.callback_query_id)
        if inbound.kind is Kind.IGNORE or inbound.chat_id is None:
            return
        if inbound.reply:
            await self.sender.send_text(inbound.chat_id, inbound.reply)
        if inbound.kind is Kind.GROUP:
            return

        text = inbound.text
        if inbound.kind is Kind.CALLBACK:
            text = resolve_callback_data(inbound.callback_data, self.state.get_payload)
        if text:
            await self._ask_rasa(inbound, text, on_new_message, agent)

    async def _ask_rasa(
        self,
        inbound: Inbound,
        text: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        agent: Any,
    ) -> None:
        chat_id = inbound.chat_id
        assert chat_id is not None
        message = UserMessage(
            text,
            TelegramOutput(self.sender, self.state),
            sender_id_for(chat_id),
            input_channel=self.name(),
            message_id=str(inbound.update_id),
            metadata={
                "telegram": {
                    "update_id": inbound.update_id,
                    "chat_type": inbound.chat_type,
                    "via": inbound.via,
                    "edited": inbound.edited,
                }
            },
        )
        try:
            admitted = await self.front_door.admit(message, agent)  # flood, size, live relay to a counsellor
        except Exception as exc:  # noqa: BLE001 - e.g. the relay's database: the child still gets 111
            logger.error(
                "Front door failed on update %s (%s): answering with the 111 message",
                inbound.update_id,
                type(exc).__name__,
            )
            await self.sender.send_fallback(chat_id)
            return
        if admitted is None:
            return
        async with self.sender.typing(chat_id):
            if agent is not None and not agent.is_ready():
                logger.error(
                    "No Rasa model loaded: update %s answered with the 111 message", inbound.update_id
                )
                await self.sender.send_fallback(chat_id)
                return
            try:
                await on_new_message(admitted)
            except Exception as exc:  # whatever broke, the child gets 111
                logger.error(
                    "Rasa failed on update %s (%s): answering with the 111 message",
                    inbound.update_id,
                    type(exc).__name__,
                    exc_info=logger.isEnabledFor(logging.DEBUG),
                )
                await self.sender.send_fallback(chat_id)


class UnreadableUpdate(ValueError):
    """The request body is not a Telegram update."""


class UpdateBusy(RuntimeError):
    """The same message is being handled by another delivery right now."""


def _log_task_failure(task: asyncio.Future[Any], settings: TelegramSettings) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if isinstance(exc, UnreadableUpdate):
        logger.warning("Unreadable Telegram update rejected (%s)", exc)
    elif isinstance(exc, UpdateBusy):
        logger.warning("Update %s is already being handled: this delivery refused", exc)
    elif exc is not None:
        logger.error("Telegram update could not be delivered: %s", describe(exc, settings))
