"""Zalo Official Account channel for Rasa (docs/zalo.md).

In `credentials.yml`:

    bot.channels.zalo.ZaloInput:

Settings come from `ZALO_*` environment variables (`zalo_settings.py`); without `ZALO_APP_ID` the
channel is off and its route answers 503. Zalo posts every OA event to
`POST /webhooks/zalo/webhook`. For each one:

1. **Verify**: `X-ZEvent-Signature: mac=<hex>`, hex = sha256(app_id + raw body + timestamp + OA secret
   key) with `app_id` and `timestamp` from the event, compared in constant time; missing or wrong: 401;
   another app's event: 403; an event older than `ZALO_MAX_EVENT_AGE_SECONDS` (300): 403 (replay).
2. **Keep, then answer 200 at once**: the event goes into the `zalo_events` inbox (exactly once per
   `msg_id`; a repeat answers `duplicate`) and is handled in the background. It is marked done only
   once handled; if handling fails it is retried with backoff, and the channel's worker picks up
   events a dead process left behind (at-least-once: a reply may in rare cases come twice, never
   zero times).
3. **Handle**: `user_send_text` goes to Rasa as user `zalo:<user id>` through the front door (flood,
   size, live relay to a counsellor, 111 on failure); `follow` shows the greeting with the menu;
   image, sticker, GIF, file, audio, video, location, link and contact cards get a kind text reply and
   are never downloaded or stored (a caption still goes to Rasa); `unfollow` and receipts: nothing.
Typed `/commands` are mapped like Telegram's (no way to type an intent into Rasa); a button's title
(what a Zalo button sends back) or a digit answering a numbered menu becomes the button's payload.
Replies leave through `ZaloOutput` (customer-service messages, `zalo_client.py`). No message text,
user id or token is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.front_door import FrontDoor
from bot.channels.zalo_client import OUTSIDE_WINDOW_REASON, ZaloClient, outside_window
from bot.channels.zalo_settings import SIGNATURE_HEADER, ZaloSettings
from bot.channels.zalo_state import ZaloState, event_key
from bot.handoff import notify
from bot.handoff import texts as handoff_texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore, shared_store, stop_task, utcnow
from bot.telegram import texts

logger = logging.getLogger(__name__)

SENDER_PREFIX = "zalo:"
LEASE_SECONDS = 120.0  # longer than any one message takes; a dead handler's event is retried after it
MAX_ATTEMPTS = 6
RETRY_TICK_SECONDS = 10.0

# Events whose content the bot never opens: a kind reply instead (texts shared with Telegram).
MEDIA_REPLIES: dict[str, str] = {
    "user_send_image": texts.MEDIA_PRIVACY,
    "user_send_gif": texts.MEDIA_PRIVACY,
    "user_send_video": texts.MEDIA_PRIVACY,
    "user_send_file": texts.MEDIA_PRIVACY,
    "user_send_sticker": texts.STICKER,
    "user_send_audio": texts.VOICE,
    "user_send_location": texts.LOCATION,
    "user_send_business_card": texts.CONTACT,
    "user_send_link": texts.OTHER,
}
HANDLED_EVENTS = {"user_send_text", "follow", "unfollow", *MEDIA_REPLIES}


def sender_id_for(user_id: str) -> str:
    return f"{SENDER_PREFIX}{user_id}"


def user_id_for(recipient_id: str) -> str:
    raw = str(recipient_id)
    if not raw.startswith(SENDER_PREFIX):
        raise ValueError("not a Zalo conversation id")
    return raw[len(SENDER_PREFIX) :]


def signature_for(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The value of `X-ZEvent-Signature` Zalo sends with an event (Chatwoot's check, docs/zalo.md)."""
    digest = hashlib.sha256(
        app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()
    ).hexdigest()
    return f"mac={digest}"


def _user_of(event: dict[str, Any]) -> str | None:
    who = event.get("follower") if event.get("event_name") in ("follow", "unfollow") else event.get("sender")
    user = who.get("id") if isinstance(who, dict) else None
    return str(user) if user else None


def _text_of(event: dict[str, Any]) -> str:
    message = event.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    return text if isinstance(text, str) else ""


