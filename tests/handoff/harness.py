"""A Sanic app with the Telegram and counsellor channels mounted like `rasa run` mounts them.

The agent is a small stand-in (in-memory tracker and lock stores, a keyword "NLU"), so these
tests need no trained model; the Bot API is `tests/channels/fake_bot_api.py`.
"""
from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered
from sanic import Sanic

from bot.channels.counsellor import CounsellorInput
from bot.channels.telegram import TelegramInput
from bot.telegram.settings import SECRET_HEADER, WEBHOOK_PATH

try:
    from tests.channels import fake_bot_api as tg
except ImportError:  # pragma: no cover
    import fake_bot_api as tg  # type: ignore[no-redef]

SECRET = "test-secret_123"
GROUP = -100500  # the counsellors' group
COUNSELLOR = 900
STRANGER = 77
CHILD = 4242
API_TOKEN = "counsellor-token-xyz"


DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))


class StubProcessor:
    """`execute_action` for responses: the reply from domain.yml, in the tracker and out."""

    def __init__(self, agent: "StubAgent") -> None:
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


async def serve(telegram: TelegramInput, counsellor: CounsellorInput, on_new_message: Any) -> AsyncIterator[Served]:
    Sanic.test_mode = True
    app = Sanic(f"handoff_test_{uuid.uuid4().hex[:8]}")
    app.config.MOTD = False
    app.blueprint(telegram.blueprint(on_new_message), url_prefix="/webhooks/telegram")
    app.blueprint(counsellor.blueprint(on_new_message), url_prefix="/webhooks/counsellor")
    agent = StubAgent()
    app.ctx.agent = agent
    app.ctx.input_channels = [telegram, counsellor]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    async with httpx.AsyncClient(timeout=30) as client:
        yield Served(f"http://127.0.0.1:{port}", client, agent, telegram, counsellor, app)
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


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
