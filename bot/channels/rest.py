"""Rasa's REST channel (`POST /webhooks/rest/webhook`), with the front door (`front_door.py`) in front.

Same name, routes and replies as Rasa's `rest`; empty, huge and flooding messages get a kind answer,
and while a counsellor has the child's case, the child's messages go to the counsellor (the reply
list is then empty).
In `credentials.yml`: `bot.channels.rest.RestInput:` instead of `rest:`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint

from bot.channels.front_door import FrontDoor


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        door = FrontDoor()
        blueprint = super().blueprint(door.wrap(on_new_message))
        door.attach(blueprint)
        return blueprint
