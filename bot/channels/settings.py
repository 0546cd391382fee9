"""Settings of the child channels' front door and of the web chat, read from the environment when asked.

Telegram's are in `bot.telegram.settings`, Zalo's in `zalo_settings.py`, the handoff's in
`bot.handoff.settings`.

| variable | meaning | default |
|---|---|---|
| `MAX_MESSAGE_CHARS` | longer messages are cut, with a clear reply (front door) | 4000 |
| `RATE_LIMIT_MESSAGES` | messages one sender may send within `RATE_LIMIT_SECONDS`; more get one kind "slow down" reply (a risk cue always goes through) | 20 |
| `RATE_LIMIT_SECONDS` | the window of that limit | 10 |
| `WEBCHAT_ORIGINS` | sites allowed to open the web chat's socket.io connection (comma separated) | empty = any site |
| `SOCKETIO_REDIS_URL` | Redis holding the socket.io rooms when several processes serve the web chat | empty = one process |
| `SOCKETIO_REDIS_CHANNEL` | the Redis channel of those rooms | `webchat` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelSettings:
    max_message_chars: int = 4000
    rate_limit_messages: int = 20
    rate_limit_seconds: int = 10
    webchat_origins: tuple[str, ...] = ()
    socketio_redis_url: str = ""
    socketio_redis_channel: str = "webchat"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ChannelSettings:
        env = os.environ if environ is None else environ

        def whole(name: str, default: int) -> int:
            try:
                return int(env.get(name) or default)
            except ValueError:
                return default

        return cls(
            max_message_chars=whole("MAX_MESSAGE_CHARS", 4000),
            rate_limit_messages=whole("RATE_LIMIT_MESSAGES", 20),
            rate_limit_seconds=whole("RATE_LIMIT_SECONDS", 10),
            webchat_origins=tuple(
                o.strip() for o in (env.get("WEBCHAT_ORIGINS") or "").split(",") if o.strip()
            ),
            socketio_redis_url=(env.get("SOCKETIO_REDIS_URL") or "").strip(),
            socketio_redis_channel=env.get("SOCKETIO_REDIS_CHANNEL") or "webchat",
        )
