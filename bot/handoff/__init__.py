"""Counsellor handoff: cases, their lifecycle and priority queue, and the alert outbox.

Pure storage and rules (SQLAlchemy, no Rasa): the actions (`actions/handoff.py`) and the
channels (`bot/channels/counsellor.py`, `bot/channels/telegram.py`) call it.
"""

from bot.handoff.store import (
    CLAIMED,
    CLOSED,
    OPEN,
    Case,
    CaseError,
    HandoffStore,
    priority_for_level,
)

__all__ = [
    "CLAIMED",
    "CLOSED",
    "OPEN",
    "Case",
    "CaseError",
    "HandoffStore",
    "priority_for_level",
]
