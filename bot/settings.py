"""Settings of the modules at the top of bot/ (`api_token.py`, `directory.py`), read when asked.

Each package has its own: `bot.channels.settings`, `bot.channels.zalo_settings`, `bot.content.settings`,
`bot.handoff.settings`, `bot.privacy.settings`, `bot.telegram.settings`. No other module reads the
environment (tests/test_settings.py checks it, and that .env.example lists exactly these variables).

| variable | meaning | default |
|---|---|---|
| `RASA_API_TOKEN` | token of Rasa's HTTP API | generated once into `RASA_API_TOKEN_FILE` |
| `RASA_API_TOKEN_FILE` | where the generated token is kept (mode 0600) | `var/rasa_api_token` |
| `DIRECTORY_FILE` | the local help directory (docs/district.md) | `content/directory.yml` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class BotSettings:
    rasa_api_token: str = ""
    rasa_api_token_file: str = ""  # empty: api_token.DEFAULT_FILE
    directory_file: str = ""  # empty: directory.DEFAULT_FILE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BotSettings:
        env = os.environ if environ is None else environ
        return cls(
            rasa_api_token=(env.get("RASA_API_TOKEN") or "").strip(),
            rasa_api_token_file=env.get("RASA_API_TOKEN_FILE") or "",
            directory_file=env.get("DIRECTORY_FILE") or "",
        )

    def __repr__(self) -> str:  # never print the token
        return f"BotSettings(api_token={'set' if self.rasa_api_token else 'from file'}, directory={self.directory_file!r})"
