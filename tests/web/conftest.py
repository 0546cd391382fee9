"""Fixtures for the web chat tests: in-process channel, headless Chromium, a real Rasa."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.webchat import WebChatInput
from tests.support import webchat_harness as h


@pytest.fixture
def fake_agent() -> h.FakeAgent:
    return h.FakeAgent()


@pytest.fixture(autouse=True)
def own_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test's in-process channel keeps offline messages in a database of its own."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'handoff.db'}")


@pytest.fixture
async def channel_server(fake_agent: h.FakeAgent) -> AsyncIterator[h.ChannelServer]:
    """The web chat channel served in this event loop, answering from a script (no model)."""
    async for served in h.serve_channel(WebChatInput.from_credentials({}), fake_agent):
        yield served


@pytest.fixture
def needs_chromium() -> None:
    reason = h.chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    if not h.SOCKET_IO_CLIENT.is_file():
        pytest.skip("web/node_modules is missing: run `npm ci` in web/ (make web)")


@pytest.fixture
async def browser(needs_chromium: None) -> AsyncIterator[Any]:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=h.CHROMIUM, args=h.CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture(scope="session")
def webchat_rasa(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a trained bot on localhost with the web chat channel and the action server.

    Its own Rasa (the project's `start_bot`, like the handoff tests), so that the counsellor API has a
    token and a case store of its own. WEBCHAT_TEST_MODEL=path/to/model.tar.gz skips training.
    """
    reason = h.chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    if not h.SOCKET_IO_CLIENT.is_file():
        pytest.skip("web/node_modules is missing: run `npm ci` in web/ (make web)")
    model = os.environ.get("WEBCHAT_TEST_MODEL") or request.getfixturevalue("trained_model")
    workdir = tmp_path_factory.mktemp("webchat-rasa")
    env = {
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(h.ROOT), os.environ.get("PYTHONPATH")])),
        "COUNSELLOR_API_TOKEN": h.COUNSELLOR_TOKEN,
        "DATABASE_URL": f"sqlite:///{workdir / 'handoff.db'}",
        "TELEGRAM_TOKEN": "",
    }
    from tests.support.servers import start_bot

    server = start_bot(str(Path(model)), workdir, True, env)
    try:
        yield server.url
    finally:
        server.stop()
