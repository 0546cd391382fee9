"""The token of Rasa's HTTP API (`/conversations/...`, `/model/parse`, `/status`): always set.

Rasa's admin API reads, writes and deletes every child's conversation. It is never served without a
token, whatever the bind address (a reverse proxy in front of 127.0.0.1 would expose it otherwise).
`RASA_API_TOKEN` from the environment wins; without it, a random token is generated once into
`var/rasa_api_token` (mode 0600, path from `RASA_API_TOKEN_FILE`) and reused on every start.

    python -m bot.api_token            # print the token (creates the file if needed); its path on stderr
    python -m bot.api_token --path     # print only where it is

Scripts that call the admin API (scripts/eval_blind.py, ../shared/eval/evaluate.py via
`RASA_API_TOKEN`) read it with `api_token(create=False)` or `RASA_API_TOKEN=$(cat var/rasa_api_token)`.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path

from bot.settings import BotSettings

DEFAULT_FILE = "var/rasa_api_token"


def token_file() -> Path:
    return Path(BotSettings.from_env().rasa_api_token_file or DEFAULT_FILE)


def api_token(create: bool = True) -> str:
    """`RASA_API_TOKEN`, else the token in `token_file()` (generated when missing and `create`); "" if none."""
    token = BotSettings.from_env().rasa_api_token
    if token:
        return token
    path = token_file()
    if path.exists():
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(0o600)  # someone widened it: the token reads every conversation
        return path.read_text(encoding="utf-8").strip()
    if not create:
        return ""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    # O_EXCL: two starts at once never overwrite each other's token; 0600 from the first byte.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another start won the race: use its token
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    return token


def main(argv: list[str]) -> int:
    if "--path" in argv:
        print(token_file().resolve())
        return 0
    token = api_token()
    where = "RASA_API_TOKEN" if BotSettings.from_env().rasa_api_token else str(token_file().resolve())
    print(f"Rasa HTTP API token: {where}", file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
