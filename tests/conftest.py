"""Shared fixtures: a trained model, a real bot served on localhost, the fake Bot API.

`rasa_server` serves the trained model with `tests.support.servers.start_bot` and stops it at the end
of the session. Fakes and harnesses live in `tests/support/` (a package: `pythonpath = ["."]`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy as sa

from tests.support import fake_bot_api as tg
from tests.support.servers import PG, RasaServer, current_model, need_postgres, start_bot


@pytest.fixture(scope="session")
def trained_model() -> str:
    """Path of the model for the current tree (trained once, reused while nothing changes)."""
    return current_model()


@pytest.fixture(scope="session")
def rasa_server(trained_model: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    server = start_bot(trained_model, tmp_path_factory.mktemp("rasa"))
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Anything that needs a trained model is slow; `make test-fast` skips it.
    for item in items:
        if "trained_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
async def fake_api() -> AsyncIterator[tg.FakeBotAPI]:
    """The fake Telegram Bot API on a free local port (tests/support/fake_bot_api.py)."""
    api = await tg.FakeBotAPI().start()
    yield api
    await api.stop()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    need_postgres()
    name = f"rasa_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield name
    with admin.connect() as conn:
        conn.execute(
            sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