class ZaloOutput(OutputChannel):
    """Rasa's replies to a Zalo user, as customer-service messages; also used for pushed messages."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.client.send(user_id_for(recipient_id), text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.client.send(user_id_for(recipient_id), text or "", buttons)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.client.send(user_id_for(recipient_id), image)  # a link: nothing is uploaded

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self.client.send(user_id_for(recipient_id), str(attachment))

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        for element in elements:
            text = "\n".join(str(element.get(key)) for key in ("title", "subtitle") if element.get(key))
            await self.send_text_with_buttons(recipient_id, text, element.get("buttons") or [])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        payload = json_message.get("zalo", json_message) if isinstance(json_message, dict) else {}
        if isinstance(payload, dict) and payload.get("text"):
            await self.send_text_with_buttons(
                recipient_id, str(payload["text"]), payload.get("buttons") or []
            )

    def unreachable_reason(self, tracker: Any) -> str | None:
        """Why a message pushed later (a counsellor's) cannot reach the child now, if it cannot."""
        last = None
        for event in reversed(getattr(tracker, "events", None) or []):
            if isinstance(event, UserUttered):
                last = event.timestamp
                break
        return OUTSIDE_WINDOW_REASON if outside_window(last) else None


class ZaloInput(InputChannel):
    """Rasa input channel for a Zalo Official Account (webhook + inbox worker)."""

    @classmethod
    def name(cls) -> str:
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ZaloInput:
        if credentials:
            logger.warning("Zalo settings come from the environment; keys in credentials.yml are ignored")
        return cls()

    def __init__(self, settings: ZaloSettings | None = None, store: HandoffStore | None = None) -> None:
        self.settings = settings or ZaloSettings.from_env()
        self._store = store
        self._state: ZaloState | None = None
        self._client: ZaloClient | None = None
        self.front_door = FrontDoor()
        self.tick = RETRY_TICK_SECONDS
        self._worker: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        #: One child's events are handled one after the other, in the order they came (per process;
        #: Rasa's lock store orders turns across processes).
        self._user_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._on_new_message: Callable[[UserMessage], Awaitable[Any]] | None = None
        if self.settings.enabled:
            logger.info("Zalo channel enabled (%r)", self.settings)
            if not self.settings.oa_secret_key:
                logger.error("ZALO_OA_SECRET_KEY is not set: every Zalo event will be refused")
        else:
            logger.info("Zalo channel disabled: ZALO_APP_ID is not set")

    # --- lazily built resources -----------------------------------------------------------------
    @property
    def store(self) -> HandoffStore:
        return self._store or shared_store()

    @property
    def state(self) -> ZaloState:
        if self._state is None:
            self._state = ZaloState(self.store, self.settings.app_id or "")
        return self._state

    @property
    def client(self) -> ZaloClient:
        if self._client is None:
            self._client = ZaloClient(self.settings, self.state, self._tell_counsellors_token_failed)
        return self._client

    def get_output_channel(self) -> OutputChannel | None:
        return ZaloOutput(self.client) if self.settings.enabled else None

    async def _tell_counsellors_token_failed(self, reason: str) -> None:
        """A notice in the counsellors' group, at most one an hour (through the handoff outbox)."""
        handoff = HandoffSettings.from_env()
        if handoff.chat_id is None:
            return
        key = f"zalo_token_failed:{utcnow():%Y%m%d%H}"
        self.store.enqueue(key, "send", {"chat_id": handoff.chat_id, "text": handoff_texts.ZALO_TOKEN_FAILED})
        await notify.deliver_now(self.store, handoff)

    # --- checks ---------------------------------------------------------------------------------
    def signature_ok(self, raw_body: bytes, event: dict[str, Any], header: str | None) -> bool:
        if not self.settings.oa_secret_key or not header:
            return False
        expected = signature_for(
            str(event.get("app_id") or ""),
            raw_body,
            str(event.get("timestamp") or ""),
            self.settings.oa_secret_key,
        )
        given = header.strip()
        if not given.lower().startswith("mac="):  # some integrations report the bare hex
            given = "mac=" + given
        return hmac.compare_digest(given.lower().encode(), expected.encode())

    def fresh(self, event: dict[str, Any], now: float | None = None) -> bool:
        """The event's own timestamp (epoch ms) is recent: an old signed event replayed is refused."""
        try:
            stamp = float(event.get("timestamp"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        if stamp > 1e11:  # Zalo sends milliseconds; seconds are read too
            stamp /= 1000.0
        age = (time.time() if now is None else now) - stamp
        return -self.settings.max_event_age <= age <= self.settings.max_event_age

    # --- HTTP -------------------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        zalo_webhook = Blueprint("zalo_webhook", __name__)
        self._on_new_message = on_new_message
        self.front_door.attach(zalo_webhook)

        @zalo_webhook.listener("after_server_start")
        async def start_worker(app: Any, _: Any) -> None:
            if self.settings.enabled and self._worker is None:
                self._worker = asyncio.ensure_future(self._work(app))

        @zalo_webhook.listener("before_server_stop")
        async def stop(*_: Any) -> None:
            if self._worker is not None:
                await stop_task(self._worker)
                self._worker = None
            for task in list(self._tasks):  # let replies being sent finish
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(task), 10)
            if self._client is not None:
                await self._client.aclose()

        @zalo_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.enabled else "disabled"})

        @zalo_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.settings.enabled:
                return response.json({"status": "disabled"}, status=503)
            raw = request.body or b""
            try:
                event = json.loads(raw)
            except ValueError:
                event = None
            if not isinstance(event, dict):
                logger.warning("Zalo webhook: a body that is no event was refused")
                return response.json({"status": "bad request"}, status=400)
            if not self.signature_ok(raw, event, request.headers.get(SIGNATURE_HEADER)):
                logger.warning("Zalo webhook: missing or wrong %s: refused", SIGNATURE_HEADER)
                return response.json({"status": "unauthorised"}, status=401)
            if str(event.get("app_id")) != self.settings.app_id:
                logger.warning("Zalo webhook: an event of another app was refused")
                return response.json({"status": "forbidden"}, status=403)
            if not self.fresh(event):
                logger.warning(
                    "Zalo webhook: an event older than %.0f s was refused (replay)",
                    self.settings.max_event_age,
                )
                return response.json({"status": "stale"}, status=403)
            if event.get("event_name") not in HANDLED_EVENTS:
                if str(event.get("event_name") or "").startswith("anonymous_"):
                    # A visitor who does not follow the OA: the customer-service API cannot answer them.
                    logger.warning(
                        "Zalo: a message from a visitor who does not follow the OA was not answered"
                    )
                return response.json({"status": "ignored"})
            key = event_key(event)
            if key is None or _user_of(event) is None:
                return response.json({"status": "ignored"})
            try:
                accepted = self.state.accept(key, event, LEASE_SECONDS)
            except Exception as exc:  # noqa: BLE001 - database down: answer anyway, without the inbox
                logger.error("Zalo event not stored (%s): handled once, without retries", type(exc).__name__)
                self._spawn(self._handle_unstored(event, request.app))
                return response.json({"status": "accepted", "stored": False})
            if not accepted:
                logger.debug("Zalo event already received: skipped")
                return response.json({"status": "duplicate"})
            self._spawn(self.handle(key, event, 1, request.app))
            return response.json({"status": "accepted"})

        return zalo_webhook

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the inbox --------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _in_order(self, user: str) -> Any:
        lock, users = self._user_locks.get(user) or (asyncio.Lock(), 0)
        self._user_locks[user] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._user_locks[user]
            if users <= 1:
                del self._user_locks[user]
            else:
                self._user_locks[user] = (lock, users - 1)

    async def handle(self, key: str, event: dict[str, Any], attempt: int, app: Any) -> bool:
        """Handle one stored event; done only if it went through, else retried later. True when done."""
        try:
            async with self._in_order(_user_of(event) or ""):
                await self._process(event, app)
        except Exception as exc:  # noqa: BLE001 - kept in the inbox: retried
            give_up = attempt >= MAX_ATTEMPTS
            delay = min(600.0, 5.0 * 2 ** (attempt - 1))
            logger.error(
                "Zalo event not handled (%s), try %d/%d: %s",
                type(exc).__name__,
                attempt,
                MAX_ATTEMPTS,
                "given up" if give_up else f"retry in {delay:.0f} s",
            )
            with contextlib.suppress(Exception):
                self.state.retry_later(key, delay, give_up)
            return False
        try:
            self.state.done(key)
        except Exception as exc:  # noqa: BLE001 - handled; the lease runs out and it may come twice
            logger.error("Zalo event handled but not marked done (%s)", type(exc).__name__)
        return True

    async def _handle_unstored(self, event: dict[str, Any], app: Any) -> None:
        """The database is down: still answer (the front door gives 111 if Rasa fails too)."""
        try:
            async with self._in_order(_user_of(event) or ""):
                await self._process(event, app)
        except Exception as exc:  # noqa: BLE001 - nothing more can be done for this one
            logger.error("Zalo event not handled and not stored (%s): lost", type(exc).__name__)

    async def run_due(self, app: Any) -> int:
        """Handle events whose lease ran out (a dead or failed handler); returns how many were done."""
        done = 0
        for key in self.state.due():
            taken = self.state.take(key, LEASE_SECONDS)
            if taken is None:
                continue  # another worker has it
            event, attempt = taken
            done += await self.handle(key, event, attempt, app)
        return done

    async def _work(self, app: Any) -> None:
        while True:
            try:
                await self.run_due(app)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the worker must survive a bad pass
                logger.error("Zalo inbox pass failed: %s", type(exc).__name__)
            await asyncio.sleep(self.tick)

    # --- one event --------------------------------------------------------------------------------
    async def _process(self, event: dict[str, Any], app: Any) -> None:
        name = event.get("event_name")
        user = _user_of(event)
        if user is None or name == "unfollow":
            return
        output = ZaloOutput(self.client)
        sender = sender_id_for(user)
        logger.debug("Zalo event %s", name)
        if name == "follow":
            await self._ask_rasa(sender, "/greet", output, app, via="follow", typed=False)
            return
        reply = MEDIA_REPLIES.get(str(name))
        if reply:
            await output.send_text_message(sender, reply)
        text = _text_of(event)
        if name == "user_send_text" or (reply and text.strip()):  # a caption is read too
            await self._ask_rasa(sender, text, output, app, via="text" if not reply else "caption")

    async def _ask_rasa(
        self, sender: str, text: str, output: ZaloOutput, app: Any, via: str, typed: bool = True
    ) -> None:
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        if typed:  # what the child wrote; the channel's own payloads (follow) go as they are
            text = await self.resolve(text, sender, agent)
        message = UserMessage(
            text, output, sender, input_channel=self.name(), metadata={"zalo": {"via": via}}
        )
        admitted = await self.front_door.admit(message, agent)  # flood, size, live relay to a counsellor
        if admitted is None:
            return
        if agent is not None and not agent.is_ready():
            logger.error("No Rasa model loaded: a Zalo message answered with the 111 message")
            await output.send_text_message(sender, texts.UNAVAILABLE)
            return
        assert self._on_new_message is not None
        try:
            await self._on_new_message(admitted)
        except Exception as exc:  # whatever broke, the child gets 111 (if Zalo takes it)
            logger.error(
                "Rasa failed on a Zalo message (%s): answering with the 111 message", type(exc).__name__
            )
            await output.send_text_message(sender, texts.UNAVAILABLE)

    async def resolve(self, text: str, sender: str, agent: Any) -> str:
        """What Rasa receives: `/commands` mapped like Telegram's, a button title or a menu digit
        turned into the button's payload; anything else unchanged."""
        stripped = text.strip()
        if stripped.startswith("/"):  # typed: never an intent payload
            word = stripped[1:].split(maxsplit=1)[0].lower() if len(stripped) > 1 else ""
            return texts.COMMAND_PAYLOADS.get(word, texts.UNKNOWN_COMMAND_PAYLOAD)
        menus = await self._recent_menus(sender, agent)
        if menus and stripped.isdigit() and 1 <= int(stripped) <= len(menus[0]):
            payload = menus[0][int(stripped) - 1].get("payload")
            if payload and not menus[0][int(stripped) - 1].get("url"):
                return str(payload)
        folded = stripped.casefold()
        for menu in menus:
            for button in menu:
                if str(button.get("title") or "").strip().casefold() == folded and button.get("payload"):
                    return str(button["payload"])
        return text

    @staticmethod
    async def _recent_menus(sender: str, agent: Any, limit: int = 5) -> list[list[dict[str, Any]]]:
        """Buttons of the bot's latest messages that had some, newest first (from the tracker)."""
        if agent is None:
            return []
        try:
            tracker = await agent.tracker_store.retrieve(sender)
        except Exception as exc:  # noqa: BLE001 - without a menu the text goes to Rasa as typed
            logger.warning("Zalo: the conversation could not be read for buttons (%s)", type(exc).__name__)
            return []
        menus: list[list[dict[str, Any]]] = []
        for event in reversed(list(getattr(tracker, "events", None) or [])[-200:]):
            if isinstance(event, BotUttered) and (event.data or {}).get("buttons"):
                menus.append(list(event.data["buttons"]))
                if len(menus) == limit:
                    break
        return menus
