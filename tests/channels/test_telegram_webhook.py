"""The channel's webhook route, served by Sanic, talking to the fake Bot API through python-telegram-bot.

Rasa is stood in by `FakeRasa`, which answers with the real domain.yml responses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from telegram.error import NetworkError

from bot.channels.telegram import TelegramInput, TelegramOutput, UpdateBusy
from bot.telegram import texts
from bot.telegram.format import utf16_len
from bot.telegram.settings import TelegramSettings
from tests.support import fake_bot_api as tg
from tests.support.telegram_harness import (
    CHAT,
    CRASH_TRIGGER,
    GROUP,
    LONG_REPLY_TRIGGER,
    ChannelServer,
    FakeRasa,
    long_reply,
    serve_channel,
)


def keyboard_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(row[0]["text"], row[0].get("callback_data") or row[0].get("url")) for row in rows]


async def test_start_greets_and_shows_the_menu(
    channel_server: ChannelServer, fake_api, fake_rasa: FakeRasa
) -> None:
    reply = await channel_server.post(tg.command(1, CHAT, "/start"))
    assert reply.status_code == 200 and reply.json() == {"status": "ok"}

    [message] = fake_rasa.messages
    assert (message.text, message.sender_id, message.input_channel) == ("/greet", f"tg:{CHAT}", "telegram")
    assert message.metadata == {
        "telegram": {"update_id": 1, "chat_type": "private", "via": "command", "edited": False}
    }

    greet = fake_rasa.responses["utter_greet"]
    [sent] = fake_api.sent_messages(CHAT)
    assert sent["text"] == greet["text"].strip()
    assert "parse_mode" not in sent  # plain text: nothing to escape, nothing to break
    assert keyboard_of(sent) == [(b["title"], b["payload"]) for b in greet["buttons"]]
    # "typing…" goes out before the reply
    methods = fake_api.methods()
    assert methods.index("sendChatAction") < methods.index("sendMessage")
    assert fake_api.calls_of("sendChatAction")[0]["action"] == "typing"


@pytest.mark.parametrize(
    "command, payload",
    [("/menu", "/greet"), ("/help", "/help"), ("/111", "/ask_hotline"), ("/xoadulieu", "/delete_data")],
)
async def test_commands_reach_rasa_as_intents(
    channel_server: ChannelServer, fake_api, fake_rasa: FakeRasa, command: str, payload: str
) -> None:
    await channel_server.post(tg.command(1, CHAT, command))
    assert fake_rasa.texts == [payload]
    assert len(fake_api.sent_messages(CHAT)) == 1


async def test_disclosure_reply_contains_111(
    channel_server: ChannelServer, fake_api, fake_rasa: FakeRasa
) -> None:
    await channel_server.post(tg.text(1, CHAT, "e muon chet"))
    assert fake_rasa.texts == ["e muon chet"]
    [sent] = fake_api.sent_messages(CHAT)
    assert "111" in sent["text"]
    assert sent["text"] == fake_rasa.responses["utter_self_harm"]["text"].strip()


async def test_button_press_is_answered_and_its_payload_fed(
    channel_server: ChannelServer, fake_api, fake_rasa: FakeRasa
) -> None:
    await channel_server.post(tg.callback(5, CHAT, "/ask_tip"))
    assert fake_api.calls_of("answerCallbackQuery") == [{"callback_query_id": "cq5"}]
    assert fake_rasa.texts == ["/ask_tip"]
    assert fake_rasa.messages[0].metadata["telegram"]["via"] == "button"
    methods = fake_api.methods()
    assert methods.index("answerCallbackQuery") < methods.index("sendMessage")
    assert len(fake_api.sent_messages(CHAT)) == 1


async def test_long_button_payload_round_trip(
    channel_server: ChannelServer, fake_api, fake_rasa: FakeRasa
) -> None:
    long_payload = '/ask_tip{"topic": "' + "bao ve tai khoan mang xa hoi " * 4 + '"}'
    output = channel_server.channel.get_output_channel()
    await output.send_response(
        f"tg:{CHAT}", {"text": "Chọn nhé", "buttons": [{"title": "Mẹo", "payload": long_payload}]}
    )
    [(_, data)] = keyboard_of(fake_api.sent_messages(CHAT)[0])
    assert len(data.encode()) <= 64
    await channel_server.post(tg.callback(6, CHAT, data))
    assert fake_rasa.texts == [long_payload]


async def test_sticker_gets_a_kind_reply_without_rasa(
    channel_server: ChannelServer, fake_api, fake_rasa
) -> None:
    await channel_server.post(tg.sticker(1, CHAT))
    assert fake_api.sent_texts(CHAT) == [texts.STICKER]
    assert fake_rasa.messages == []


@pytest.mark.parametrize("build", [tg.photo, tg.document, tg.voice, tg.location, tg.contact])
async def test_media_is_never_downloaded(channel_server: ChannelServer, fake_api, fake_rasa, build) -> None:
    await channel_server.post(build(1, CHAT))
    assert "getFile" not in fake_api.methods()
    assert not [p for p in fake_api.paths if "/file/" in p]
    [reply] = fake_api.sent_texts(CHAT)
    assert "111" in reply
    assert fake_rasa.messages == []


async def test_photo_reply_warns_and_caption_still_reaches_rasa(
    channel_server: ChannelServer, fake_api, fake_rasa: FakeRasa
) -> None:
    await channel_server.post(tg.photo(1, CHAT, caption="nó dọa tung ảnh này, e muon chet"))
    assert "getFile" not in fake_api.methods()
    privacy, answer = fake_api.sent_texts(CHAT)
    assert privacy == texts.MEDIA_PRIVACY
    for needle in ("đừng gửi ảnh", "111", "Take It Down", "takeitdown.ncmec.org", "dưới 18 tuổi"):
        assert needle in privacy
    assert fake_rasa.texts == ["nó dọa tung ảnh này, e muon chet"]
    assert "111" in answer


async def test_6000_character_reply_is_split(channel_server: ChannelServer, fake_api, fake_rasa) -> None:
    await channel_server.post(tg.text(1, CHAT, LONG_REPLY_TRIGGER))
    parts = fake_api.sent_texts(CHAT)
    assert len(parts) >= 2
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == long_reply()


async def test_same_update_twice_is_handled_once_even_after_restart(
    channel_server: ChannelServer, settings: TelegramSettings, fake_api, fake_rasa: FakeRasa
) -> None:
    update = tg.text(1, CHAT, "e muon chet")
    first = await channel_server.post(update)
    again = await channel_server.post(update)
    assert (first.json(), again.json()) == ({"status": "ok"}, {"status": "duplicate"})
    assert len(fake_api.sent_messages(CHAT)) == 1

    # A restart: a new channel instance on the same state database.
    restarted_rasa = FakeRasa()
    async for restarted in serve_channel(TelegramInput(settings), restarted_rasa):
        assert (await restarted.post(update)).json() == {"status": "duplicate"}
        assert (await restarted.post(tg.text(2, CHAT, "cam on"))).json() == {"status": "ok"}
    assert restarted_rasa.texts == ["cam on"]
    assert len(fake_api.sent_messages(CHAT)) == 2


async def test_429_is_retried_after_retry_after(channel_server: ChannelServer, fake_api, fake_rasa) -> None:
    fake_api.fail_next("sendMessage", status=429, retry_after=1)
    started = time.monotonic()
    reply = await channel_server.post(tg.text(1, CHAT, "e muon chet"))
    assert reply.json() == {"status": "ok"}
    attempts = [c for c in fake_api.calls if c.method == "sendMessage"]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert time.monotonic() - started >= 1.0
    assert "111" in fake_api.sent_texts(CHAT)[0]


async def test_wrong_or_missing_secret_is_rejected_with_403(
    channel_server: ChannelServer, fake_api, fake_rasa
) -> None:
    assert (await channel_server.post(tg.text(1, CHAT, "hi"), secret="wrong")).status_code == 403
    assert (await channel_server.post(tg.text(1, CHAT, "hi"), secret=None)).status_code == 403
    assert fake_rasa.messages == [] and fake_api.calls == []
    # the update was not consumed: with the right secret it is handled
    assert (await channel_server.post(tg.text(1, CHAT, "hi"))).status_code == 200


async def test_not_an_update_is_a_bad_request(channel_server: ChannelServer, fake_api) -> None:
    assert (await channel_server.post({"hello": 1})).status_code == 400
    reply = await channel_server.client.post(
        channel_server.webhook,
        content=b"{not json",
        headers={"X-Telegram-Bot-Api-Secret-Token": "test-secret_123"},
    )
    assert reply.status_code == 400
    assert fake_api.calls == []


async def test_rasa_failure_still_answers_with_111(
    channel_server: ChannelServer, fake_api, fake_rasa
) -> None:
    reply = await channel_server.post(tg.text(1, CHAT, CRASH_TRIGGER))
    assert reply.json() == {"status": "ok"}
    assert fake_api.sent_texts(CHAT) == [texts.UNAVAILABLE]


async def test_no_model_loaded_answers_with_111(settings: TelegramSettings, fake_api, fake_rasa) -> None:
    class NotReady:
        def is_ready(self) -> bool:
            return False

    channel = TelegramInput(settings)
    assert await channel.handle_update(tg.text(1, CHAT, "e muon chet"), fake_rasa, NotReady()) == "ok"
    assert fake_api.sent_texts(CHAT) == [texts.UNAVAILABLE]
    assert fake_rasa.messages == []
    await channel.sender.aclose()


async def test_telegram_down_releases_the_update_for_redelivery(
    settings: TelegramSettings, fake_api, fake_rasa
) -> None:
    channel = TelegramInput(settings)
    channel.sender.base_delay = 0.01
    for _ in range(channel.sender.max_tries * 2):
        fake_api.fail_next("sendMessage", status=502, retry_after=None)
    with pytest.raises(NetworkError):
        await channel.handle_update(tg.text(1, CHAT, "e muon chet"), fake_rasa)
    # Nothing reached the child, so the update is not marked handled: a redelivery is processed.
    assert await channel.handle_update(tg.text(1, CHAT, "e muon chet"), fake_rasa) == "ok"
    assert "111" in fake_api.sent_texts(CHAT)[0]
    await channel.sender.aclose()


async def test_groups_get_only_a_pointer_to_a_private_chat(
    channel_server: ChannelServer, fake_api, fake_rasa: FakeRasa
) -> None:
    await channel_server.post(tg.text(1, GROUP, "tui bi bat nat", chat_type="supergroup"))
    assert fake_api.sent_messages() == []  # not addressed: silence in the group

    await channel_server.post(tg.text(2, GROUP, f"@{tg.BOT_USERNAME} e muon chet", chat_type="supergroup"))
    await channel_server.post(tg.reply_to_bot(3, GROUP, "giup voi"))
    await channel_server.post(tg.text(4, GROUP, f"/start@{tg.BOT_USERNAME}", chat_type="group"))
    pointer = texts.group_pointer(tg.BOT_USERNAME)
    assert fake_api.sent_texts(GROUP) == [pointer] * 3
    assert f"t.me/{tg.BOT_USERNAME}" in pointer and "111" in pointer
    assert fake_rasa.messages == []  # a case is never discussed in a group


async def test_edited_message_is_treated_as_new_text(
    channel_server: ChannelServer, fake_api, fake_rasa
) -> None:
    await channel_server.post(tg.text(1, CHAT, "e on"))
    await channel_server.post(tg.text(2, CHAT, "e muon chet", edited=True, message_id=11))
    assert fake_rasa.texts == ["e on", "e muon chet"]
    assert fake_rasa.messages[1].metadata["telegram"]["edited"] is True
    assert "111" in fake_api.sent_texts(CHAT)[1]


async def test_output_channel_pushes_later_messages(channel_server: ChannelServer, fake_api) -> None:
    output = channel_server.channel.get_output_channel()
    assert isinstance(output, TelegramOutput) and output.name() == "telegram"
    await output.send_response(
        f"tg:{CHAT}",
        {"text": "Tư vấn viên đã trả lời bạn.", "buttons": [{"title": "Trả lời", "payload": "/affirm"}]},
    )
    await output.send_response(f"tg:{CHAT}", {"custom": {"text": "Từ tư vấn viên"}})
    first, second = fake_api.sent_messages(CHAT)
    assert first["text"] == "Tư vấn viên đã trả lời bạn."
    assert keyboard_of(first) == [("Trả lời", "/affirm")]
    assert second["text"] == "Từ tư vấn viên"
    with pytest.raises(ValueError):
        await output.send_text_message("web:abc", "x")


async def test_disabled_channel_loads_and_answers_503(monkeypatch, fake_rasa, tmp_path: Path) -> None:
    for name in ("TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_URL", "TELEGRAM_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    channel = TelegramInput.from_credentials(None)
    assert channel.name() == "telegram" and not channel.settings.enabled
    assert channel.get_output_channel() is None
    async for served in serve_channel(channel, fake_rasa):
        assert (await served.post(tg.text(1, CHAT, "hi"))).status_code == 503
        health = await served.client.get(served.url + "/webhooks/telegram/")
        assert health.json() == {"status": "disabled"}
    assert fake_rasa.messages == []


async def test_settings_are_read_from_the_environment_when_built(
    monkeypatch, fake_api, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", fake_api.token)
    monkeypatch.setenv("TELEGRAM_API_URL", fake_api.root_url)
    monkeypatch.setenv("TELEGRAM_STATE_DB", str(tmp_path / "state.sqlite3"))
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    channel = TelegramInput.from_credentials({})
    assert channel.settings.enabled and channel.settings.api_url == fake_api.api_url
    fake = FakeRasa()
    async for served in serve_channel(channel, fake):
        secret = channel.settings.webhook_secret
        assert (await served.post(tg.command(1, CHAT, "/start"), secret=secret)).status_code == 200
    assert fake.texts == ["/greet"] and len(fake_api.sent_messages(CHAT)) == 1


async def test_no_message_text_is_logged(channel_server: ChannelServer, fake_api, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    await channel_server.post(tg.text(1, CHAT, "e muon chet vi bi doa tung anh"))
    await channel_server.post(tg.text(2, CHAT, CRASH_TRIGGER))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "muon chet" not in logged and CRASH_TRIGGER not in logged
    assert "Mình" not in logged  # nor the bot's replies
    assert tg.TOKEN not in logged
    assert str(CHAT) in logged  # ids only, at DEBUG
    assert all(r.levelno == logging.DEBUG for r in caplog.records if str(CHAT) in r.getMessage())


async def test_a_message_cut_short_mid_handling_is_handled_on_redelivery(
    settings: TelegramSettings, fake_api, fake_rasa
) -> None:
    """Issue 12 (7): an update is marked handled only once handled (here: cancelled by a shutdown)."""
    started = asyncio.Event()

    async def hangs(message: Any) -> None:
        started.set()
        await asyncio.Event().wait()

    channel = TelegramInput(settings)
    first = asyncio.ensure_future(channel.handle_update(tg.text(1, CHAT, "e muon chet"), hangs))
    await asyncio.wait_for(started.wait(), timeout=5)
    # meanwhile a second delivery of the same message is refused (the caller retries or says 111)
    with pytest.raises(UpdateBusy):
        await channel.handle_update(tg.text(1, CHAT, "e muon chet"), fake_rasa)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # Telegram (or the runner, after a restart) delivers it again: it is handled this time.
    assert await channel.handle_update(tg.text(1, CHAT, "e muon chet"), fake_rasa) == "ok"
    assert fake_rasa.texts == ["e muon chet"] and "111" in fake_api.sent_texts(CHAT)[0]
    assert await channel.handle_update(tg.text(1, CHAT, "e muon chet"), fake_rasa) == "duplicate"
    await channel.sender.aclose()


async def test_a_front_door_failure_still_answers_with_111(
    settings: TelegramSettings, fake_api, fake_rasa, caplog
) -> None:
    """Issue 12 (7): the relay step before Rasa (front door) failing ends in 111 and an ERROR log."""
    channel = TelegramInput(settings)

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("case store down")

    channel.front_door.admit = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        assert await channel.handle_update(tg.text(1, CHAT, "e muon chet"), fake_rasa) == "ok"
    assert fake_api.sent_texts(CHAT) == [texts.UNAVAILABLE]
    assert any(r.levelno == logging.ERROR and "111" in r.getMessage() for r in caplog.records)
    await channel.sender.aclose()
