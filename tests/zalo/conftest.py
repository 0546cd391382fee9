"""Fixtures of the Zalo channel tests: the fake Zalo API, the fake Bot API, a handoff environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import fake_bot_api as tg
from tests.support import fake_zalo_api as fz
from tests.support import handoff_harness as handoff


@pytest.fixture
async def zalo_api() -> AsyncIterator[fz.FakeZaloAPI]:
    api = await fz.FakeZaloAPI().start()
    yield api
    await api.stop()


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A case store of its own (the Zalo tokens and inbox live there too); no counsellors."""
    path = tmp_path / "handoff.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    for name in ("COUNSELLOR_CHAT_ID", "COUNSELLOR_IDS", "TELEGRAM_TOKEN", "TELEGRAM_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def handoff_env(monkeypatch: pytest.MonkeyPatch, db: Path, tmp_path: Path, fake_api: tg.FakeBotAPI) -> Path:
    """Counsellors on Telegram (fake Bot API): alerts go to the group, replies come from it."""
    for key, value in {
        "TELEGRAM_TOKEN": fake_api.token,
        "TELEGRAM_API_URL": fake_api.root_url,
        "TELEGRAM_WEBHOOK_SECRET": handoff.SECRET,
        "TELEGRAM_STATE_DB": str(tmp_path / "telegram.sqlite3"),
        "COUNSELLOR_CHAT_ID": str(handoff.GROUP),
        "COUNSELLOR_IDS": str(handoff.COUNSELLOR),
        "COUNSELLOR_API_TOKEN": handoff.API_TOKEN,
        "HANDOFF_TICK_SECONDS": "3600",
    }.items():
        monkeypatch.setenv(key, value)
    return db
