"""The front door of every child channel: empty, huge and flooding messages."""

from __future__ import annotations

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import front_door
from bot.channels.front_door import FrontDoor, RateLimiter
from bot.telegram import texts


def message(text, sender: str = "web-1") -> UserMessage:
    return UserMessage(text, CollectingOutputChannel(), sender, input_channel="rest")


async def admit(door: FrontDoor, text, sender: str = "web-1"):
    msg = message(text, sender)
    admitted = await door.admit(msg)
    return admitted, [m["text"] for m in msg.output_channel.messages]


@pytest.fixture
def door(monkeypatch, tmp_path) -> FrontDoor:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    monkeypatch.setenv("RATE_LIMIT_MESSAGES", "5")
    monkeypatch.setenv("RATE_LIMIT_SECONDS", "60")
    return FrontDoor()


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\x00\x00", None])
async def test_an_empty_message_gets_a_kind_reply_with_111(door, text) -> None:
    admitted, said = await admit(door, text)
    assert admitted is None and said == [texts.EMPTY] and "111" in said[0]


async def test_a_huge_message_is_cut_with_a_clear_reply_and_still_read(door) -> None:
    text = "em muốn chết " + "a" * 100_000
    admitted, said = await admit(door, text)
    assert said == [texts.TOO_LONG] and "111" in said[0]
    assert (
        admitted is not None
        and len(admitted.text) == door.max_chars
        and admitted.text.startswith("em muốn chết")
    )


async def test_nul_bytes_are_dropped(door) -> None:
    admitted, said = await admit(door, "xin\x00 chào")
    assert said == [] and admitted.text == "xin chào"


async def test_a_flood_gets_one_kind_message_and_a_disclosure_still_passes(door) -> None:
    results = [await admit(door, f"spam {i}") for i in range(12)]
    passed = [a for a, _ in results if a is not None]
    replies = [s for _, said in results for s in said]
    assert len(passed) == 5 and replies == [texts.FLOOD] and "111" in replies[0]
    admitted, said = await admit(door, "em sợ lắm, có người dọa em")  # a risk cue is never dropped
    assert admitted is not None and said == []
    assert (await admit(door, "spam again", sender="web-2"))[0] is not None  # other senders are not slowed


def test_the_window_slides() -> None:
    limiter = RateLimiter(limit=2, seconds=10)
    assert limiter.allow("a", now=0) and limiter.allow("a", now=1) and not limiter.allow("a", now=2)
    assert limiter.allow("a", now=11.5)


async def test_a_relay_failure_before_rasa_still_answers_with_111(door, monkeypatch, caplog) -> None:
    """Issue 12 (7): the 111 fallback covered the Rasa call but not the relay step before it."""

    async def broken_relay(*_, **__):
        raise RuntimeError("case store down")

    async def rasa(message):
        raise AssertionError("Rasa must not see a message the front door failed on")

    monkeypatch.setattr(front_door, "relay_if_claimed", broken_relay)
    msg = message("em sợ lắm")
    with caplog.at_level("ERROR"):
        assert await door.wrap(rasa)(msg) is None
    assert [m["text"] for m in msg.output_channel.messages] == [texts.UNAVAILABLE]
    assert "111" in texts.UNAVAILABLE
    assert any(r.levelname == "ERROR" and "front door" in r.getMessage() for r in caplog.records)
