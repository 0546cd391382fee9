"""action_validate_slot_mappings keeps risk_level at the highest level seen."""
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import ValidateSlotMappings

DOMAIN = {"slots": {"risk_level": {"type": "text", "mappings": [{"type": "from_intent"}]},
                    "risk_category": {"type": "text", "mappings": [{"type": "from_intent"}]}}}


def user(intent):
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent, "confidence": 1.0}}}


def level(value):
    return {"event": "slot", "name": "risk_level", "value": value}


def tracker(events):
    slots = {"risk_level": None, "risk_category": None}
    for e in events:
        if e["event"] == "slot":
            slots[e["name"]] = e["value"]
    return Tracker("child-1", slots, events[-2].get("parse_data", {}) if len(events) > 1 else {},
                   events, False, None, {}, "action_listen")


async def run(events):
    return await ValidateSlotMappings().run(CollectingDispatcher(), tracker(events), DOMAIN)


async def test_a_milder_message_does_not_lower_the_level():
    events = [user("disclose_self_harm"), level("imminent"), user("disclose_scam"), level("medium")]
    assert await run(events) == [SlotSet("risk_level", "imminent")]


async def test_a_stronger_message_raises_the_level():
    events = [user("express_distress"), level("low"), user("disclose_grooming"), level("high")]
    assert await run(events) == [SlotSet("risk_level", "high")]


async def test_first_disclosure_sets_its_level():
    assert await run([user("disclose_cyberbullying"), level("medium")]) == [SlotSet("risk_level", "medium")]


async def test_category_is_the_latest_disclosure():
    events = [user("disclose_self_harm"), level("imminent"), user("disclose_scam"),
              {"event": "slot", "name": "risk_category", "value": "disclose_scam"}]
    assert await run(events) == [SlotSet("risk_category", "disclose_scam")]
