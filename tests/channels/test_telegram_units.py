"""Fast tests of the Telegram helpers: settings, splitting, keyboards, classification, state, retries."""

from __future__ import annotations

import datetime as dtm
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram import texts
from bot.telegram.client import TelegramSender, retry_after_seconds
from bot.telegram.format import (
    MAX_CALLBACK_DATA_BYTES,
    build_keyboard,
    resolve_callback_data,
    split_text,
    utf16_len,
)
from bot.telegram.settings import TelegramSettings, derive_secret, normalise_api_url
from bot.telegram.state import LEASE_SECONDS, Claim, TelegramState, dedupe_key
from bot.telegram.updates import Kind, classify, command_payload
from tests.support import fake_bot_api as tg
from tests.support.telegram_harness import CHAT, GROUP, long_reply


# --- settings -------------------------------------------------------------------------------
def test_settings_disabled_without_token() -> None:
    settings = TelegramSettings.from_env({})
    assert not settings.enabled
    assert settings.webhook_secret == ""
    assert settings.api_url == "https://api.telegram.org/bot"
    assert str(settings.state_db) == "var/telegram.sqlite3"
    assert settings.rasa_url == "http://localhost:5005"


def test_settings_from_env_and_secret_derivation() -> None:
    env = {
        "TELEGRAM_TOKEN": tg.TOKEN,
        "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
        "RASA_URL": "http://r:5005/",
    }
    settings = TelegramSettings.from_env(env)
    assert settings.enabled and settings.bot_id == tg.BOT_ID
    assert settings.api_url == "http://127.0.0.1:8081/bot"
    assert settings.file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.rasa_url == "http://r:5005"
    # Without TELEGRAM_WEBHOOK_SECRET both processes derive the same valid secret from the token.
    assert settings.webhook_secret == derive_secret(tg.TOKEN) == TelegramSettings.from_env(env).webhook_secret
    assert len(settings.webhook_secret) == 64 and settings.webhook_secret.isalnum()
    explicit = TelegramSettings.from_env({**env, "TELEGRAM_WEBHOOK_SECRET": "abc-DEF_1"})
    assert explicit.webhook_secret == "abc-DEF_1"


def test_settings_never_show_token_and_reject_bad_secret() -> None:
    settings = TelegramSettings.from_env({"TELEGRAM_TOKEN": tg.TOKEN})
    assert tg.TOKEN not in repr(settings)
    assert settings.webhook_secret not in repr(settings)
    assert settings.redact(f"url /bot{tg.TOKEN}/x") == "url /bot<token>/x"
    with pytest.raises(ValueError):
        TelegramSettings.from_env({"TELEGRAM_TOKEN": tg.TOKEN, "TELEGRAM_WEBHOOK_SECRET": "has space"})


