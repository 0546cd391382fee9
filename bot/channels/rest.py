"""Rasa's REST channel (`POST /webhooks/rest/webhook`), with the front door (`front_door.py`) in front.

Same name, routes and replies as Rasa's `rest`. What it adds:
- empty, huge and flooding messages get a kind answer, and while a counsellor has the child's case the
  child's messages go to the counsellor (the reply list is then empty);
- a body that is not a JSON object gets 400 with a JSON error (Rasa's answers 500); a `message` that is
  not a string is treated as empty (Rasa's answers nothing);
- the input channel is always `rest` (a client cannot pass as Telegram), and a client cannot write into a
  Telegram or Zalo child's conversation or reopen an anonymised case (`tg:`, `zalo:` and `deleted:` sender ids
  are refused);
- the message metadata is only `source`, the keyed hash of the client address (handoff intake limits);
- `GET /webhooks/rest/messages?sender=<id>&since=<timestamp>`: what was pushed to this REST conversation
  outside an HTTP answer (a counsellor's messages, handoff notices, the close notice and its feedback
  question), as `{"messages": [{"text", "buttons", "timestamp"}], "next": <timestamp>}`; poll with
  `since=next`. Only that conversation, only when its latest channel is REST, only the bot's side (the
  child's words and slots are never shown): REST clients never need Rasa's admin API, which needs a token.
In `credentials.yml`: `bot.channels.rest.RestInput:` instead of `rest:`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.counsellor import CLOSE_ACTIONS
from bot.channels.front_door import FrontDoor
from bot.handoff import access
from bot.handoff.service import source_of

NOT_AN_OBJECT = {"error": 'the body must be a JSON object: {"sender": "...", "message": "..."}'}
RESERVED_SENDER = {
    "error": "sender ids starting with tg:, zalo: or deleted: are reserved (Telegram and Zalo chats, anonymised cases)"
}
BAD_SINCE = {"error": "since must be a number (the `next` of the previous answer)"}


def pushed(event: Any) -> bool:
    """A bot message sent outside an HTTP answer: handoff messages (bot/channels/counsellor.py mark them)
    and the responses a counsellor's close runs in the conversation."""
    metadata = event.metadata or {}
    return bool(metadata.get("handoff")) or metadata.get("utter_action") in CLOSE_ACTIONS


def pushed_messages(tracker: Any, since: float) -> dict:
    """The pushed bot messages of a REST conversation after `since` (nothing for other channels)."""
    if tracker is None or tracker.get_latest_input_channel() != RestInput.name():
        return {"messages": [], "next": since}
    messages = [
        {"text": e.text, "buttons": (e.data or {}).get("buttons") or [], "timestamp": e.timestamp}
        for e in tracker.events
        if isinstance(e, BotUttered) and e.timestamp > since and pushed(e)
    ]
    return {"messages": messages, "next": messages[-1]["timestamp"] if messages else since}


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_message(self, req: Request) -> str | None:
        message = req.json.get("message")
        return message if isinstance(message, str) else ""

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """Only the hashed client address (sender ids are free over REST: the case intake limits count
        per address too); whatever metadata the client sends is ignored."""
        return {"source": source_of(request.remote_addr or request.ip)}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        door = FrontDoor()
        blueprint = super().blueprint(door.wrap(on_new_message))
        door.attach(blueprint)

        @blueprint.middleware("request")
        async def well_formed(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - Sanic's own 400 for unreadable JSON
                return None
            if not isinstance(body, dict):
                return response.json(NOT_AN_OBJECT, status=400)
            if access.reserved_sender(str(body.get("sender") or "")):
                return response.json(RESERVED_SENDER, status=400)
            return None

        @blueprint.route("/messages", methods=["GET"])
        async def messages(request: Request) -> HTTPResponse:
            sender = request.args.get("sender") or ""
            try:
                since = float(request.args.get("since") or 0)
            except ValueError:
                return response.json(BAD_SINCE, status=400)
            if not sender or access.reserved_sender(sender):
                return response.json(pushed_messages(None, since))
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
            return response.json(pushed_messages(tracker, since))

        return blueprint
