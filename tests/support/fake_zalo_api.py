"""A local fake of the Zalo OA OpenAPI and OAuth server, for tests (127.0.0.1 only, never the internet).

It records every request and behaves like Zalo where the channel depends on it:
- `POST /v3.0/oa/message/cs` takes the `access_token` header; an unknown or expired token gets
  HTTP 200 with `{"error": -216}` (Zalo's "access token invalid"); a user marked outside the 48-hour
  window gets `{"error": -213}`; text over 2,000 characters gets `{"error": -201}`.
- `POST /v4/oa/access_token` (form, header `secret_key`) swaps the current refresh token for a new
  pair; the old refresh token is dead after one use (`{"error": -14020}`), like Zalo's.
It also builds signed webhook events (`event()`), as Zalo signs them.

    fake = await FakeZaloAPI().start()
    fake.expire_access_token()          # the next send gets -216, the channel must refresh
    fake.texts_to(USER)                 # what the bot sent a user
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "4242424242424242424"
APP_SECRET = "app-secret-for-the-fake"
OA_SECRET_KEY = "oa-secret-key-for-the-fake"
OA_ID = "1234567890123456789"
FIRST_ACCESS = "access-0"
FIRST_REFRESH = "refresh-0"
USER = "5510185758261927916"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any
    answer: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


def signature(app_id: str, raw: bytes, timestamp: str, key: str = OA_SECRET_KEY) -> str:
    return "mac=" + hashlib.sha256(app_id.encode() + raw + timestamp.encode() + key.encode()).hexdigest()


_msg_ids = itertools.count(1)


def event(
    name: str,
    user: str = USER,
    text: str | None = None,
    *,
    app_id: str = APP_ID,
    timestamp_ms: int | None = None,
    msg_id: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A webhook event as Zalo posts it (user_send_*, follow, unfollow)."""
    body: dict[str, Any] = {
        "app_id": app_id,
        "oa_id": OA_ID,
        "user_id_by_app": "3611371994410983884",
        "event_name": name,
        "timestamp": str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)),
    }
    if name in ("follow", "unfollow"):
        body["follower"] = {"id": user}
        body["source"] = "oa_profile"
        return body
    body["sender"] = {"id": user}
    body["recipient"] = {"id": OA_ID}
    message: dict[str, Any] = {"msg_id": msg_id or f"mid{next(_msg_ids):06d}{time.time_ns() % 10**9}"}
    if text is not None:
        message["text"] = text
    if attachments is not None:
        message["attachments"] = attachments
    body["message"] = message
    return body


def signed(body: dict[str, Any], key: str = OA_SECRET_KEY) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers Zalo would post for `body`."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw, {
        "Content-Type": "application/json",
        "X-ZEvent-Signature": signature(str(body.get("app_id")), raw, str(body.get("timestamp")), key),
    }


