"""The Zalo, Telegram and counsellor channels mounted like `rasa run` mounts them, with no trained model.

The agent is the handoff tests' stand-in (`tests/support/handoff_harness.py`: in-memory tracker and lock
stores, a keyword "NLU", responses from domain.yml); Zalo is `tests/support/fake_zalo_api.py` and
Telegram `tests/support/fake_bot_api.py`, both on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Sanic

from bot.channels.counsellor import CounsellorInput
from bot.channels.telegram import TelegramInput
from bot.channels.zalo import ZaloInput
from bot.channels.zalo_settings import WEBHOOK_PATH, ZaloSettings
from tests.support import fake_zalo_api as fz
from tests.support import handoff_harness as handoff
from tests.support.servers import serving

USER = fz.USER
SENDER = f"zalo:{USER}"


def zalo_settings(api: fz.FakeZaloAPI, **overrides: Any) -> ZaloSettings:
    values: dict[str, Any] = {
        "app_id": fz.APP_ID,
        "app_secret": fz.APP_SECRET,
        "oa_secret_key": fz.OA_SECRET_KEY,
        "access_token": fz.FIRST_ACCESS,
        "refresh_token": fz.FIRST_REFRESH,
        "api_url": api.url,
        "oauth_url": api.url,
    }
    values.update(overrides)
    return ZaloSettings(**values)


class StandInRasa:
    """Rasa's `on_new_message` for our bot, roughly: a disclosure gets the 111 reply, `/greet` the menu."""

    GREETING = "Chào bạn! Mình giúp bạn dùng mạng an toàn. Cần giúp ngay: gọi 111."
    MENU = [
        {"title": "Mẹo an toàn trên mạng", "payload": "/ask_tip"},
        {"title": "Mình đang gặp chuyện", "payload": "/express_distress"},
        {"title": "Nói chuyện với tư vấn viên", "payload": "/request_counsellor"},
    ]
    SELF_HARM = "Mình rất lo cho bạn. Gọi ngay 111 (miễn phí, 24/7) hoặc 115 (cấp cứu)."

    def __init__(self, agent: Any = None) -> None:
        self.agent = agent
        self.messages: list[UserMessage] = []
        self.fail = False

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages]

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.fail:
            raise RuntimeError("the model crashed")
        out, sender = message.output_channel, message.sender_id
        if (message.text or "").startswith("cham"):  # a slow turn
            await asyncio.sleep(0.3)
        if self.agent is not None:  # the conversation, like Rasa keeps it (the window and menus read it)
            tracker = await self.agent.tracker_store.get_or_create_tracker(sender)
            tracker.update(UserUttered(message.text, input_channel=message.input_channel))
            if message.text == "/greet":
                tracker.update(BotUttered(self.GREETING, {"buttons": self.MENU}))
            await self.agent.tracker_store.save(tracker)
        if message.text == "/greet":
            await out.send_text_with_buttons(sender, self.GREETING, self.MENU)
        elif "chet" in (message.text or "") or "chết" in (message.text or ""):
            await out.send_text_message(sender, self.SELF_HARM)
        else:
            await out.send_text_message(sender, f"Mình nghe rồi. Cần giúp ngay: gọi 111. ({message.text})")


@dataclass
class Served:
    url: str
    client: httpx.AsyncClient
    agent: Any
    zalo: ZaloInput
    telegram: TelegramInput | None
    counsellor: CounsellorInput | None
    app: Any

    async def post_event(
        self, event: dict[str, Any], key: str = fz.OA_SECRET_KEY, headers: dict | None = None
    ) -> httpx.Response:
        raw, signed_headers = fz.signed(event, key)
        return await self.client.post(self.url + WEBHOOK_PATH, content=raw, headers=headers or signed_headers)

    async def settle(self) -> None:
        """Wait for the events being handled in the background."""
        while self.zalo._tasks:  # noqa: SLF001 - the test waits for the channel's own tasks
            await asyncio.gather(*list(self.zalo._tasks), return_exceptions=True)  # noqa: SLF001


async def serve(
    zalo: ZaloInput,
    on_new_message: Any,
    telegram: TelegramInput | None = None,
    counsellor: CounsellorInput | None = None,
    agent: Any = None,
) -> AsyncIterator[Served]:
    Sanic.test_mode = True
    app = Sanic(f"zalo_test_{uuid.uuid4().hex[:8]}")
    app.config.MOTD = False
    app.blueprint(zalo.blueprint(on_new_message), url_prefix="/webhooks/zalo")
    channels: list[Any] = [zalo]
    if telegram is not None:
        app.blueprint(telegram.blueprint(on_new_message), url_prefix="/webhooks/telegram")
        channels.append(telegram)
    if counsellor is not None:
        app.blueprint(counsellor.blueprint(on_new_message), url_prefix="/webhooks/counsellor")
        channels.append(counsellor)
    agent = agent or handoff.StubAgent()
    app.ctx.agent = agent
    app.ctx.input_channels = channels
    async with serving(app) as url, httpx.AsyncClient(timeout=30) as client:
        yield Served(url, client, agent, zalo, telegram, counsellor, app)
