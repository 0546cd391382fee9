"""Risk levels of the intents (SPEC.md, "Risk levels and what the bot must do").

Pure Python, shared by the NLU safety net, the actions and the channels.
"""

from __future__ import annotations

#: From lowest to highest.
LEVELS = ["none", "low", "medium", "high", "imminent"]

#: Intent -> risk level. Any intent not listed is "none".
RISK_LEVEL: dict[str, str] = {
    "disclose_self_harm": "imminent",
    "disclose_sexual_exploitation": "high",
    "disclose_grooming": "high",
    "disclose_abuse_offline": "high",
    "disclose_cyberbullying": "medium",
    "disclose_scam": "medium",
    "express_distress": "low",
}

#: Disclosure intents from the highest to the lowest priority (ties broken by this order).
DISCLOSURE_PRIORITY = [
    "disclose_self_harm",
    "disclose_sexual_exploitation",
    "disclose_grooming",
    "disclose_abuse_offline",
    "disclose_cyberbullying",
    "disclose_scam",
    "express_distress",
]


def level_of(intent: str | None) -> str:
    """The risk level of an intent name; "none" for anything else (and None)."""
    return RISK_LEVEL.get(intent or "", "none")


def rank(level: str | None) -> int:
    """Position of a level in LEVELS; unknown levels count as "none"."""
    try:
        return LEVELS.index(level or "none")
    except ValueError:
        return 0


def max_level(a: str | None, b: str | None) -> str:
    """The higher of two levels (unknown or None counts as "none")."""
    return LEVELS[max(rank(a), rank(b))]
