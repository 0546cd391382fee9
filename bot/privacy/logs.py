"""Logs never hold personal data: every log record's message is redacted when it is formatted.

Installed once per process by importing `bot` (Rasa's server loads our NLU components, the action
server loads our actions), so it covers Rasa's own DEBUG lines that quote user messages too. Our
code never logs message text at INFO or above.
"""

from __future__ import annotations

import logging

from bot.privacy.redact import redact


class RedactedLogRecord(logging.LogRecord):
    _redacted: str | None = None

    def getMessage(self) -> str:  # noqa: N802 - logging's name
        # Every handler formats the record: redact once per record, not once per handler.
        if self._redacted is None:
            self._redacted = redact(super().getMessage())
        return self._redacted


def install() -> None:
    if logging.getLogRecordFactory() is not RedactedLogRecord:
        logging.setLogRecordFactory(RedactedLogRecord)
