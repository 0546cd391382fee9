"""SQL tracker store that forgets a conversation when the child asks.

Configured in endpoints.yml as `type: bot.stores.tracker.PrivateSQLTrackerStore`
with the usual SQLTrackerStore keys (`dialect`, `db`, or `url`...). If Rasa
cannot import it, Rasa silently falls back to an in-memory store: the test
suite restarts a server and reads a conversation back to prove it is used.
"""
from __future__ import annotations

import logging

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

#: The reply that confirms deletion; it is sent only after the child said yes.
DELETE_CONFIRMED_ACTION = "utter_delete_data"


def asked_to_forget(tracker: DialogueStateTracker) -> bool:
    """True when the bot has just confirmed deleting this conversation."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name == DELETE_CONFIRMED_ACTION:
            return True
    return False


class PrivateSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore + "xóa dữ liệu": the conversation's rows are deleted, not hidden."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        if asked_to_forget(tracker):
            await self.forget(tracker.sender_id)
            return
        await super().save(tracker)

    async def forget(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; returns how many."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        logger.info("deleted a conversation on request (%d events)", deleted)
        return deleted
