"""Slot types whose value only moves up a fixed order, inside the Rasa server.

- `risk_level` keeps the highest risk level seen (SPEC: a later, milder message never lowers it).
- `reporter` stays `adult` once an adult has reported for a child: their next message ("tôi rất lo")
  has no marker of who writes, and must not switch the replies to a child's voice.

Rasa fills both from each message (`from_intent` / `from_entity` mappings in domain.yml); the slot
type keeps the maximum. Doing it here means no custom action runs on every message (a per-turn
action cost 65% of the server's CPU, RASA_NOTES "Speed"), and the rule holds when the action server
is down. Replaying the tracker's events gives the same value: the setter sees every SlotSet in order.
"""

from __future__ import annotations

from typing import Any

from rasa.shared.core.slots import TextSlot

from bot.risk import LEVELS


class _RisingSlot(TextSlot):
    #: Allowed values from lowest to highest; anything else counts as the lowest.
    order: list[str] = []

    def _rank(self, value: Any) -> int:
        return self.order.index(value) if value in self.order else -1

    @TextSlot.value.setter  # type: ignore[attr-defined,misc]
    def value(self, value: Any) -> None:
        if value is not None and self._rank(value) >= self._rank(self._value):
            self._value = value
        self._has_been_set = True

    def reset(self) -> None:
        # Slot.reset assigns through the setter, which would keep the old maximum.
        self._value = self.initial_value
        self._has_been_set = False


class RiskLevelSlot(_RisingSlot):
    """`type: bot.slots.RiskLevelSlot`: none < low < medium < high < imminent."""

    type_name = "bot.slots.RiskLevelSlot"
    order = LEVELS


class ReporterSlot(_RisingSlot):
    """`type: bot.slots.ReporterSlot`: child < adult."""

    type_name = "bot.slots.ReporterSlot"
    order = ["child", "adult"]
