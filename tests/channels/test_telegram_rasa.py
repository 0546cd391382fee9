"""End to end with the real bot: polling runner -> `rasa run` (trained model + action server) -> fake Bot API.

Slow (a trained model and two servers): `trained_model` comes from tests/conftest.py, whose
collection hook marks this test `slow`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bot.telegram import texts
from bot.telegram.runner import PollingRunner
from tests.support import fake_bot_api as tg
from tests.support.servers import free_port
from tests.support.telegram_harness import CHAT, ROOT, make_settings

BIN = Path(sys.executable).parent


async def wait_until_up(url: str, proc: asyncio.subprocess.Process, what: str, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"{what} exited with {proc.returncode}")
            try:
                reply = await client.get(url)
                if reply.status_code == 200:
                    return reply.json()
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
    raise RuntimeError(f"{what} did not start within {timeout}s")


async def stop(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
    for proc in procs:
        try:
            await asyncio.wait_for(proc.wait(), timeout=30)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def test_real_rasa_answers_a_disclosure_with_111_through_polling(
    trained_model: str, fake_api: tg.FakeBotAPI, tmp_path: Path
) -> None:
    port, actions_port = free_port(), free_port()
    settings = make_settings(fake_api, tmp_path / "telegram.sqlite3", rasa_url=f"http://127.0.0.1:{port}")
    (tmp_path / "credentials.yml").write_text("rest:\n\nbot.channels.telegram.TelegramInput:\n")
    (tmp_path / "endpoints.yml").write_text(
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp_path / 'tracker.db'}\n"
        f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "TELEGRAM_TOKEN": fake_api.token,
        "TELEGRAM_API_URL": fake_api.root_url,
        "TELEGRAM_WEBHOOK_SECRET": settings.webhook_secret,
        "TELEGRAM_STATE_DB": str(settings.state_db),
    }
    env.pop("TELEGRAM_WEBHOOK_URL", None)
    procs: list[asyncio.subprocess.Process] = []
    try:
        with (
            open(tmp_path / "actions.log", "wb") as actions_log,  # noqa: ASYNC230 - before any await
            open(tmp_path / "rasa.log", "wb") as rasa_log,  # noqa: ASYNC230
        ):
            actions = await asyncio.create_subprocess_exec(
                str(BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(actions_port),
                cwd=str(ROOT),
                env=env,
                stdout=actions_log,
                stderr=asyncio.subprocess.STDOUT,
            )
            procs.append(actions)
            rasa = await asyncio.create_subprocess_exec(
                str(BIN / "rasa"),
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                str(port),
                "--model",
                trained_model,
                "--credentials",
                str(tmp_path / "credentials.yml"),
                "--endpoints",
                str(tmp_path / "endpoints.yml"),
                cwd=str(ROOT),
                env=env,
                stdout=rasa_log,
                stderr=asyncio.subprocess.STDOUT,
            )
            procs.append(rasa)
            await wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions, "action server")
            await wait_until_up(f"{settings.rasa_url}/status", rasa, "rasa")
            health = await wait_until_up(f"{settings.rasa_url}/webhooks/telegram/", rasa, "telegram route")
            assert health == {"status": "ok"}

            fake_api.queue_update(tg.command(1, CHAT, "/start"), tg.text(2, CHAT, "e muon chet"))
            runner = PollingRunner(settings, poll_timeout=1)
            try:
                assert await runner.run(once=True) == 0
            finally:
                await runner.close()

            greeting, *disclosure = fake_api.sent_texts(CHAT)
            assert greeting != texts.UNAVAILABLE
            assert fake_api.sent_messages(CHAT)[0].get("reply_markup")  # the menu buttons
            assert disclosure and texts.UNAVAILABLE not in disclosure
            assert any("111" in reply for reply in disclosure)

            async with httpx.AsyncClient(timeout=60) as client:
                tracker = (await client.get(f"{settings.rasa_url}/conversations/tg:{CHAT}/tracker")).json()
                assert tracker["latest_input_channel"] == "telegram"
                assert tracker["slots"]["risk_level"] == "imminent"

                # Rasa pushes a message later (a counsellor's answer, a reminder) through the channel.
                before = len(fake_api.sent_messages(CHAT))
                pushed = await client.post(
                    f"{settings.rasa_url}/conversations/tg:{CHAT}/trigger_intent",
                    params={"output_channel": "latest"},
                    json={"name": "greet"},
                )
                assert pushed.status_code == 200, pushed.text
            [pushed_text] = fake_api.sent_texts(CHAT)[before:]
            assert pushed_text and pushed_text != texts.UNAVAILABLE

            # Teaching through the menu buttons: quiz -> age band -> first question -> an answer.
            async def updates(*queued: dict[str, Any]) -> list[dict[str, Any]]:
                before = len(fake_api.sent_messages(CHAT))
                fake_api.queue_update(*queued)
                runner = PollingRunner(settings, poll_timeout=1)
                try:
                    await runner.run(once=True)
                finally:
                    await runner.close()
                return fake_api.sent_messages(CHAT)[before:]

            def button(messages: list[dict[str, Any]], title: str) -> str:
                for message in messages:
                    markup = message.get("reply_markup") or {}
                    markup = json.loads(markup) if isinstance(markup, str) else markup
                    for row in markup.get("inline_keyboard", []):
                        for b in row:
                            if title in b["text"]:
                                return b["callback_data"]
                raise AssertionError(f"no button {title!r} in {messages}")

            menu = await updates(tg.command(10, CHAT, "/menu"))
            asked = await updates(tg.callback(11, CHAT, button(menu, "Làm quiz")))
            assert any("bao nhiêu tuổi" in m["text"] for m in asked)
            first = await updates(tg.callback(12, CHAT, button(asked, "6-10 tuổi")))
            assert any("Câu 1/" in m["text"] for m in first)
            answered = await updates(tg.callback(13, CHAT, button(first, "")))
            assert any("Câu 2/" in m["text"] for m in answered)
            # A parent's free-text question about an app gets the app's real minimum age.
            [guide] = await updates(tg.text(14, CHAT, "con tôi 10 tuổi chơi TikTok được không?"))
            assert "13 tuổi" in guide["text"] and "chưa đủ tuổi" in guide["text"]
    finally:
        await stop(procs)
