"""Settings of the Telegram channel and polling runner, read from the environment when asked.

| variable | meaning | default |
|---|---|---|
| `TELEGRAM_TOKEN` | bot token from @BotFather; unset = channel disabled | unset |
| `TELEGRAM_API_URL` | Bot API base URL (server root or `.../bot`), for tests and self-hosted servers | Telegram's |
| `TELEGRAM_WEBHOOK_SECRET` | value of `X-Telegram-Bot-Api-Secret-Token` | derived from the token |
| `TELEGRAM_WEBHOOK_URL` | public URL of `/webhooks/telegram/webhook`; set = webhook mode | unset (polling) |
| `TELEGRAM_STATE_DB` | SQLite file for handled-message keys (hashed) and long button payloads | `var/telegram.sqlite3` |
| `RASA_URL` | where the polling runner reaches Rasa | `http://localhost:5005` |
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_STATE_DB = "var/telegram.sqlite3"
DEFAULT_RASA_URL = "http://localhost:5005"
WEBHOOK_PATH = "/webhooks/telegram/webhook"
HEALTH_PATH = "/webhooks/telegram/"  # {"status": "ok" | "disabled"}
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - as a webhook secret token.
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def normalise_api_url(url: str | None) -> str:
    """Return a python-telegram-bot `base_url`: `http://host:port` becomes `http://host:port/bot`."""
    if not url:
        return DEFAULT_API_URL
    url = url.strip().rstrip("/")
    if "{token}" in url or url.endswith("/bot"):
        return url
    return url + "/bot"


def derive_secret(token: str) -> str:
    """A webhook secret both processes can compute from the token alone (64 hex characters)."""
    return hmac.new(token.encode(), b"telegram-webhook-secret", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TelegramSettings:
    token: str | None
    api_url: str = DEFAULT_API_URL
    webhook_secret: str = ""
    webhook_url: str | None = None
    state_db: Path = Path(DEFAULT_STATE_DB)
    rasa_url: str = DEFAULT_RASA_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TelegramSettings:
        env = os.environ if environ is None else environ
        token = (env.get("TELEGRAM_TOKEN") or "").strip() or None
        secret = (env.get("TELEGRAM_WEBHOOK_SECRET") or "").strip()
        if token and not secret:
            secret = derive_secret(token)
        if secret and not _SECRET_RE.match(secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET may only hold 1-256 characters A-Z a-z 0-9 _ -")
        return cls(
            token=token,
            api_url=normalise_api_url(env.get("TELEGRAM_API_URL")),
            webhook_secret=secret,
            webhook_url=(env.get("TELEGRAM_WEBHOOK_URL") or "").strip() or None,
            state_db=Path(env.get("TELEGRAM_STATE_DB") or DEFAULT_STATE_DB),
            rasa_url=(env.get("RASA_URL") or DEFAULT_RASA_URL).rstrip("/"),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    @property
    def bot_id(self) -> int | None:
        """The bot's own user id: the digits before the colon of the token."""
        head = (self.token or "").split(":", 1)[0]
        return int(head) if head.isdigit() else None

    @property
    def file_url(self) -> str:
        """python-telegram-bot `base_file_url` next to `api_url` (the channel never downloads files)."""
        if self.api_url.endswith("/bot"):
            return self.api_url[: -len("/bot")] + "/file/bot"
        return self.api_url

    def redact(self, text: str) -> str:
        """Remove the token from text that may end up in a log line."""
        return text.replace(self.token, "<token>") if self.token else text

    def __repr__(self) -> str:  # never print the token or the secret
        return (
            f"TelegramSettings(enabled={self.enabled}, api_url={self.api_url!r}, "
            f"webhook_url={self.webhook_url!r}, state_db={str(self.state_db)!r}, rasa_url={self.rasa_url!r})"
        )
