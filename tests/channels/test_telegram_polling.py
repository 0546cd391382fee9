"""The polling runner end to end: fake Bot API -> getUpdates -> runner -> channel route (Sanic) -> fake Bot API."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from aiohttp import web

from bot.channels.telegram import TelegramInput
from bot.telegram import texts
from bot.telegram.runner import PollingRunner, amain, main
from bot.telegram.settings import TelegramSettings
from tests.support import fake_bot_api as tg
from tests.support.servers import free_port, free_socket
from tests.support.telegram_harness import (
    CHAT,
    ROOT,
    ChannelServer,
    FakeRasa,
    serve_channel,
)


def runner_settings(settings: TelegramSettings, rasa_url: str) -> TelegramSettings:
    return TelegramSettings(**{**settings.__dict__, "rasa_url": rasa_url})


async def run_once(settings: TelegramSettings) -> PollingRunner:
    runner = PollingRunner(settings, poll_timeout=1)
    try:
        assert await runner.run(once=True) == 0
    finally:
        await runner.close()
    return runner


async def test_polling_end_to_end(
    channel_server: ChannelServer, settings: TelegramSettings, fake_api, fake_rasa: FakeRasa
) -> None:
    fake_api.queue_update(
        tg.command(1, CHAT, "/start"),
        tg.text(2, CHAT, "e muon chet"),
        tg.callback(3, CHAT, "/ask_tip"),
        tg.sticker(4, CHAT),
        tg.photo(5, CHAT),
    )
    await run_once(runner_settings(settings, channel_server.url))

    # setup: webhook dropped (pending updates kept), Vietnamese command menu registered
    assert fake_api.calls_of("deleteWebhook") == [{"drop_pending_updates": False}]
    [commands] = fake_api.calls_of("setMyCommands")
    assert [c["command"] for c in commands["commands"]] == ["start", "menu", "help", "111", "xoadulieu"]
    assert commands["commands"][4]["description"] == "Xóa dữ liệu của bạn"

    assert fake_rasa.texts == ["/greet", "e muon chet", "/ask_tip"]
    replies = fake_api.sent_texts(CHAT)
    assert replies[0] == fake_rasa.responses["utter_greet"]["text"].strip()
    assert "111" in replies[1]
    assert replies[3:] == [texts.STICKER, texts.MEDIA_PRIVACY]
    assert fake_api.calls_of("answerCallbackQuery") == [{"callback_query_id": "cq3"}]
    assert "getFile" not in fake_api.methods()
    getupdates = fake_api.calls_of("getUpdates")[0]
    assert getupdates["allowed_updates"] == ["message", "edited_message", "callback_query"]


async def test_a_restart_repeats_nothing(
    channel_server: ChannelServer, settings: TelegramSettings, fake_api, fake_rasa: FakeRasa
) -> None:
    polling = runner_settings(settings, channel_server.url)
    fake_api.queue_update(tg.text(7, CHAT, "xin chao"), tg.text(8, CHAT, "e muon chet"))
    await run_once(polling)  # handled, but the batch is not confirmed yet (no second poll)
    assert len(fake_api.sent_messages(CHAT)) == 2

    # Restart: a new runner polls without an offset, gets the unconfirmed batch again and the
    # channel skips both messages (chat id + message id); the next poll confirms them.
    runner = await run_once(polling)
    assert "offset" not in fake_api.calls_of("getUpdates")[-1]
    assert runner.offset == 9
    assert fake_rasa.texts == ["xin chao", "e muon chet"]
    assert len(fake_api.sent_messages(CHAT)) == 2


async def test_telegram_hears_again_after_a_quiet_week_with_lower_update_ids(
    channel_server: ChannelServer, settings: TelegramSettings, fake_api, fake_rasa: FakeRasa
) -> None:
    """Issue 12 (1): after a week without updates Telegram restarts update ids, maybe lower."""
    polling = runner_settings(settings, channel_server.url)
    runner = PollingRunner(polling, poll_timeout=1)
    stop = asyncio.Event()
    task = asyncio.ensure_future(runner.run(stop))
    try:
        fake_api.child_says(CHAT, "xin chao")  # update ids 100, 101
        fake_api.child_says(CHAT, "cam on")
        await fake_api.wait_for("sendMessage", 2, timeout=10)
        await asyncio.sleep(2.5)  # quiet: the runner's polls come back empty

        fake_api.quiet_week(restart_at=100)  # ids start again at ones already handled
        fake_api.child_says(CHAT, "e muon chet")
        await fake_api.wait_for("sendMessage", 3, timeout=10)

        # A runner restarted after another quiet week hears too.
        stop.set()
        assert await asyncio.wait_for(task, timeout=5) == 0
        await runner.close()
        await asyncio.sleep(1.5)  # the stopped runner's last long poll ends (a week passes)
        fake_api.quiet_week(restart_at=50)
        fake_api.child_says(CHAT, "co nguoi doa em")
        runner = PollingRunner(polling, poll_timeout=1)
        stop = asyncio.Event()
        task = asyncio.ensure_future(runner.run(stop))
        await fake_api.wait_for("sendMessage", 4, timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        await runner.close()
    assert fake_rasa.texts == ["xin chao", "cam on", "e muon chet", "co nguoi doa em"]
    assert "111" in fake_api.sent_texts(CHAT)[2]


async def test_rasa_unreachable_the_runner_answers_with_111(settings: TelegramSettings, fake_api) -> None:
    fake_api.queue_update(
        tg.text(1, CHAT, "e muon chet"), tg.callback(2, CHAT, "/ask_hotline"), tg.voice(3, CHAT)
    )
    runner = await run_once(runner_settings(settings, f"http://127.0.0.1:{free_port()}"))
    assert fake_api.sent_texts(CHAT) == [texts.UNAVAILABLE, texts.UNAVAILABLE, texts.VOICE]
    assert fake_api.calls_of("answerCallbackQuery") == [{"callback_query_id": "cq2"}]
    assert runner.offset == 4  # answered, so confirmed by the next poll


@pytest.mark.parametrize("status", [500, 503, 403])
async def test_rasa_error_status_the_runner_answers_with_111(
    settings: TelegramSettings, fake_api, status: int
) -> None:
    async def broken(_: web.Request) -> web.Response:
        return web.json_response({"status": "error"}, status=status)

    app = web.Application()
    app.router.add_post("/webhooks/telegram/webhook", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        fake_api.queue_update(tg.text(1, CHAT, "e muon chet"))
        await run_once(runner_settings(settings, f"http://127.0.0.1:{port}"))
    finally:
        await runner.cleanup()
    assert fake_api.sent_texts(CHAT) == [texts.UNAVAILABLE]


async def test_nothing_delivered_keeps_the_update_for_the_next_poll(
    settings: TelegramSettings, fake_api
) -> None:
    polling = runner_settings(settings, f"http://127.0.0.1:{free_port()}")
    runner = PollingRunner(polling, poll_timeout=1)
    runner.sender.base_delay = 0.01
    for _ in range(runner.sender.max_tries):
        fake_api.fail_next("sendMessage", status=502, retry_after=None)
    fake_api.queue_update(tg.text(1, CHAT, "e muon chet"))
    try:
        assert await runner.run(once=True) == 1  # Rasa down and Telegram failing: not confirmed
        assert runner.offset is None
        assert await runner.run(once=True) == 0  # next poll: the child is answered
    finally:
        await runner.close()
    assert fake_api.sent_texts(CHAT) == [texts.UNAVAILABLE]
    assert runner.offset == 2


async def test_429_on_getupdates_is_honoured(
    channel_server: ChannelServer, settings: TelegramSettings, fake_api
) -> None:
    fake_api.fail_next("getUpdates", status=429, retry_after=1)
    fake_api.queue_update(tg.command(1, CHAT, "/help"))
    runner = PollingRunner(runner_settings(settings, channel_server.url), poll_timeout=1)
    stop = asyncio.Event()
    task = asyncio.ensure_future(runner.run(stop))
    try:
        await fake_api.wait_for("sendMessage", timeout=10)
    finally:
        stop.set()
        assert await asyncio.wait_for(task, timeout=5) == 0
        await runner.close()
    attempts = [c for c in fake_api.calls if c.method == "getUpdates"]
    assert attempts[0].status == 429 and attempts[1].at - attempts[0].at >= 1.0


async def test_runner_waits_for_a_starting_rasa_instead_of_falling_back(
    settings: TelegramSettings, fake_api, fake_rasa: FakeRasa
) -> None:
    sock = free_socket()  # Rasa's port, bound but not yet listening: connections are refused
    polling = runner_settings(settings, f"http://127.0.0.1:{sock.getsockname()[1]}")
    fake_api.queue_update(tg.text(1, CHAT, "e muon chet"))
    runner = PollingRunner(polling, poll_timeout=1)
    task = asyncio.ensure_future(runner.run(once=True, wait_for_rasa=20))
    await asyncio.sleep(1.5)  # Rasa still loading its model
    assert not task.done() and fake_api.sent_messages() == []
    try:
        async for _ in serve_channel(TelegramInput(settings), fake_rasa, sock):
            assert await asyncio.wait_for(task, timeout=10) == 0
    finally:
        await runner.close()
    assert fake_rasa.texts == ["e muon chet"]
    [reply] = fake_api.sent_texts(CHAT)
    assert reply != texts.UNAVAILABLE and "111" in reply


async def test_waiting_for_rasa_gives_up(settings: TelegramSettings, fake_api, fake_rasa: FakeRasa) -> None:
    runner = PollingRunner(runner_settings(settings, f"http://127.0.0.1:{free_port()}"))
    try:
        assert await runner.wait_for_rasa(0.5) is False  # timeout: polling starts, fallback answers
    finally:
        await runner.close()
    disabled = TelegramInput(TelegramSettings(token=None))
    async for served in serve_channel(disabled, fake_rasa):
        runner = PollingRunner(runner_settings(settings, served.url))
        try:
            assert await runner.wait_for_rasa(30) is False  # Rasa up without a token: no point waiting
        finally:
            await runner.close()


async def test_webhook_mode_registers_the_webhook(settings: TelegramSettings, fake_api) -> None:
    url = "https://bot.example.org/webhooks/telegram/webhook"
    runner = PollingRunner(TelegramSettings(**{**settings.__dict__, "webhook_url": url}))
    try:
        await runner.setup_webhook()
    finally:
        await runner.close()
    [hook] = fake_api.calls_of("setWebhook")
    assert hook["url"] == url and hook["secret_token"] == settings.webhook_secret
    assert hook["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert len(fake_api.calls_of("setMyCommands")) == 1
    assert "getUpdates" not in fake_api.methods()


async def test_a_rejected_token_stops_the_runner_without_logging_it(
    settings: TelegramSettings, fake_api, caplog
) -> None:
    wrong = "999999:WRONG-token"
    polling = TelegramSettings(**{**settings.__dict__, "token": wrong})
    assert await amain(polling, once=True) == 2
    webhook = TelegramSettings(**{**polling.__dict__, "webhook_url": "https://bot.example.org/hook"})
    assert await amain(webhook) == 1
    assert "rejected" in caplog.text or "register" in caplog.text
    assert wrong not in caplog.text


def test_runner_without_token_exits_with_a_message(monkeypatch, caplog) -> None:
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    assert main([]) == 2
    assert "TELEGRAM_TOKEN is not set" in caplog.text


async def test_python_m_bot_telegram_process(
    channel_server: ChannelServer, settings: TelegramSettings, fake_api, fake_rasa: FakeRasa, tmp_path: Path
) -> None:
    """What `make run` starts: the real command, configured only by environment variables."""
    fake_api.queue_update(tg.command(1, CHAT, "/start"), tg.text(2, CHAT, "e muon chet"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_TOKEN": fake_api.token,
        "TELEGRAM_API_URL": fake_api.root_url,
        "TELEGRAM_WEBHOOK_SECRET": settings.webhook_secret,
        "TELEGRAM_STATE_DB": str(settings.state_db),
        "RASA_URL": channel_server.url,
    }
    env.pop("TELEGRAM_WEBHOOK_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.telegram",
        "--once",
        cwd=str(tmp_path),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, output.decode()
    assert fake_rasa.texts == ["/greet", "e muon chet"]
    replies = fake_api.sent_texts(CHAT)
    assert len(replies) == 2 and "111" in replies[1]
    log = output.decode()
    assert "muon chet" not in log and fake_api.token not in log


async def test_runner_process_stops_cleanly_on_sigterm(
    settings: TelegramSettings, fake_api, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_TOKEN": fake_api.token,
        "TELEGRAM_API_URL": fake_api.api_url,
        "TELEGRAM_STATE_DB": str(settings.state_db),
        "RASA_URL": f"http://127.0.0.1:{free_port()}",
    }
    env.pop("TELEGRAM_WEBHOOK_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.telegram",
        "--wait-for-rasa",
        "0",
        cwd=str(tmp_path),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await fake_api.wait_for("getUpdates", timeout=30)  # now in a long poll
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