class FakeZaloAPI:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.access_tokens = {FIRST_ACCESS}
        self.refresh_token = FIRST_REFRESH
        self.outside_window: set[str] = set()
        self.refresh_broken = False
        self._pairs = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------------
    def app(self, extra: tuple[tuple[str, str, Any], ...] = ()) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v4/oa/access_token", self._token)
        for method, path, handler in extra:
            app.router.add_route(method, path, handler)
        app.router.add_route("*", "/{tail:.*}", self._other)
        return app

    async def start(self, port: int = 0) -> FakeZaloAPI:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a test restarts it on its port
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- scripting -------------------------------------------------------------------------------
    def expire_access_token(self) -> None:
        """Every access token issued so far stops working (Zalo's tokens live about a day)."""
        self.access_tokens.clear()

    # --- inspection ------------------------------------------------------------------------------
    def sends(self, user: str | None = None, ok_only: bool = True) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.path == "/v3.0/oa/message/cs"
            and (user is None or r.body["recipient"]["user_id"] == user)
            and (not ok_only or r.answer.get("error") == 0)
        ]

    def texts_to(self, user: str | None = None) -> list[str]:
        return [r.body["message"].get("text", "") for r in self.sends(user)]

    def refreshes(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/v4/oa/access_token"]

    async def wait_for_texts(self, user: str, count: int = 1, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.texts_to(user)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.texts_to(user))} message(s) to the user, expected {count}")
            await asyncio.sleep(0.02)
        return self.texts_to(user)

    # --- HTTP ------------------------------------------------------------------------------------
    async def _other(self, request: web.Request) -> web.Response:
        self.requests.append(Request(request.path, dict(request.headers), None, {"error": 404}))
        return web.json_response({"error": 404, "message": "not found"}, status=404)

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = request.headers.get("access_token", "")
        user = str((body.get("recipient") or {}).get("user_id") or "")
        text = (body.get("message") or {}).get("text") or ""
        if token not in self.access_tokens:
            answer = {"error": -216, "message": "Access token is invalid"}
        elif user in self.outside_window:
            answer = {"error": -213, "message": "User has not interacted with the OA in the past 48 hours"}
        elif len(text) > 2000:
            answer = {"error": -201, "message": "Parameter is invalid: text is too long"}
        else:
            answer = {
                "error": 0,
                "message": "Success",
                "data": {"message_id": f"out{next(self._message_ids)}", "user_id": user},
            }
        self.requests.append(Request(request.path, dict(request.headers), body, answer))
        return web.json_response(answer)

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        ok = (
            not self.refresh_broken
            and request.headers.get("secret_key") == APP_SECRET
            and form.get("app_id") == APP_ID
            and form.get("grant_type") == "refresh_token"
            and form.get("refresh_token") == self.refresh_token
        )
        if ok:
            n = next(self._pairs)
            access, self.refresh_token = f"access-{n}", f"refresh-{n}"
            self.access_tokens = {access}
            answer: dict[str, Any] = {
                "access_token": access,
                "refresh_token": self.refresh_token,
                "expires_in": "90000",
            }
        else:
            answer = {
                "error": -14020,
                "error_name": "Invalid refresh token",
                "error_description": "Invalid refresh token",
            }
        self.requests.append(Request(request.path, dict(request.headers), form, answer))
        return web.json_response(answer)


# --- standalone, for trying the bot by hand (docs/zalo.md) --------------------------------------
#   PYTHONPATH=. python -m tests.support.fake_zalo_api --port 8082 --bot http://127.0.0.1:5005
#   curl -s localhost:8082/_fake/say -d '{"text": "e muon chet"}'          # a signed user_send_text
#   curl -s localhost:8082/_fake/say -d '{"text": "chao", "bad_signature": true}'
#   curl -s localhost:8082/_fake/sent                                        # what the bot sent
async def _serve_forever(port: int, bot: str) -> None:
    import httpx

    api = FakeZaloAPI()

    async def say(request: web.Request) -> web.Response:
        body = await request.json()
        name = str(body.get("event") or "user_send_text")
        ev = event(name, str(body.get("user") or USER), body.get("text"))
        raw, headers = signed(ev, "wrong-key" if body.get("bad_signature") else OA_SECRET_KEY)
        async with httpx.AsyncClient(timeout=30) as client:
            reply = await client.post(f"{bot}/webhooks/zalo/webhook", content=raw, headers=headers)
        return web.json_response({"webhook_status": reply.status_code, "webhook_answer": reply.json()})

    async def sent(_: web.Request) -> web.Response:
        calls = [{"path": r.path, "body": r.body, "answer": r.answer} for r in api.requests]
        return web.json_response(calls, dumps=lambda data: json.dumps(data, ensure_ascii=False, indent=1))

    app = api.app((("POST", "/_fake/say", say), ("GET", "/_fake/sent", sent)))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(
        f"Fake Zalo API on http://127.0.0.1:{port}: ZALO_APP_ID={APP_ID} ZALO_APP_SECRET={APP_SECRET} "
        f"ZALO_OA_SECRET_KEY={OA_SECRET_KEY} ZALO_ACCESS_TOKEN={FIRST_ACCESS} ZALO_REFRESH_TOKEN={FIRST_REFRESH}",
        flush=True,
    )
    await asyncio.Event().wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fake Zalo OA API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--bot", default="http://127.0.0.1:5005", help="the bot's Rasa server")
    args = parser.parse_args()
    asyncio.run(_serve_forever(args.port, args.bot))
