"""Privacy helpers (pure Python, no Rasa): redact personal data before it is stored or shown."""

from bot.privacy.redact import redact

__all__ = ["redact"]
