"""Web chat channel: Rasa's socket.io channel that also serves the chat page and the widget.

Use it in ``credentials.yml`` instead of ``socketio:``::

    bot.channels.webchat.WebChatInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      socketio_path: /socket.io

Routes (Rasa mounts the blueprint under ``/webhooks/<name()>``):

- ``GET /webhooks/webchat/``                  the full-page chat (``web/static/index.html``)
- ``GET /webhooks/webchat/widget.js``         the embeddable widget: one ``<script>`` tag on any site
- ``GET /webhooks/webchat/widget.css``        its styles
- ``GET /webhooks/webchat/socket.io.min.js``  socket.io-client from ``web/node_modules`` (``npm ci``)
- ``GET /webhooks/webchat/embed-demo.html``   a page that shows the one-tag embed
- ``GET /webhooks/webchat/health``            ``{"status": "ok"}``
- socket.io itself on ``socketio_path`` (default ``/socket.io``)

What it changes in Rasa's ``SocketIOInput``:

- ``enter_room``/``leave_room`` are awaited when they are coroutines (python-socketio >= 5.10,
  RasaHQ/rasa#13027), so replies reach the browser whatever python-socketio is installed.
- A socket belongs to exactly one conversation: ``session_request`` leaves the previous one, a message
  is only accepted for the conversation the socket joined, and a session id must be 32 hex digits, so
  a browser cannot write into another channel's conversation (e.g. a Telegram chat id).
- ``user_uttered`` is acknowledged once Rasa has handled the message (the bot replies are emitted
  before the ack): the page hides its typing indicator and drops the message from its offline queue.
  A message counts as handled only once it was handled (at least once, deduplicated): a repeated
  ``message_id`` (a retry after a lost ack) is acknowledged but not handled twice, a repeat while the
  first delivery is still in hand waits for it, and if handling fails the child gets the 111 message
  (once), an ERROR is logged and the ack says ``{"ok": false, "error": "retry"}``: the page keeps the
  message and sends it again (at most ``MAX_TRIES`` times, then it is given up with the 111 answer).
- Nothing pushed to an offline child is lost (``web_inbox.py``): a message for a conversation with no
  socket connected is kept, and replayed when the widget comes back with its session id. Counsellor
  messages and handoff notices (``deliver``) are always kept until the widget acknowledges them
  (``bot_received``), and report honestly whether they were ``delivered`` or only ``queued``.
- Messages longer than ``max_message_length`` are cut; metadata sent by the browser is ignored.
- The output channel is named ``webchat`` and ``send_custom_json`` emits ``{"custom": ...}``.
- With ``SOCKETIO_REDIS_URL`` set, python-socketio's Redis manager carries emits between processes
  (several Sanic workers or instances behind nginx; docs/scaling.md). A process sees only its own
  sockets, so then a kept message is pushed anyway (the socket may be on another instance), and
  ``deliver`` also counts a confirmation taken by another instance: its row has left the shared inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import inspect
import json
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncManager, AsyncServer

from bot import directory
from bot.channels.front_door import FrontDoor
from bot.channels.settings import ChannelSettings
from bot.channels.web_inbox import WebInbox
from bot.handoff.service import source_of
from bot.telegram.texts import UNAVAILABLE

logger = logging.getLogger(__name__)

DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "web"
SOCKET_IO_CLIENT = Path("node_modules") / "socket.io-client" / "dist" / "socket.io.min.js"
DEFAULT_MAX_MESSAGE_LENGTH = 2000
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
MESSAGE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
SEEN_MESSAGE_IDS = 10_000
MAX_TRIES = 3  # a message that keeps failing is given up (with the 111 answer), not retried forever
ACK_WAIT_SECONDS = 3.0  # how long a pushed message waits for the widget's "bot_received"
ACK_POLL_SECONDS = 0.15  # with shared rooms: how often the inbox is read for a confirmation made elsewhere
RECEIVED_EVT = "bot_received"
# Trusted Types policy that widget.js uses to load socket.io.min.js in the one-tag embed.
TRUSTED_TYPES_POLICY = "safekids-webchat"
SOCKETIO_PATH_PLACEHOLDER = "__WEBCHAT_SOCKETIO_PATH__"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        f"trusted-types {TRUSTED_TYPES_POLICY}",
    ]
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGE_HEADERS = {
    **COMMON_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
# The widget files are loaded by other sites (the one-tag embed).
ASSET_HEADERS = {
    **COMMON_HEADERS,
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Cache-Control": "public, max-age=300",
}
HTML = "text/html; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"


def _origins_from_env() -> list | None:
    """WEBCHAT_ORIGINS="https://a.vn,https://b.vn": only these sites (and the bot's own page) may connect."""
    return list(ChannelSettings.from_env().webchat_origins) or None


def _client_source(sio: AsyncServer, sid: str, namespace: str | None) -> str | None:
    """Keyed hash of the browser's address: new web sessions are free, the address is not."""
    request = (sio.get_environ(sid, namespace=namespace) or {}).get("sanic.request")
    return source_of(getattr(request, "remote_addr", None) or getattr(request, "ip", None))


def _client_manager() -> Any:
    """With SOCKETIO_REDIS_URL, rooms live in Redis: an emit from any Rasa process (a counsellor's
    message, a pushed reply) reaches the socket wherever it is connected (docs/scaling.md)."""
    settings = ChannelSettings.from_env()
    if not settings.socketio_redis_url:
        return None  # python-socketio's in-process manager
    from socketio import AsyncRedisManager

    return AsyncRedisManager(settings.socketio_redis_url, channel=settings.socketio_redis_channel)


async def _maybe_await(result: Any) -> Any:
    """python-socketio >= 5.10 made room calls coroutines; older versions return None."""
    if inspect.isawaitable(result):
        return await result
    return result


class WebChatOutput(SocketIOOutput):
    """Socket.io output named after the web chat, emitting to the conversation's room.

    With its channel, a message for a conversation nobody is connected to is kept in the inbox
    (replayed when the widget comes back) instead of being emitted into an empty room.
    """

    def __init__(self, sio: AsyncServer, bot_message_evt: str, channel: WebChatInput | None = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.channel = channel

    @classmethod
    def name(cls) -> str:
        return WebChatInput.name()

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self.channel is not None and not self.channel.listening(socket_id):
            msg_id = await self.channel.keep(socket_id, response)
            if self.channel.rooms_shared:  # its socket may be on another instance: push it there too
                await self.channel.push(socket_id, msg_id, response)
            return
        await super()._send_message(socket_id, response)

    async def deliver(self, recipient_id: str, text: str) -> str:
        """A counsellor message or notice: ``delivered`` (the widget showed it) or ``queued``."""
        if self.channel is None:
            await self.send_text_message(recipient_id, text)
            return "delivered"
        return await self.channel.deliver(recipient_id, {"text": text})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Rasa's version passes the JSON as emit() arguments; send it as a message instead."""
        await self._send_message(recipient_id, {"custom": json_message})


class WebChatInput(SocketIOInput):
    """Socket.io channel for the web chat page and the embeddable widget (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            session_persistence=credentials.get("session_persistence", True),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            jwt_key=credentials.get("jwt_key"),
            jwt_method=credentials.get("jwt_method", "HS256"),
            metadata_key=credentials.get("metadata_key", "metadata"),
            web_dir=credentials.get("web_dir"),
            max_message_length=int(credentials.get("max_message_length", DEFAULT_MAX_MESSAGE_LENGTH)),
            cors_allowed_origins=credentials.get("cors_allowed_origins") or _origins_from_env(),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = True,
        socketio_path: str | None = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str | None = "HS256",
        metadata_key: str | None = "metadata",
        web_dir: str | None = None,
        max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
        cors_allowed_origins: Any = None,
    ) -> None:
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.web_dir = Path(web_dir) if web_dir else DEFAULT_WEB_DIR
        self.max_message_length = max_message_length
        # [] = python-engineio does no origin check (Rasa's default): any site may embed the widget.
        self.cors_allowed_origins = [] if cors_allowed_origins is None else cors_allowed_origins
        self._seen: OrderedDict[tuple, None] = OrderedDict()  # handled (conversation, message id)
        self._failures: OrderedDict[tuple, int] = OrderedDict()  # failed tries per message
        self._in_hand: dict[tuple, asyncio.Future] = {}
        self._acks: dict[tuple, asyncio.Future] = {}  # pushed message -> waiting for bot_received
        self.inbox = WebInbox()

    def get_output_channel(self) -> OutputChannel | None:
        """Output for pushed messages (``trigger_intent?output_channel=latest``, counsellor replies)."""
        if self.sio is None:
            return super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt, self)

    # --- the inbox of offline conversations ------------------------------------------------------

    @property
    def rooms_shared(self) -> bool:
        """Is a client manager other than python-socketio's in-process one (Redis) in use? Then the
        conversation's socket may be on another instance, where ``listening`` cannot see it."""
        return self.sio is not None and type(self.sio.manager) is not AsyncManager

    def listening(self, session_id: str) -> bool:
        """Is any socket in the conversation's room right now, in this process?"""
        if self.sio is None:
            return False
        try:
            return any(True for _ in self.sio.manager.get_participants(self.namespace or "/", session_id))
        except KeyError:  # no socket ever connected to the namespace
            return False

    async def keep(self, session_id: str, payload: dict[str, Any]) -> int:
        """Keep a message for a conversation whose widget is away; it is replayed on its return."""
        msg_id = await asyncio.to_thread(self.inbox.put, session_id, payload)
        logger.info("Web chat: message %s kept for an offline conversation", msg_id)
        return msg_id

    async def deliver(self, session_id: str, payload: dict[str, Any]) -> str:
        """Keep, push and wait briefly for the widget's acknowledgement: ``delivered`` or ``queued``."""
        msg_id = await self.keep(session_id, payload)
        if self.sio is None or not (self.rooms_shared or self.listening(session_id)):
            return "queued"
        waiter = asyncio.get_running_loop().create_future()
        self._acks[(session_id, msg_id)] = waiter
        try:
            await self.push(session_id, msg_id, payload)
            await asyncio.wait_for(self._confirmed(session_id, msg_id, waiter), ACK_WAIT_SECONDS)
            return "delivered"
        except asyncio.TimeoutError:  # no widget, or a socket that is open but dead (phone lost its network)
            return "queued"
        finally:
            self._acks.pop((session_id, msg_id), None)

    async def push(self, session_id: str, msg_id: int, payload: dict[str, Any]) -> None:
        """Emit a kept message with its id, which the widget confirms (``bot_received``)."""
        await self.sio.emit(
            self.bot_message_evt, {**payload, "id": msg_id}, room=session_id, namespace=self.namespace
        )

    async def _confirmed(self, session_id: str, msg_id: int, waiter: asyncio.Future) -> None:
        """Until the widget confirms the message: here (``bot_received`` sets the waiter) or, with shared
        rooms, on the instance that holds its socket, which removes the row from the shared inbox."""
        if not self.rooms_shared:
            await asyncio.shield(waiter)
            return
        while not waiter.done():
            await asyncio.wait([waiter], timeout=ACK_POLL_SECONDS)
            if waiter.done():
                return
            try:
                if not await asyncio.to_thread(self.inbox.holds, session_id, msg_id):
                    return  # confirmed elsewhere (or the child deleted their data)
            except Exception as exc:  # noqa: BLE001 - cannot tell: only a confirmation here counts now
                logger.error("Web chat: could not read the inbox for a confirmation (%s)", type(exc).__name__)
                await asyncio.shield(waiter)
                return

    async def _replay(self, sid: str, session_id: str) -> None:
        """Send a returning widget what was kept for its conversation, oldest first."""
        try:
            pending = await asyncio.to_thread(self.inbox.pending, session_id)
            for msg_id, payload in pending:
                if session_id not in self.sio.rooms(sid, namespace=self.namespace):
                    return  # the socket switched conversation meanwhile: never show it another's messages
                await self.sio.emit(
                    self.bot_message_evt, {**payload, "id": msg_id}, room=sid, namespace=self.namespace
                )
        except Exception as exc:  # noqa: BLE001 - kept messages stay kept; the next reconnect tries again
            logger.error("Web chat: replay of kept messages failed (%s)", type(exc).__name__)

    # --- at least once, deduplicated -------------------------------------------------------------

    async def _handle_once(self, key: tuple | None, handle: Callable[[], Awaitable[None]]) -> dict[str, Any]:
        """Run ``handle`` unless this message was handled; mark it handled only once it was."""
        if key is None:
            await handle()
            return {"ok": True}
        while (pending := self._in_hand.get(key)) is not None:
            await asyncio.wait([pending])  # a retry while the first delivery is in hand: wait for it
        if key in self._seen:
            return {"ok": True, "duplicate": True}
        done = asyncio.get_running_loop().create_future()
        self._in_hand[key] = done
        try:
            await handle()
            self._remember(key)
        finally:
            del self._in_hand[key]
            done.set_result(None)
        return {"ok": True}

    def _remember(self, key: tuple) -> None:
        self._seen[key] = None
        self._failures.pop(key, None)
        while len(self._seen) > SEEN_MESSAGE_IDS:
            self._seen.popitem(last=False)

    def _failed(self, key: tuple | None) -> int:
        """Count a failed try of this message; returns how many it has had."""
        if key is None:
            return MAX_TRIES
        tries = self._failures.pop(key, 0) + 1
        self._failures[key] = tries
        while len(self._failures) > SEEN_MESSAGE_IDS:
            self._failures.popitem(last=False)
        if tries >= MAX_TRIES:
            self._remember(key)  # given up: a later repeat is a duplicate
        return tries

    # --- helpers ---------------------------------------------------------------------------------

    def _static(self, *parts: str) -> Path:
        return self.web_dir.joinpath("static", *parts)

    @staticmethod
    def _message_key(session_id: str, message_id: Any) -> tuple | None:
        """(conversation, message id) of a message the page may send again; None without an id."""
        if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
            return None
        return (session_id, message_id)

    def _widget_js(self) -> bytes:
        text = self._static("widget.js").read_text(encoding="utf-8")
        return text.replace(
            SOCKETIO_PATH_PLACEHOLDER, json.dumps(self.socketio_path or "/socket.io")[1:-1]
        ).encode()

    def _page(self, name: str) -> bytes:
        text = self._static(name).read_text(encoding="utf-8")
        text = text.replace("<!--DIRECTORY-->", directory.html_list())  # content/directory.yml (issue 15)
        return text.replace(
            SOCKETIO_PATH_PLACEHOLDER, html.escape(self.socketio_path or "/socket.io")
        ).encode()

    # --- blueprint -------------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Socket.io handlers plus the static routes of the page and the widget."""
        door = FrontDoor()  # empty, huge, flooding messages; the live relay to a counsellor
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            client_manager=_client_manager(),
        )
        bp = SocketBlueprint(sio, self.socketio_path, "webchat_webhook", __name__)
        door.attach(bp)
        self.sio = sio
        client_js = self.web_dir / SOCKET_IO_CLIENT
        if not client_js.is_file():
            logger.warning("Web chat: %s is missing; run `npm ci` in %s (make web).", client_js, self.web_dir)

        def page(name: str) -> Callable[[Request], Awaitable[HTTPResponse]]:
            async def handler(request: Request) -> HTTPResponse:
                if name == "index.html" and not request.path.endswith("/"):
                    # the page loads widget.js etc. by relative URL: it must end with a slash
                    return response.redirect(request.path + "/", headers=COMMON_HEADERS)
                return response.raw(self._page(name), content_type=HTML, headers=PAGE_HEADERS)

            handler.__name__ = "page_" + re.sub(r"\W", "_", name)
            return handler

        bp.add_route(page("index.html"), "/", methods=["GET", "HEAD"], name="index")
        bp.add_route(page("embed-demo.html"), "/embed-demo.html", methods=["GET", "HEAD"], name="embed_demo")

        @bp.route("/health", methods=["GET", "HEAD"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"}, headers=COMMON_HEADERS)

        @bp.route("/widget.js", methods=["GET", "HEAD"])
        async def widget_js(_: Request) -> HTTPResponse:
            return response.raw(self._widget_js(), content_type=JAVASCRIPT, headers=ASSET_HEADERS)

        @bp.route("/widget.css", methods=["GET", "HEAD"])
        async def widget_css(_: Request) -> HTTPResponse:
            return response.raw(
                self._static("widget.css").read_bytes(), content_type=CSS, headers=ASSET_HEADERS
            )

        @bp.route("/socket.io.min.js", methods=["GET", "HEAD"])
        async def socketio_client(_: Request) -> HTTPResponse:
            if not client_js.is_file():
                return response.text(
                    "socket.io-client is not installed: run `npm ci` in web/ (make web)",
                    status=503,
                    headers=COMMON_HEADERS,
                )
            return response.raw(client_js.read_bytes(), content_type=JAVASCRIPT, headers=ASSET_HEADERS)

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            payload = (
                rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
                if token
                else None
            )
            return bool(payload)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if isinstance(requested, str) and SESSION_ID.match(requested) else None
            session_id = session_id or uuid.uuid4().hex
            if self.session_persistence:
                for room in sio.rooms(sid, namespace=self.namespace):
                    if room not in (sid, session_id):
                        await _maybe_await(sio.leave_room(sid, room, namespace=self.namespace))
                await _maybe_await(sio.enter_room(sid, session_id, namespace=self.namespace))
                await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            if self.session_persistence:
                await self._replay(sid, session_id)

        @sio.on(RECEIVED_EVT, namespace=self.namespace)
        async def bot_received(sid: str, data: Any) -> dict[str, Any]:
            """The widget showed these pushed messages: they leave the inbox."""
            session = await sio.get_session(sid, namespace=self.namespace) if self.session_persistence else {}
            session_id = (session or {}).get("session_id")
            raw = data.get("ids") if isinstance(data, dict) else None
            ids = [i for i in raw if isinstance(i, int)][:100] if isinstance(raw, list) else []
            if not session_id or not ids:
                return {"ok": False}
            try:  # removed before the sender is told: "delivered" means the row is gone, on every instance
                await asyncio.to_thread(self.inbox.remove, session_id, ids)
            except Exception as exc:  # noqa: BLE001 - shown again on the next reconnect: the page skips it
                logger.error("Web chat: could not clear delivered messages (%s)", type(exc).__name__)
            for msg_id in ids:
                waiter = self._acks.get((session_id, msg_id))
                if waiter is not None and not waiter.done():
                    waiter.set_result(True)
            return {"ok": True}

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> dict[str, Any]:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                return {"ok": False, "error": "bad_message"}
            if self.session_persistence:
                session = await sio.get_session(sid, namespace=self.namespace)
                sender_id = session.get("session_id")
                if not sender_id or data.get("session_id") != sender_id:
                    logger.warning(
                        "Web chat: message for a conversation this socket has not joined; ignored."
                    )
                    return {"ok": False, "error": "no_session"}
            else:
                sender_id = sid
            output = WebChatOutput(sio, self.bot_message_evt, self)
            message = UserMessage(
                data["message"][: self.max_message_length],
                output,
                sender_id,
                input_channel=self.name(),
                metadata={"source": _client_source(sio, sid, self.namespace)},  # handoff intake limits
            )

            async def handle() -> None:
                admitted = await door.admit(message)  # may relay to a counsellor: may fail too
                if admitted is not None:
                    await on_new_message(admitted)

            key = self._message_key(sender_id, data.get("message_id"))
            try:
                return await self._handle_once(key, handle)
            except Exception as exc:  # noqa: BLE001 - whatever broke, the child gets 111
                tries = self._failed(key)
                logger.error(
                    "Web chat: a message failed (%s, try %s of %s): answered with 111",
                    type(exc).__name__,
                    tries,
                    MAX_TRIES,
                )
                if tries == 1 or key is None:
                    with contextlib.suppress(Exception):
                        await output.send_text_message(sender_id, UNAVAILABLE)
                if tries < MAX_TRIES:
                    return {"ok": False, "error": "retry"}  # the page keeps it and sends it again
                return {"ok": True, "failed": True}

        return bp
