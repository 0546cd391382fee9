"""risk_level keeps the highest level seen (bot/slots.py), on a real tracker with the project's domain."""

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import AllSlotsReset, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.slots import RiskLevelSlot

DOMAIN = Domain.load(Path(__file__).parents[2] / "domain.yml")


def tracker(*levels):
    t = DialogueStateTracker("child-1", DOMAIN.slots)
    for level in levels:
        t.update(UserUttered("...", {"name": "x", "confidence": 1.0}))
        t.update(SlotSet("risk_level", level))
    return t


def test_the_domain_uses_the_max_slot():
    assert isinstance(DOMAIN.slots[[s.name for s in DOMAIN.slots].index("risk_level")], RiskLevelSlot)


def test_starts_at_none():
    assert tracker().get_slot("risk_level") == "none"


@pytest.mark.parametrize(
    "levels, expected",
    [
        (["imminent", "medium"], "imminent"),
        (["low", "high"], "high"),
        (["medium"], "medium"),
        (["high", "none", "low", None], "high"),
    ],
)
def test_a_milder_message_never_lowers_the_level(levels, expected):
    assert tracker(*levels).get_slot("risk_level") == expected


def test_replaying_the_events_gives_the_same_level():
    t = tracker("imminent", "medium")
    replayed = DialogueStateTracker.from_events("child-1", list(t.events), DOMAIN.slots)
    assert replayed.get_slot("risk_level") == "imminent"
    assert replayed.current_state()["slots"]["risk_level"] == "imminent"


def test_a_reset_really_resets():
    t = tracker("imminent")
    t.update(AllSlotsReset())
    assert t.get_slot("risk_level") == "none"
    t.update(SlotSet("risk_level", "low"))
    assert t.get_slot("risk_level") == "low"


def test_reporter_stays_adult_once_an_adult_reported():
    t = DialogueStateTracker("parent-1", DOMAIN.slots)
    assert t.get_slot("reporter") is None
    for value, expected in [("child", "child"), ("adult", "adult"), ("child", "adult")]:
        t.update(SlotSet("reporter", value))
        assert t.get_slot("reporter") == expected
