"""The local help directory in the conversation (bot/directory.py, content/directory.yml).

- `action_show_directory` runs after every disclosure reply and after `utter_ask_hotline` (domain.yml
  already gave 111 and the national numbers, so this works as an addition: with the action server
  down, nothing is lost). After a disclosure it counts the disclosure (anonymous report event) and
  adds the local contacts that fit the harm; after `/111` every local contact of the person's area.
  It asks for the area (buttons) only when local entries exist for more than one area.
- `action_set_area`: the area button (`/tell_area{"area": "dien-bien/quai-to"}`), then what was pending.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import directory
from bot.content.answers import button
from bot.reports import events as report
from bot.risk import level_of

logger = logging.getLogger(__name__)
Events = list[dict[str, Any]]
PENDING = "directory:"
HOTLINE = "hotline"


def show(
    dispatcher: CollectingDispatcher,
    entries: list[directory.Entry],
    category: str | None,
    area: str | None,
    adult: bool,
) -> Events:
    """The local lines for `category` (None = all kinds), or the area question. Returns slot events."""
    if directory.needs_area(entries, area):
        you = "anh/chị" if adult else "bạn"
        buttons = [button(label, "tell_area", area=key) for key, label in directory.areas(entries)]
        buttons.append(button("Nơi khác / không muốn nói", "tell_area", area=directory.NO_AREA))
        dispatcher.utter_message(
            text=f"{you.capitalize()} ở xã nào? Mình sẽ chỉ thêm nơi giúp gần {you}.", buttons=buttons
        )
        return [SlotSet("pending", PENDING + (category or HOTLINE))]
    local = directory.local_for(entries, category, area)
    if local:
        head = "Nơi giúp gần anh/chị:" if adult else "Nơi giúp gần bạn:"
        dispatcher.utter_message(
            text="\n".join([head, *(e.line() for e in local), "Luôn có thể gọi 111 (miễn phí, 24/7)."])
        )
    return []


class ActionShowDirectory(Action):
    def name(self) -> str:
        return "action_show_directory"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        category = None if intent in ("ask_hotline", "help") else tracker.get_slot("risk_category")
        adult = tracker.get_slot("reporter") == "adult" or tracker.get_slot("role") in ("parent", "teacher")
        if category:
            report.record(
                "disclosure",
                channel=tracker.get_latest_input_channel(),
                category=category,
                level=level_of(category),
                age_band=tracker.get_slot("age_band"),
                reporter=tracker.get_slot("reporter") or "child",
            )
        try:
            entries = directory.load()
        except Exception as exc:  # noqa: BLE001 - 111 was already said by domain.yml
            logger.error("help directory not shown: %s", type(exc).__name__)
            return []
        return show(dispatcher, entries, category, tracker.get_slot("area"), adult)


class ActionSetArea(Action):
    def name(self) -> str:
        return "action_set_area"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        chosen = next(tracker.get_latest_entity_values("area"), None)
        try:
            entries = directory.load()
        except Exception as exc:  # noqa: BLE001
            logger.error("help directory not shown: %s", type(exc).__name__)
            dispatcher.utter_message(text="Bạn gọi 111 (miễn phí, 24/7) để được chỉ nơi giúp gần nhất nhé.")
            return []
        known = {key for key, _ in directory.areas(entries)} | {directory.NO_AREA}
        if chosen not in known:
            return show(dispatcher, entries, None, None, False)
        pending = tracker.get_slot("pending") or ""
        events: Events = [SlotSet("area", chosen)]
        if chosen == directory.NO_AREA:
            dispatcher.utter_message(
                text="Không sao. Lúc nào cần, gọi 111 (miễn phí, 24/7) để được chỉ nơi giúp gần nhất."
            )
        elif pending.startswith(PENDING):
            kind = pending[len(PENDING) :]
            adult = tracker.get_slot("reporter") == "adult" or tracker.get_slot("role") in (
                "parent",
                "teacher",
            )
            events += show(dispatcher, entries, None if kind == HOTLINE else kind, chosen, adult)
            if not dispatcher.messages:
                dispatcher.utter_message(
                    text="Ở khu vực này mình chưa có số địa phương. Gọi 111 (miễn phí, 24/7) để được chỉ nơi giúp gần nhất."
                )
        else:
            dispatcher.utter_message(text='Mình nhớ rồi. Khi cần, nhắn "111" để xem các nơi giúp gần bạn.')
        return (events + [SlotSet("pending", None)]) if pending.startswith(PENDING) else events