@pytest.mark.parametrize(
    "given, expected",
    [
        (None, "https://api.telegram.org/bot"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/bot"),
        ("http://127.0.0.1:9000/bot", "http://127.0.0.1:9000/bot"),
        ("http://h/x/bot{token}/", "http://h/x/bot{token}"),
    ],
)
def test_api_url_normalisation(given: str | None, expected: str) -> None:
    assert normalise_api_url(given) == expected


# --- splitting ------------------------------------------------------------------------------
def test_short_text_is_one_message() -> None:
    assert split_text("  Chào bạn!  ") == ["Chào bạn!"]
    assert split_text("") == []


def test_6000_characters_split_at_sentence_boundaries() -> None:
    text = long_reply(6000)
    chunks = split_text(text)
    assert len(chunks) >= 2
    assert all(utf16_len(c) <= 4096 for c in chunks)
    assert all(c.endswith(".") for c in chunks)  # every cut is after a full stop
    assert " ".join(chunks) == text


def test_paragraph_break_preferred_and_emoji_counted_in_utf16() -> None:
    para = "Câu một. " * 300
    text = para.strip() + "\n\n" + para.strip()
    chunks = split_text(text)
    assert chunks == [para.strip(), para.strip()]
    emoji = "😀" * 3000  # 6000 UTF-16 units, no separator at all: hard cut, never inside a pair
    parts = split_text(emoji)
    assert [utf16_len(p) for p in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == emoji


# --- keyboards ------------------------------------------------------------------------------
def test_buttons_become_inline_keyboard_and_long_payloads_are_stored(tmp_path: Path) -> None:
    state = TelegramState(tmp_path / "s.sqlite3", 1)
    long_payload = '/inform{"topic": "' + "mat khau va tai khoan " * 5 + '"}'
    keyboard = build_keyboard(
        [
            {"title": "Mẹo an toàn", "payload": "/ask_tip"},
            {"title": "Take It Down", "url": "https://takeitdown.ncmec.org"},
            {"title": "Dài", "payload": long_payload},
            {"title": "", "payload": ""},  # nothing to show: skipped
        ],
        state.put_payload,
    )
    assert keyboard is not None
    rows = keyboard.inline_keyboard
    assert [row[0].text for row in rows] == ["Mẹo an toàn", "Take It Down", "Dài"]
    assert rows[0][0].callback_data == "/ask_tip"
    assert rows[1][0].url == "https://takeitdown.ncmec.org"
    stored = rows[2][0].callback_data
    assert isinstance(stored, str) and len(stored.encode()) <= MAX_CALLBACK_DATA_BYTES
    assert resolve_callback_data(stored, state.get_payload) == long_payload
    assert build_keyboard([], state.put_payload) is None


# --- classification -------------------------------------------------------------------------
def parse(data: dict[str, Any]) -> Update:
    return Update.de_json(data, None)


@pytest.mark.parametrize(
    "command, payload",
    [
        ("/start", "/greet"),
        ("/start ref123", "/greet"),
        ("/menu", "/greet"),
        ("/help", "/help"),
        ("/111", "/ask_hotline"),
        ("/xoadulieu", "/delete_data"),
        (f"/start@{tg.BOT_USERNAME}", "/greet"),
        ("/HELP", "/help"),
        ("/disclose_self_harm", "/help"),  # no intent injection through made-up commands
        ('/greet{"x": 1}', "/help"),
    ],
)
def test_commands_map_to_intent_payloads(command: str, payload: str) -> None:
    inbound = classify(parse(tg.command(1, CHAT, command)), tg.BOT_ID, tg.BOT_USERNAME)
    assert (inbound.kind, inbound.text, inbound.via) == (Kind.TEXT, payload, "command")


def test_command_for_another_bot_is_not_ours() -> None:
    assert command_payload("/start@other_bot", tg.BOT_USERNAME) is None


@pytest.mark.parametrize(
    "update, kind, reply",
    [
        (tg.sticker(1, CHAT), Kind.STICKER, texts.STICKER),
        (tg.photo(1, CHAT), Kind.MEDIA, texts.MEDIA_PRIVACY),
        (tg.document(1, CHAT), Kind.MEDIA, texts.MEDIA_PRIVACY),
        (tg.voice(1, CHAT), Kind.VOICE, texts.VOICE),
        (tg.location(1, CHAT), Kind.LOCATION, texts.LOCATION),
        (tg.contact(1, CHAT), Kind.CONTACT, texts.CONTACT),
    ],
)
def test_non_text_messages_get_the_channels_own_reply(update: dict, kind: Kind, reply: str) -> None:
    inbound = classify(parse(update), tg.BOT_ID, tg.BOT_USERNAME)
    assert (inbound.kind, inbound.reply, inbound.text) == (kind, reply, None)
    assert "111" in reply


def fixed_texts() -> dict[str, str]:
    """Every fixed text a child channel sends on its own: each text constant of the module, and the
    group pointer (the command payloads are not texts: "/help")."""
    found = {
        name: value
        for name, value in vars(texts).items()
        if name.isupper() and isinstance(value, str) and not value.startswith("/")
    }
    return {
        **found,
        "group_pointer(x_bot)": texts.group_pointer("x_bot"),
        "group_pointer()": texts.group_pointer(None),
    }


def test_every_fixed_text_names_111_and_media_text_names_take_it_down() -> None:
    found = fixed_texts()
    assert {"UNAVAILABLE", "EMPTY", "TOO_LONG", "FLOOD", "MEDIA_PRIVACY", "STICKER", "VOICE"} <= set(found)
    for name, text in found.items():
        assert "111" in text, name
    assert len(set(found.values())) == len(found), "two fixed texts say the same thing: keep one"
    assert "Take It Down" in texts.MEDIA_PRIVACY and "takeitdown.ncmec.org" in texts.MEDIA_PRIVACY
    assert "t.me/x_bot" in texts.group_pointer("x_bot")


def test_photo_caption_goes_to_rasa() -> None:
    inbound = classify(parse(tg.photo(1, CHAT, caption="nó đòi ảnh nữa")), tg.BOT_ID, tg.BOT_USERNAME)
    assert (inbound.kind, inbound.text, inbound.via) == (Kind.MEDIA, "nó đòi ảnh nữa", "caption")


@pytest.mark.parametrize(
    "update, addressed",
    [
        (tg.text(1, GROUP, "hôm nay học gì", chat_type="supergroup"), False),
        (tg.text(1, GROUP, "/start", chat_type="group"), False),  # bare command: could be any bot's
        (tg.text(1, GROUP, f"/start@{tg.BOT_USERNAME}", chat_type="group"), True),
        (tg.text(1, GROUP, f"ê @{tg.BOT_USERNAME} giúp với", chat_type="group"), True),
        (tg.reply_to_bot(1, GROUP, "bạn ơi"), True),
        (tg.photo(1, GROUP) | {}, False),
    ],
)
def test_group_messages_only_when_addressed(update: dict, addressed: bool) -> None:
    if "photo" in update.get("message", {}):
        update["message"]["chat"] = {"id": GROUP, "type": "group", "title": "Lớp"}
    inbound = classify(parse(update), tg.BOT_ID, tg.BOT_USERNAME)
    assert inbound.kind is (Kind.GROUP if addressed else Kind.IGNORE)
    assert inbound.text is None  # nothing said in a group ever reaches Rasa


def test_callbacks_edits_and_service_updates() -> None:
    press = classify(parse(tg.callback(1, CHAT, "/ask_tip")), tg.BOT_ID)
    assert (press.kind, press.callback_data, press.callback_query_id) == (Kind.CALLBACK, "/ask_tip", "cq1")
    edited = classify(parse(tg.text(2, CHAT, "e muon chet", edited=True)), tg.BOT_ID)
    assert (edited.kind, edited.text, edited.edited) == (Kind.TEXT, "e muon chet", True)
    service = classify(parse(tg.message_update(3, CHAT, new_chat_title="x")), tg.BOT_ID)
    assert service.kind is Kind.IGNORE
    post = classify(
        parse(
            {
                "update_id": 4,
                "channel_post": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": -1, "type": "channel"},
                    "text": "x",
                },
            }
        )
    )
    assert post.kind is Kind.IGNORE


# --- state ----------------------------------------------------------------------------------
def test_state_claims_are_pending_until_done_and_survive_restart(tmp_path: Path) -> None:
    path = tmp_path / "var" / "telegram.sqlite3"
    state = TelegramState(path, tg.BOT_ID)
    assert state.claim("m:1:10") is Claim.NEW
    assert state.claim("m:1:10") is Claim.BUSY  # in hand, not yet handled
    state.done("m:1:10")
    assert state.claim("m:1:10") is Claim.DUPLICATE
    assert TelegramState(path, tg.BOT_ID).claim("m:1:10") is Claim.DUPLICATE  # a restart remembers
    assert TelegramState(path, 999).claim("m:1:10") is Claim.NEW  # another bot's keys are separate
    state.release("m:1:10")
    assert state.claim("m:1:10") is Claim.NEW


def test_a_dead_handlers_claim_expires(tmp_path: Path) -> None:
    """Issue 12 (7): a crash mid-message must not leave the message marked handled forever."""
    state = TelegramState(tmp_path / "telegram.sqlite3", tg.BOT_ID)
    assert state.claim("m:1:10", now=1000.0) is Claim.NEW  # then the process dies
    assert state.claim("m:1:10", now=1000.0 + LEASE_SECONDS - 1) is Claim.BUSY
    assert state.claim("m:1:10", now=1000.0 + LEASE_SECONDS + 1) is Claim.NEW  # taken over


def test_dedupe_keys_never_use_the_update_id_alone() -> None:
    """Issue 12 (1): update ids restart (maybe lower) after a quiet week; message ids do not repeat."""
    first = parse(tg.text(100, CHAT, "xin chao", message_id=5))
    after_a_quiet_week = parse(tg.text(100, CHAT, "e muon chet", message_id=9))
    assert dedupe_key(first) != dedupe_key(after_a_quiet_week)
    assert dedupe_key(first) == dedupe_key(parse(tg.text(7, CHAT, "xin chao", message_id=5)))
    assert dedupe_key(parse(tg.text(8, CHAT, "xin chao", message_id=5, edited=True))) != dedupe_key(first)
    assert dedupe_key(parse(tg.callback(100, CHAT, "/ask_tip"))) == "cb:cq100"
    assert dedupe_key(parse(tg.text(100, GROUP, "x", chat_type="group", message_id=5))) != dedupe_key(first)


# --- retries --------------------------------------------------------------------------------
class Flaky:
    """A Bot method that fails with the given errors, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "sent"


def make_sender(sleeps: list[float], **kwargs: Any) -> TelegramSender:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return TelegramSender(bot=None, sleep=sleep, **kwargs)  # type: ignore[arg-type]


async def test_retry_after_is_honoured() -> None:
    sleeps: list[float] = []
    flaky = Flaky(RetryAfter(3), RetryAfter(dtm.timedelta(seconds=2)))
    assert await make_sender(sleeps).call(flaky) == "sent"
    assert sleeps == [3.0, 2.0] and flaky.calls == 3
    assert retry_after_seconds(RetryAfter(7)) == 7.0


async def test_network_errors_back_off_and_tries_are_bounded() -> None:
    sleeps: list[float] = []
    flaky = Flaky(
        TimedOut(), NetworkError("Bad Gateway"), NetworkError("x"), NetworkError("x"), NetworkError("x")
    )
    with pytest.raises(NetworkError):
        await make_sender(sleeps, max_tries=4).call(flaky)
    assert flaky.calls == 4
    assert sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("error", [BadRequest("chat not found"), Forbidden("bot was blocked by the user")])
async def test_client_errors_are_not_retried(error: Exception) -> None:
    sleeps: list[float] = []
    flaky = Flaky(error)
    with pytest.raises(type(error)):
        await make_sender(sleeps).call(flaky)
    assert flaky.calls == 1 and sleeps == []
