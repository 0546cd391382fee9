"""One settings pattern: the environment is read only by the frozen settings dataclass of each package,
and .env.example lists exactly the variables they read (plus the few read by the shell scripts)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from bot.channels.settings import ChannelSettings
from bot.channels.zalo_settings import ZaloSettings
from bot.content.settings import ContentSettings
from bot.handoff.settings import HandoffSettings
from bot.privacy.settings import PrivacySettings
from bot.settings import BotSettings
from bot.telegram.settings import TelegramSettings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = [
    BotSettings,
    ChannelSettings,
    ContentSettings,
    HandoffSettings,
    PrivacySettings,
    TelegramSettings,
    ZaloSettings,
]
SETTINGS_MODULES = {
    "bot/settings.py",
    "bot/channels/settings.py",
    "bot/channels/zalo_settings.py",
    "bot/content/settings.py",
    "bot/handoff/settings.py",
    "bot/privacy/settings.py",
    "bot/telegram/settings.py",
}
#: Read elsewhere than in Python settings, and where: .env.example lists them too.
OUTSIDE_PYTHON = {
    "HOST": "scripts/run.sh",
    "PORT": "scripts/run.sh",
    "ACTIONS_PORT": "scripts/run.sh",
    "CORS_ORIGINS": "scripts/run.sh",
    "RASA_TELEMETRY_ENABLED": "Makefile",
    "SCALE_PG_URL": "scripts/scale.py",
    "SCALE_REDIS_URL": "scripts/scale.py",
    "SCALE_PORT": "scripts/scale.py",
    "SANIC_PROXIES_COUNT": None,  # Sanic reads SANIC_* itself
}


class Recorder(dict):
    """An environment that remembers which variables were asked for (and has none of them)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:
        self.asked.add(key)
        return default


def read_by(settings: type) -> set[str]:
    env = Recorder()
    settings.from_env(env)
    return env.asked


def listed_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^(?:# ?)?([A-Z][A-Z0-9_]*)=", text, flags=re.M))


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: s.__name__)
def test_settings_are_frozen_dataclasses_read_when_asked(settings: type) -> None:
    assert dataclasses.is_dataclass(settings) and settings.__dataclass_params__.frozen
    assert read_by(settings), f"{settings.__name__}.from_env reads nothing"
    assert settings.from_env(Recorder()) == settings.from_env({})  # nothing set: the defaults


def test_env_example_lists_exactly_the_variables_read() -> None:
    read = set().union(*(read_by(s) for s in SETTINGS))
    assert not read & set(OUTSIDE_PYTHON)
    assert listed_in_env_example() == read | set(OUTSIDE_PYTHON)


def test_the_variables_read_outside_python_are_read_there() -> None:
    for name, where in OUTSIDE_PYTHON.items():
        if where is not None:
            assert re.search(rf"\b{name}\b", (ROOT / where).read_text(encoding="utf-8")), (
                f"{name} not in {where}"
            )


def test_only_settings_modules_read_the_environment() -> None:
    """bot/ and actions/ read os.environ only through the settings dataclasses (retention expands
    `${VAR}` in endpoints.yml like Rasa: any variable the file names)."""
    allowed = SETTINGS_MODULES | {"bot/privacy/retention.py"}
    readers = {
        str(path.relative_to(ROOT))
        for folder in ("bot", "actions")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"os\.environ|getenv", path.read_text(encoding="utf-8"))
    }
    assert readers <= allowed, sorted(readers - allowed)
    assert "bot/privacy/retention.py" in readers  # the exception is still needed; else drop it
