"""Handoff actions: thin wrappers around `bot.handoff.service` (the logic and the texts live there).

- `action_create_urgent_case`: after `utter_self_harm` (imminent), at once, no consent needed.
- `action_create_case`: after the child says yes to a counsellor (or asks for one).
The safety reply with 111 comes first from domain.yml, so it reaches the child even if this server fails.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.handoff import notify, service, texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import off_loop, shared_store

logger = logging.getLogger(__name__)


def user_messages(tracker: Tracker) -> list[str]:
    """What the child wrote (button payloads such as `/affirm` left out), oldest first."""
    return [
        e.get("text") or ""
        for e in tracker.events
        if e.get("event") == "user" and e.get("text") and not str(e.get("text")).startswith("/")
    ]


def message_source(tracker: Tracker) -> str | None:
    """The hashed client address the channel put in the latest message's metadata (`source`), if any."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            source = (event.get("metadata") or {}).get("source")
            return source if isinstance(source, str) and source.startswith("addr:") else None
    return None


class _CaseAction(Action, ABC):
    """Base: opens or refreshes the child's case. Subclasses give `name()` (abstract here, so the
    SDK never registers the base) and may override the risk level and category."""

    @abstractmethod
    def name(self) -> str:  # pragma: no cover - abstract
        ...

    def level(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("risk_level")

    def category(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("risk_category")

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = HandoffSettings.from_env()
        store = shared_store()
        try:  # off the event loop, with a timeout: a hung database ends in STORE_DOWN (111), not a hang
            result = await off_loop(
                service.request_counsellor,
                store,
                settings,
                tracker.sender_id,
                tracker.get_latest_input_channel() or "unknown",
                self.level(tracker),
                self.category(tracker),
                user_messages(tracker),
                source=message_source(tracker),
                area=tracker.get_slot("area"),  # the help directory's area, for the alert
            )
        except Exception as exc:  # noqa: BLE001 - the child must still hear about 111
            logger.error("handoff case not created: %s", type(exc).__name__)
            dispatcher.utter_message(text=texts.for_reporter(texts.STORE_DOWN, tracker.get_slot("reporter")))
            return []
        dispatcher.utter_message(text=texts.for_reporter(result.reply, tracker.get_slot("reporter")))
        if result.is_new:
            await notify.deliver_now(store, settings)
        return []


class ActionCreateUrgentCase(_CaseAction):
    """Imminent risk: an `urgent` case at once, whatever the slots say."""

    def name(self) -> str:
        return "action_create_urgent_case"

    def level(self, tracker: Tracker) -> str | None:
        return "imminent"

    def category(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("risk_category") or "disclose_self_harm"


class ActionCreateCase(_CaseAction):
    """The child consented (or asked): a case with the priority of the highest risk seen."""

    def name(self) -> str:
        return "action_create_case"


class ActionCancelHandoff(Action):
    """The child withdraws a request nobody has claimed yet (a claimed case stays with its counsellor)."""

    def name(self) -> str:
        return "action_cancel_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        settings = HandoffSettings.from_env()
        store = shared_store()
        try:
            case = await off_loop(service.cancel, store, settings, tracker.sender_id)
        except Exception as exc:  # noqa: BLE001
            logger.error("handoff cancel failed: %s", type(exc).__name__)
            case = None
        dispatcher.utter_message(text=texts.CANCELLED if case is not None else texts.NOTHING_TO_CANCEL)
        if case is not None:
            await notify.deliver_now(store, settings)
        return []


class ActionRecordFeedback(Action):
    """The child's answer to "did the counsellor help?" (asked when a case is closed): an anonymous event."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        try:
            await off_loop(service.record_feedback, shared_store(), tracker.sender_id, helpful)
        except Exception as exc:  # noqa: BLE001 - the thanks (domain.yml) follows anyway
            logger.error("feedback not recorded: %s", type(exc).__name__)
        return []
