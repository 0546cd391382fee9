"""A fresh case store per test: SQLite always, PostgreSQL when one answers on 127.0.0.1:5432."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.handoff.store import HandoffStore
from tests.support import fake_bot_api as tg
from tests.support import handoff_harness as harness
from tests.support.servers import PG_URL, postgres_ready


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HandoffStore]:
    if request.param == "sqlite":
        s = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    else:
        if not postgres_ready():
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (pg_isready failed): SQLite only")
        s = HandoffStore(PG_URL)
        s.drop_all()
        s.dispose()
        s = HandoffStore(PG_URL)
    yield s
    if request.param == "postgresql":
        s.drop_all()
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[HandoffStore]:
    s = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    yield s
    s.dispose()


# --- the handoff environment of a bot with counsellors on Telegram (fake Bot API) ------------


@pytest.fixture
def handoff_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_api: tg.FakeBotAPI) -> Path:
    """Environment of a bot with counsellors on Telegram; returns the case database path."""
    db = tmp_path / "handoff.db"
    for key, value in {
        "DATABASE_URL": f"sqlite:///{db}",
        "TELEGRAM_TOKEN": fake_api.token,
        "TELEGRAM_API_URL": fake_api.root_url,
        "TELEGRAM_WEBHOOK_SECRET": harness.SECRET,
        "TELEGRAM_STATE_DB": str(tmp_path / "telegram.sqlite3"),
        "COUNSELLOR_CHAT_ID": str(harness.GROUP),
        "COUNSELLOR_IDS": f"{harness.COUNSELLOR}, 901",
        "COUNSELLOR_API_TOKEN": harness.API_TOKEN,
        "HANDOFF_TIMEOUT_MIN": "5",
        "HANDOFF_TICK_SECONDS": "3600",  # tests drive the worker by hand (run_once)
    }.items():
        monkeypatch.setenv(key, value)
    return db
