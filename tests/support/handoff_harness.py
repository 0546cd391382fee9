"""A Sanic app with the Telegram and counsellor channels mounted like `rasa run` mounts them.

The agent is a small stand-in (in-memory tracker and lock stores, a keyword "NLU"), so these
tests need no trained model; the Bot API is `tests/support/fake_bot_api.py`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic

from bot.channels.counsellor import CounsellorInput
from bot.channels.telegram import TelegramInput
from bot.telegram.settings import SECRET_HEADER, WEBHOOK_PATH, TelegramSettings
from tests.support import fake_bot_api as tg
from tests.support.servers import serving

SECRET = "test-secret_123"
GROUP = -100500  # the counsellors' group
COUNSELLOR = 900
STRANGER = 77
CHILD = 4242
API_TOKEN = "counsellor-token-xyz"


DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))


class StubProcessor:
    """`execute_action` for responses: the reply from domain.yml, in the tracker and out."""

    def __init__(self, agent: StubAgent) -> None:
        self.agent = agent

    async def execute_action(self, sender_id: str, name: str, output: Any, nlg: Any, prediction: Any) -> None:
        tracker = await self.agent.tracker_store.get_or_create_tracker(sender_id)
        tracker.update(ActionExecuted(name))
        if name.startswith("utter_"):
            response = DOMAIN.responses[name][0]
            tracker.update(BotUttered(response["text"], {"buttons": response.get("buttons")}))
            if response.get("buttons"):
                await output.send_text_with_buttons(sender_id, response["text"], response["buttons"])
            else:
                await output.send_text_message(sender_id, response["text"])
        await self.agent.tracker_store.save(tracker)


class StubAgent:
    """What the channels use of Rasa's Agent: stores, a lock, `parse_message`, `is_ready` and
    a processor that runs responses."""

    def __init__(self) -> None:
        self.lock_store = InMemoryLockStore()
        self.tracker_store = InMemoryTrackerStore(DOMAIN)
        self.domain = DOMAIN
        self.nlg = None
        self.processor = StubProcessor(self)

    def is_ready(self) -> bool:
        return True

    async def parse_message(self, text: str) -> dict[str, Any]:
        intent = "disclose_self_harm" if ("chết" in text or "chet" in text) else "express_distress"
        return {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}

    async def events(self, sender_id: str) -> list[Any]:
        tracker = await self.tracker_store.retrieve(sender_id)
        return list(tracker.events) if tracker else []


@dataclass
class Served:
    url: str
    client: httpx.AsyncClient
    agent: StubAgent
    telegram: TelegramInput
    counsellor: CounsellorInput
    app: Any

    async def telegram_update(self, update: dict[str, Any]) -> httpx.Response:
        return await self.client.post(self.url + WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET})

    def api_headers(self, token: str = API_TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


async def serve(
    telegram: TelegramInput, counsellor: CounsellorInput, on_new_message: Any
) -> AsyncIterator[Served]:
    Sanic.test_mode = True
    app = Sanic(f"handoff_test_{uuid.uuid4().hex[:8]}")
    app.config.MOTD = False
    app.blueprint(telegram.blueprint(on_new_message), url_prefix="/webhooks/telegram")
    app.blueprint(counsellor.blueprint(on_new_message), url_prefix="/webhooks/counsellor")
    agent = StubAgent()
    app.ctx.agent = agent
    app.ctx.input_channels = [telegram, counsellor]
    async with serving(app) as url, httpx.AsyncClient(timeout=30) as client:
        yield Served(url, client, agent, telegram, counsellor, app)


# --- updates of the counsellors' group -----------------------------------------------------
def _group_chat() -> dict[str, Any]:
    return {"id": GROUP, "type": "supergroup", "title": "Tư vấn viên"}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"}


def button(update_id: int, user_id: int, data: str, message_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": _user(user_id),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": _group_chat(),
                "from": {"id": tg.BOT_ID, "is_bot": True, "first_name": "An toàn"},
                "text": "[Ca]",
            },
        },
    }


def group_message(update_id: int, user_id: int, text: str, reply_to: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 5000 + update_id,
        "date": int(time.time()),
        "chat": _group_chat(),
        "from": _user(user_id),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if reply_to is not None:
        message["reply_to_message"] = {
            "message_id": reply_to,
            "date": int(time.time()),
            "chat": _group_chat(),
            "from": {"id": tg.BOT_ID, "is_bot": True, "first_name": "An toàn"},
            "text": "[Ca]",
        }
    return {"update_id": update_id, "message": message}


# --- what the handoff tests share: a recording Rasa, trackers, actions, sent messages ---------
class RecordingRasa:
    """Stands in for Rasa's `on_new_message`: records and answers with the 111 line."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, message: Any) -> None:
        self.texts.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "Mình lo cho bạn. Gọi 111.")


def child_tracker(sender: str, channel: str, texts_: list[str], level: str | None = None) -> Tracker:
    events = [{"event": "user", "text": t, "input_channel": channel, "parse_data": {}} for t in texts_]
    slots = {"risk_level": level, "risk_category": "disclose_self_harm" if level == "imminent" else None}
    return Tracker(sender, slots, {}, events, False, None, {}, "action_listen")


async def run_action(action: Any, tracker: Tracker) -> list[str]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tracker, {})
    return [m.get("text") or "" for m in dispatcher.messages]


def markup_data(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]


def alerts(api: Any) -> list[dict[str, Any]]:
    return [p for p in api.sent_messages(GROUP) if "[Ca #" in p["text"] and markup_data(p)]


async def wait_for_text(api: Any, chat_id: int, needle: str, timeout: float = 5.0) -> dict[str, Any]:
    for _ in range(int(timeout / 0.02)):
        for params in api.sent_messages(chat_id):
            if needle in params["text"]:
                return params
        await asyncio.sleep(0.02)
    raise AssertionError(f"no message with {needle!r} to {chat_id}: {api.sent_texts(chat_id)}")


def channels(fake_api: Any, tmp_path: Path) -> tuple[TelegramInput, CounsellorInput]:
    settings = TelegramSettings(
        token=fake_api.token,
        api_url=fake_api.api_url,
        webhook_secret=SECRET,
        state_db=tmp_path / "telegram.sqlite3",
    )
    return TelegramInput(settings), CounsellorInput()
