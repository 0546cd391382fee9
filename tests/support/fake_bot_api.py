"""A local fake of the Telegram Bot API, for tests (127.0.0.1 only, never the internet).

python-telegram-bot talks to it through `Bot(token, base_url=fake.api_url)`. It records every
method call, serves queued updates to `getUpdates` (with long polling and offsets like
Telegram), and can answer the next call of a method with an error such as a 429.

    fake = FakeBotAPI()
    await fake.start()
    fake.queue_update(updates.text(1, CHAT, "chào"))
    ...
    assert fake.sent_texts(CHAT)
    await fake.stop()

The update builders at the bottom produce the JSON Telegram sends.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token_for-the-fake"
BOT_ID = 123456
BOT_USERNAME = "antoan_tre_em_test_bot"
#: Like Telegram: a text over 4096 characters (UTF-16 code units) is refused with 400 for good.
MAX_TEXT = 4096

# Parameters python-telegram-bot sends as raw strings; everything else is JSON-encoded.
_STRING_PARAMS = {
    "text",
    "caption",
    "secret_token",
    "url",
    "callback_query_id",
    "action",
    "photo",
    "file_id",
    "language_code",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # what the fake answered (e.g. the sent message, with its message_id)


class FakeBotAPI:
    def __init__(self, token: str = TOKEN, bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.calls: list[Call] = []
        self.paths: list[str] = []  # every path requested, to prove no file was downloaded
        self._updates: list[dict[str, Any]] = []
        self._new_updates = asyncio.Event()
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._message_ids = itertools.count(1000)
        self._next_update_id = 100
        self._chat_message_ids: dict[int, itertools.count] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        #: Per chat: at most this many messages a minute (like Telegram in groups); None = unlimited.
        self.per_chat_per_minute: int | None = None
        self._sent_at: dict[int, list[float]] = {}

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> FakeBotAPI:
        app = web.Application()
        app.router.add_route("*", "/{prefix:bot[^/]*}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._other)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        self._new_updates.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.root_url}/bot"

    # --- scripting ---------------------------------------------------------------------
    def queue_update(self, *updates: dict[str, Any]) -> None:
        self._updates.extend(updates)
        self._new_updates.set()

    def next_update_id(self) -> int:
        """Update ids as Telegram gives them: one more each time (until a quiet week)."""
        self._next_update_id += 1
        return self._next_update_id - 1

    def quiet_week(self, restart_at: int = 1) -> None:
        """Telegram after a week without updates: the next `update_id` is chosen at random, here
        `restart_at`, which may be lower than every id seen before (message ids still grow)."""
        self._next_update_id = restart_at

    def child_says(self, chat_id: int, body: str) -> dict[str, Any]:
        """A private message, numbered like Telegram (update id; message id per chat), queued."""
        counter = self._chat_message_ids.setdefault(chat_id, itertools.count(1))
        update = text(self.next_update_id(), chat_id, body, message_id=next(counter))
        self.queue_update(update)
        return update

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, description: str | None = None
    ) -> None:
        """Answer the next call of `method` with an error (default: 429 with retry_after)."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": description
            or (f"Too Many Requests: retry after {retry_after}" if status == 429 else "Error"),
        }
        if status == 429 and retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._failures.setdefault(method, []).append((status, body))

    # --- inspection --------------------------------------------------------------------
    def calls_of(self, method: str, *, ok_only: bool = True) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [p for p in self.calls_of("sendMessage") if chat_id is None or int(p["chat_id"]) == chat_id]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [p["text"] for p in self.sent_messages(chat_id)]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls_of(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} called {len(self.calls_of(method))} times, expected {count}")
            await asyncio.sleep(0.02)
        return self.calls_of(method)

    # --- HTTP --------------------------------------------------------------------------
    async def _other(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        raw = dict(await request.post()) if request.can_read_body else {}
        raw.update(request.query)
        params: dict[str, Any] = {}
        for key, value in raw.items():
            value = str(value)
            if key in _STRING_PARAMS:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        if request.match_info["prefix"] != f"bot{self.token}":
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        queued = self._failures.get(method)
        if queued:
            status, body = queued.pop(0)
            self.calls.append(Call(method, params, status))
            return web.json_response(body, status=status)
        refused = self._refusal(method, params)
        if refused is not None:
            self.calls.append(Call(method, params, refused["error_code"]))
            return web.json_response(refused, status=refused["error_code"])
        call = Call(method, params)
        self.calls.append(call)
        handler = getattr(self, f"_api_{method}", None)
        call.result = await handler(params) if handler else True
        return web.json_response({"ok": True, "result": call.result})

    def _refusal(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Telegram's own refusals: a text that is too long (400) and a chat over its rate (429)."""
        if method not in ("sendMessage", "editMessageText"):
            return None
        text = str(params.get("text") or "")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            return {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
        if method == "sendMessage" and self.per_chat_per_minute is not None:
            now, chat = time.monotonic(), int(params["chat_id"])
            recent = [t for t in self._sent_at.get(chat, []) if now - t < 60]
            if len(recent) >= self.per_chat_per_minute:
                wait = max(1, int(60 - (now - recent[0])) + 1)
                return {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {wait}",
                    "parameters": {"retry_after": wait},
                }
            self._sent_at[chat] = recent + [now]
        return None

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "An toàn",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._me()

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")

        def confirm() -> None:  # like Telegram: an offset confirms (drops) every lower update id
            if offset is not None:
                self._updates = [u for u in self._updates if u["update_id"] >= int(offset)]

        confirm()
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0:
            self._new_updates.clear()
            try:
                await asyncio.wait_for(self._new_updates.wait(), timeout=min(timeout, 5.0))
            except asyncio.TimeoutError:
                pass
            confirm()  # also updates that arrived during the long poll with a lower id
        return list(self._updates[: int(params.get("limit") or 100)])

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": self._me(),
            **content,
        }

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        extra = {"reply_markup": params["reply_markup"]} if params.get("reply_markup") else {}
        return self._message(params, text=params["text"], **extra)

    async def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, photo=[{"file_id": "x", "file_unique_id": "x", "width": 1, "height": 1}])

    async def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"file_id": params.get("file_id", "x"), "file_unique_id": "x", "file_path": "photos/x.jpg"}


