"""The bot's own code: NLU components, channels, handoff, content, privacy, stores."""

from bot.privacy.logs import install as _redact_logs

_redact_logs()  # before anything logs: no personal data in any log line (bot/privacy/logs.py)
