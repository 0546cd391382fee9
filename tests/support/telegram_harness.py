"""Test harness for the Telegram channel: a stand-in for Rasa and a real Sanic server.

Nothing here reaches the internet: python-telegram-bot talks to `FakeBotAPI` on 127.0.0.1.
"""

from __future__ import annotations

import copy
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import yaml
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.telegram import TelegramInput
from bot.telegram.settings import SECRET_HEADER, WEBHOOK_PATH, TelegramSettings
from tests.support import fake_bot_api as tg
from tests.support.servers import serving

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret_123"
CHAT = 4242  # a private chat (the child's user id)
GROUP = -100777  # a group chat
LONG_REPLY_TRIGGER = "tra loi that dai"
CRASH_TRIGGER = "lam rasa hong"

_STAND_INS: dict[str, dict[str, Any]] = {
    "utter_greet": {
        "text": "Chào bạn! Mình giúp bạn dùng mạng an toàn.\nMình giữ ít thông tin nhất. Cần giúp ngay: gọi 111.",
        "buttons": [
            {"title": "Mẹo an toàn trên mạng", "payload": "/ask_tip"},
            {"title": "Mình đang gặp chuyện", "payload": "/express_distress"},
        ],
    },
    "utter_self_harm": {"text": "Mình rất lo cho bạn. Gọi 111 (miễn phí, 24/7) hoặc 115 ngay."},
    "utter_help": {"text": "Mình có thể chỉ mẹo an toàn và kết nối bạn với 111."},
    "utter_ask_hotline": {"text": "111: Tổng đài quốc gia bảo vệ trẻ em, miễn phí, 24/7."},
    "utter_delete_data": {"text": "Mình đã xóa dữ liệu của bạn. Cần giúp, gọi 111."},
    "utter_ask_tip": {"text": "Không cho người lạ biết địa chỉ của bạn."},
    "utter_default": {"text": "Mình chưa hiểu. Nếu bạn gặp chuyện, gọi 111."},
}


def domain_responses() -> dict[str, dict[str, Any]]:
    """First variation of each response in the real domain.yml, stand-ins where missing."""
    responses = dict(_STAND_INS)
    domain = ROOT / "domain.yml"
    if domain.exists():
        loaded = (yaml.safe_load(domain.read_text(encoding="utf-8")) or {}).get("responses") or {}
        for name, variations in loaded.items():
            if variations and isinstance(variations[0], dict) and variations[0].get("text"):
                responses[name] = variations[0]
    return responses


def long_reply(length: int = 6000) -> str:
    """About `length` characters of whole sentences."""
    sentences: list[str] = []
    while sum(len(s) + 1 for s in sentences) < length:
        sentences.append(
            f"Đây là câu số {len(sentences)} trong một câu trả lời rất dài của mình, để thử chia tin."
        )
    return " ".join(sentences)


class FakeRasa:
    """Behaves like Rasa's `on_new_message` for our bot: picks a domain response and sends it."""

    INTENT_RESPONSES: ClassVar[dict[str, str]] = {
        "/greet": "utter_greet",
        "/help": "utter_help",
        "/ask_hotline": "utter_ask_hotline",
        "/delete_data": "utter_delete_data",
        "/ask_tip": "utter_ask_tip",
        "/request_counsellor": "utter_request_counsellor",
        "/express_distress": "utter_distress",
    }

    def __init__(self) -> None:
        self.responses = domain_responses()
        self.messages: list[UserMessage] = []

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.messages]

    def pick(self, text: str) -> dict[str, Any]:
        lowered = text.lower()
        name = self.INTENT_RESPONSES.get(lowered)
        if name is None and ("chet" in lowered or "chết" in lowered):
            name = "utter_self_harm"
        return copy.deepcopy(self.responses.get(name or "utter_default") or self.responses["utter_default"])

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if message.text == CRASH_TRIGGER:
            raise RuntimeError("the model crashed")
        if message.text == LONG_REPLY_TRIGGER:
            reply: dict[str, Any] = {"text": long_reply()}
        else:
            reply = self.pick(message.text or "")
        await message.output_channel.send_response(message.sender_id, reply)


def make_settings(api: tg.FakeBotAPI, state_db: Path, **overrides: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "token": api.token,
        "api_url": api.api_url,
        "webhook_secret": SECRET,
        "webhook_url": None,
        "state_db": state_db,
        "rasa_url": "http://127.0.0.1:9",
    }
    values.update(overrides)
    return TelegramSettings(**values)


@dataclass
class ChannelServer:
    """The channel's blueprint served by a real Sanic server, mounted where Rasa mounts it."""

    channel: TelegramInput
    url: str
    client: httpx.AsyncClient

    @property
    def webhook(self) -> str:
        return self.url + WEBHOOK_PATH

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.client.post(self.webhook, json=update, headers=headers)


async def serve_channel(
    channel: TelegramInput, on_new_message: Any, sock: socket.socket | None = None
) -> AsyncIterator[ChannelServer]:
    Sanic.test_mode = True  # several apps in one process (Sanic's TouchUp otherwise breaks the second)
    app = Sanic(f"tg_test_{uuid.uuid4().hex[:8]}")
    app.config.MOTD = False
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/telegram")
    async with serving(app, sock) as url, httpx.AsyncClient(timeout=30) as client:
        yield ChannelServer(channel, url, client)
