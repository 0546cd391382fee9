"""Keeps the observable risk contract: `risk_level` is the highest level seen so far.

The slot mappings in domain.yml already set the level of the current message
(and still do when this server is down); this validation only stops a later,
milder message from lowering it.
"""
from typing import Any, Dict, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from bot.risk import max_level


class ValidateSlotMappings(ValidationAction):
    """Runs as `action_validate_slot_mappings` after Rasa extracts slots."""

    def validate_risk_level(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        level = "none"
        for event in tracker.events:
            if event.get("event") == "slot" and event.get("name") == "risk_level" and event.get("value"):
                level = max_level(level, event["value"])
        return {"risk_level": max_level(level, slot_value or "none")}

    def validate_risk_category(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # The latest disclosure wins (SPEC.md); declared so the SDK does not warn on every turn.
        return {"risk_category": slot_value}
