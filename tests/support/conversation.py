"""A conversation with the teaching actions (actions/content.py) and real rasa_sdk trackers, no Rasa."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import content as actions

ACTIONS = {
    "ask_tip": actions.ActionTip(),
    "parent_guide": actions.ActionParentGuide(),
    "tell_age": actions.ActionSetAge(),
    "change_age": actions.ActionChangeAge(),
    "tell_role": actions.ActionSetRole(),
    "start_quiz": actions.ActionQuizStart(),
    "quiz_answer": actions.ActionQuizAnswer(),
}


class Conversation:
    """Slots carried from turn to turn as Rasa would, from the SlotSet events the actions return."""

    def __init__(self) -> None:
        self.slots: dict[str, Any] = {}
        self.events: list[dict] = []

    async def say(self, intent: str, text: str | None = None, **entities: str) -> list[dict]:
        """A message (typed `text`) or a button (`/intent{...}`, when text is None)."""
        if text is None:
            text = f"/{intent}" + (json.dumps(entities) if entities else "")
        ents = [{"entity": k, "value": v} for k, v in entities.items()]
        latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": ents}
        self.events.append({"event": "user", "text": text, "parse_data": latest})
        tracker = Tracker("c1", dict(self.slots), latest, list(self.events), False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        for event in await ACTIONS[intent].run(dispatcher, tracker, {}):
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        return dispatcher.messages