# --- update builders (the JSON Telegram sends) ---------------------------------------------
def _chat(chat_id: int, chat_type: str) -> dict[str, Any]:
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": "Bé"}
    return {"id": chat_id, "type": chat_type, "title": "Lớp 7A"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Bé", "language_code": "vi"}


def message_update(
    update_id: int,
    chat_id: int,
    *,
    chat_type: str = "private",
    user_id: int | None = None,
    edited: bool = False,
    message_id: int | None = None,
    **content: Any,
) -> dict[str, Any]:
    message = {
        "message_id": message_id or update_id + 10,
        "date": int(time.time()),
        "chat": _chat(chat_id, chat_type),
        "from": _user(user_id or abs(chat_id)),
        **content,
    }
    if edited:
        message["edit_date"] = int(time.time())
    return {"update_id": update_id, ("edited_message" if edited else "message"): message}


def text(update_id: int, chat_id: int, body: str, **kwargs: Any) -> dict[str, Any]:
    entities = []
    if body.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": len(body.split()[0])})
    mention = f"@{BOT_USERNAME}"
    if mention in body and not body.startswith("/"):
        entities.append({"type": "mention", "offset": body.index(mention), "length": len(mention)})
    content: dict[str, Any] = {"text": body}
    if entities:
        content["entities"] = entities
    return message_update(update_id, chat_id, **content, **kwargs)


def command(update_id: int, chat_id: int, name: str, **kwargs: Any) -> dict[str, Any]:
    return text(update_id, chat_id, name if name.startswith("/") else f"/{name}", **kwargs)


def callback(update_id: int, chat_id: int, data: str, *, message_id: int = 7) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": _user(chat_id),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": _chat(chat_id, "private"),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "An toàn", "username": BOT_USERNAME},
                "text": "menu",
            },
        },
    }


def sticker(update_id: int, chat_id: int) -> dict[str, Any]:
    return message_update(
        update_id,
        chat_id,
        sticker={
            "file_id": "STK",
            "file_unique_id": "stk",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    )


def photo(update_id: int, chat_id: int, caption: str | None = None) -> dict[str, Any]:
    sizes = [
        {"file_id": "PHOTO-small", "file_unique_id": "p1", "width": 90, "height": 90},
        {"file_id": "PHOTO-big", "file_unique_id": "p2", "width": 1280, "height": 1280},
    ]
    extra = {"caption": caption} if caption else {}
    return message_update(update_id, chat_id, photo=sizes, **extra)


def voice(update_id: int, chat_id: int) -> dict[str, Any]:
    return message_update(
        update_id, chat_id, voice={"file_id": "VOICE", "file_unique_id": "v", "duration": 3}
    )


def document(update_id: int, chat_id: int) -> dict[str, Any]:
    return message_update(
        update_id, chat_id, document={"file_id": "DOC", "file_unique_id": "d", "file_name": "anh.zip"}
    )


def location(update_id: int, chat_id: int) -> dict[str, Any]:
    return message_update(update_id, chat_id, location={"latitude": 21.03, "longitude": 105.85})


def contact(update_id: int, chat_id: int) -> dict[str, Any]:
    return message_update(update_id, chat_id, contact={"phone_number": "+84900000000", "first_name": "Mẹ"})


def reply_to_bot(update_id: int, chat_id: int, body: str, *, chat_type: str = "group") -> dict[str, Any]:
    original = {
        "message_id": 5,
        "date": int(time.time()),
        "chat": _chat(chat_id, chat_type),
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "An toàn", "username": BOT_USERNAME},
        "text": "…",
    }
    return message_update(
        update_id, chat_id, chat_type=chat_type, user_id=77, text=body, reply_to_message=original
    )


# --- standalone, for trying the bot by hand -------------------------------------------------
#   PYTHONPATH=. python -m tests.support.fake_bot_api --port 8081
#   TELEGRAM_TOKEN=123456:TEST-token_for-the-fake TELEGRAM_API_URL=http://127.0.0.1:8081 make run
#   curl -s localhost:8081/_fake/say -d '{"text": "/start"}'      # the child writes
#   curl -s localhost:8081/_fake/sent                              # what the bot answered
async def _serve_forever(port: int) -> None:
    api = FakeBotAPI()
    update_ids = itertools.count(1)

    async def say(request: web.Request) -> web.Response:
        body = await request.json()
        chat_id = int(body.get("chat_id", 4242))
        if body.get("data"):
            update = callback(next(update_ids), chat_id, str(body["data"]))
        else:
            update = text(next(update_ids), chat_id, str(body.get("text", "")))
        api.queue_update(update)
        return web.json_response({"queued": update["update_id"]})

    async def sent(_: web.Request) -> web.Response:
        calls = [{"method": c.method, **c.params} for c in api.calls if c.method != "getUpdates"]
        return web.json_response(calls, dumps=lambda data: json.dumps(data, ensure_ascii=False, indent=1))

    app = web.Application()
    app.router.add_post("/_fake/say", say)
    app.router.add_get("/_fake/sent", sent)
    app.router.add_route("*", "/{prefix:bot[^/]*}/{method}", api._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"Fake Bot API on http://127.0.0.1:{port} (token {api.token})", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fake Telegram Bot API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    asyncio.run(_serve_forever(parser.parse_args().port))
