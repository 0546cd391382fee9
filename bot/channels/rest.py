"""Rasa's REST channel (`POST /webhooks/rest/webhook`), with the front door (`front_door.py`) in front.

Same name, routes and replies as Rasa's `rest`. What it adds:
- empty, huge and flooding messages get a kind answer, and while a counsellor has the child's case the
  child's messages go to the counsellor (the reply list is then empty);
- a body that is not a JSON object gets 400 with a JSON error (Rasa's answers 500); a `message` that is
  not a string is treated as empty (Rasa's answers nothing);
- the input channel is always `rest` (a client cannot pass as Telegram), and a client cannot write into a
  Telegram or Zalo child's conversation (`tg:` and `zalo:` sender ids are refused);
- the message metadata is only `source`, the keyed hash of the client address (handoff intake limits).
In `credentials.yml`: `bot.channels.rest.RestInput:` instead of `rest:`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.front_door import FrontDoor
from bot.handoff.service import source_of

NOT_AN_OBJECT = {"error": 'the body must be a JSON object: {"sender": "...", "message": "..."}'}
TELEGRAM_SENDER = {"error": "sender ids starting with tg: or zalo: belong to the Telegram and Zalo channels"}


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = req.json.get("message")
        return message if isinstance(message, str) else ""

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        """Only the hashed client address (sender ids are free over REST: the case intake limits count
        per address too); whatever metadata the client sends is ignored."""
        return {"source": source_of(request.remote_addr or request.ip)}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        door = FrontDoor()
        blueprint = super().blueprint(door.wrap(on_new_message))
        door.attach(blueprint)

        @blueprint.middleware("request")
        async def well_formed(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - Sanic's own 400 for unreadable JSON
                return None
            if not isinstance(body, dict):
                return response.json(NOT_AN_OBJECT, status=400)
            if str(body.get("sender") or "").startswith(("tg:", "zalo:")):
                return response.json(TELEGRAM_SENDER, status=400)
            return None

        return blueprint
