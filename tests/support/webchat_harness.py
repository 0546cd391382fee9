"""Helpers for the web chat tests: an in-process channel server, another web site, the counsellor
API and the Chromium settings (the real bot is the project's `start_bot`; the proxy is tests/support/proxy.py)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels.webchat import WebChatInput
from tests.support.proxy import CuttableProxy  # noqa: F401 - the browser tests use h.CuttableProxy
from tests.support.servers import free_port, http_json

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SOCKET_IO_CLIENT = ROOT / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
COUNSELLOR_TOKEN = "webchat-test-counsellor-token"


# --- an in-process channel with a scripted bot ----------------------------------------------------


@dataclass
class FakeAgent:
    """Stands in for Rasa's agent: records messages and answers from a script."""

    received: list[UserMessage] = field(default_factory=list)
    delay: float = 0.0

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        out = message.output_channel
        text = message.text or ""
        if text == "/buttons":
            await out.send_text_with_buttons(
                message.sender_id,
                "Chọn một:",
                [{"title": "Có", "payload": "/affirm"}, {"title": "Không", "payload": "/deny"}],
            )
        elif text == "/html":
            await out.send_text_message(
                message.sender_id, '<img src=x onerror="window.__xss=1;alert(1)"><b>đậm</b>'
            )
        else:
            await out.send_text_message(message.sender_id, f"nhận: {text}")


@dataclass
class ChannelServer:
    url: str
    channel: WebChatInput
    agent: FakeAgent

    @property
    def page(self) -> str:
        return f"{self.url}/webhooks/webchat/"


async def serve_channel(channel: WebChatInput, agent: FakeAgent) -> AsyncIterator[ChannelServer]:
    """Serve `channel` the way Rasa does (same `register`), on a free port of this event loop."""
    Sanic.test_mode = True  # several apps in one process (Sanic's TouchUp otherwise breaks the second)
    app = Sanic(f"webchat_test_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = agent
    register([channel], app, "/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    try:
        yield ChannelServer(f"http://127.0.0.1:{port}", channel, agent)
    finally:
        server.close()
        await server.wait_closed()


# --- another web site, for the one-tag embed ------------------------------------------------------


class StaticSite:
    """A tiny web site on localhost: another origin than the bot's 127.0.0.1 but, like it, loopback
    (Chromium blocks a public page from loading scripts from a loopback address)."""

    def __init__(self, pages: dict) -> None:
        self.pages = pages
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self._runner: web.AppRunner | None = None

    async def _serve(self, request: web.Request) -> web.Response:
        if request.path not in self.pages:
            return web.Response(status=404, text="not found")
        return web.Response(text=self.pages[request.path], content_type="text/html", charset="utf-8")

    async def start(self) -> StaticSite:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


def chromium_missing_reason() -> str | None:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        return f"{CHROMIUM} is absent: browser tests need Debian's chromium (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    return None


def tracker(url: str, conversation_id: str) -> dict[str, Any]:
    return http_json(f"{url}/conversations/{conversation_id}/tracker")


def counsellor_api(url: str, path: str, payload: Any = None) -> Any:
    """Call the counsellor API (bot/channels/counsellor.py) with the test token."""
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(
        f"{url}/webhooks/counsellor{path}",
        data=data,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {COUNSELLOR_TOKEN}"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read().decode() or "null")
