"""Fixtures for the Telegram channel tests (fake Bot API, stand-in Rasa, Sanic server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.telegram import TelegramInput
from bot.telegram.settings import TelegramSettings
from tests.support import fake_bot_api as tg
from tests.support.telegram_harness import ChannelServer, FakeRasa, make_settings, serve_channel


@pytest.fixture
def state_db(tmp_path: Path) -> Path:
    return tmp_path / "var" / "telegram.sqlite3"


@pytest.fixture
def settings(fake_api: tg.FakeBotAPI, state_db: Path) -> TelegramSettings:
    return make_settings(fake_api, state_db)


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
async def channel_server(settings: TelegramSettings, fake_rasa: FakeRasa) -> AsyncIterator[ChannelServer]:
    async for served in serve_channel(TelegramInput(settings), fake_rasa):
        yield served
