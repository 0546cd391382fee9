"""A web chat child who is offline does not lose what counsellors send (issue 12, finding 5), and a
message is marked handled only once it was handled (finding 7). python-socketio clients, no browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import socketio
from rasa.core.channels.channel import register
from rasa.shared.core.events import UserUttered
from sanic import Sanic

from bot.channels import webchat
from bot.channels.counsellor import CounsellorInput
from bot.channels.webchat import WebChatInput
from bot.handoff.store import shared_store
from bot.handoff.texts import COUNSELLOR_PREFIX
from bot.telegram.texts import UNAVAILABLE
from tests.support.handoff_harness import API_TOKEN, StubAgent
from tests.support.servers import free_port, need_redis

SID_A = "a" * 32
SID_B = "b" * 32


class Widget:
    """The page's side of the protocol: joins its conversation and, like widget.js, confirms every
    kept message it shows (`bot_received`); `confirms=False` is a socket whose page is gone."""

    def __init__(self, url: str, confirms: bool = True) -> None:
        self.url, self.confirms = url, confirms
        self.sio = socketio.AsyncClient(reconnection=False)
        self.bot: list[Any] = []
        self.seen: set = set()
        self.sio.on("bot_uttered", self._on_bot)

    async def _on_bot(self, data: Any) -> None:
        kept_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(kept_id, int):
            if self.confirms:
                await self.sio.emit("bot_received", {"ids": [kept_id]})
            if kept_id in self.seen:  # like widget.js: a replayed message is shown once
                return
            self.seen.add(kept_id)
        self.bot.append(data)

    async def join(self, session_id: str) -> Widget:
        await self.sio.connect(self.url, socketio_path="/socket.io", transports=["polling"])
        confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.sio.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        await self.sio.emit("session_request", {"session_id": session_id})
        assert await asyncio.wait_for(confirmed, 10) == session_id
        return self

    async def say(self, text: str, session_id: str, message_id: str) -> Any:
        data = {"message": text, "session_id": session_id, "message_id": message_id}
        return await self.sio.call("user_uttered", data, timeout=10)

    async def leave(self) -> None:
        await self.sio.disconnect()

    def texts(self) -> list[str]:
        return [m.get("text") for m in self.bot if isinstance(m, dict)]


async def until(check: Any, what: str, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Served:
    def __init__(self, url: str, web: WebChatInput, agent: StubAgent) -> None:
        self.url, self.web, self.agent = url, web, agent


@contextlib.asynccontextmanager
async def instance() -> AsyncIterator[Served]:
    """Web chat + counsellor API mounted like `rasa run` mounts them, with a stand-in agent."""
    Sanic.test_mode = True
    app = Sanic(f"webchat_offline_{uuid.uuid4().hex[:8]}")
    agent = StubAgent()
    app.ctx.agent = agent
    web = WebChatInput.from_credentials({})
    counsellor = CounsellorInput()
    register([web, counsellor], app, "/webhooks/")
    app.ctx.input_channels = [web, counsellor]
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.after_start()
    try:
        yield Served(f"http://127.0.0.1:{port}", web, agent)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        listener = getattr(web.sio.manager, "thread", None)  # the Redis manager's subscriber task
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """The case store (and the web chat's inbox) in a database of the test's own."""
    for key, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'handoff.db'}",
        "COUNSELLOR_API_TOKEN": API_TOKEN,
        "TELEGRAM_TOKEN": "",
        "HANDOFF_TICK_SECONDS": "3600",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def served(settings: None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    monkeypatch.delenv("SOCKETIO_REDIS_URL", raising=False)  # one process: python-socketio's own manager
    monkeypatch.setattr(webchat, "ACK_WAIT_SECONDS", 1.0)
    async with instance() as one:
        yield one


async def claimed_web_case(served: Served) -> int:
    """A web chat child's case, claimed by counsellor Lan through the API."""
    tracker = await served.agent.tracker_store.get_or_create_tracker(SID_A)
    tracker.update(UserUttered("em bị dọa", input_channel="webchat"))
    await served.agent.tracker_store.save(tracker)
    case, _ = shared_store().open_case(SID_A, "webchat", "high", "disclose_threat", ["em bị dọa"])
    async with httpx.AsyncClient(
        base_url=served.url, headers={"Authorization": f"Bearer {API_TOKEN}"}
    ) as api:
        claimed = await api.post(f"/webhooks/counsellor/cases/{case.id}/claim", json={"counsellor": "Lan"})
        assert claimed.status_code == 200
    return case.id


async def counsellor_says(served: Served, case_id: int, text: str) -> dict:
    async with httpx.AsyncClient(
        base_url=served.url, headers={"Authorization": f"Bearer {API_TOKEN}"}
    ) as api:
        sent = await api.post(
            f"/webhooks/counsellor/cases/{case_id}/message", json={"counsellor": "Lan", "text": text}
        )
    assert sent.status_code == 200, sent.text
    return sent.json()


async def test_counsellor_messages_to_an_offline_child_are_queued_and_replayed(served: Served) -> None:
    """Issue 12 (5): an empty socket.io room used to swallow the message while the API said delivered."""
    child = await Widget(served.url).join(SID_A)
    case_id = await claimed_web_case(served)  # the "claimed" notice reaches the connected child
    await until(lambda: len(child.bot) == 1, "the claimed notice")
    await child.leave()  # the child's phone loses its network

    assert await counsellor_says(served, case_id, "Chào em, cô là Lan.") == {
        "delivered": False,
        "queued": True,
        "case": case_id,
    }
    assert await counsellor_says(served, case_id, "Em còn ở đó không?") == {
        "delivered": False,
        "queued": True,
        "case": case_id,
    }
    other = await Widget(served.url).join(SID_B)  # another conversation gets none of it

    back = await Widget(served.url).join(SID_A)  # the widget reconnects with its session id
    await until(lambda: len(back.bot) == 2, "the kept messages")
    assert back.texts() == [
        COUNSELLOR_PREFIX + "Chào em, cô là Lan.",
        COUNSELLOR_PREFIX + "Em còn ở đó không?",
    ]
    await until(lambda: served.web.inbox.pending(SID_A) == [], "the confirmations")

    # Online and confirming: delivered, and nothing is kept.
    assert await counsellor_says(served, case_id, "Cô đây.") == {
        "delivered": True,
        "queued": False,
        "case": case_id,
    }
    assert back.texts()[-1] == COUNSELLOR_PREFIX + "Cô đây."
    await back.leave()
    again = await Widget(served.url).join(SID_A)
    await asyncio.sleep(0.5)
    assert again.bot == [] and other.bot == []  # nothing replayed twice, nothing leaked
    await again.leave()
    await other.leave()


async def test_an_open_socket_that_never_confirms_is_reported_queued(served: Served) -> None:
    """A phone with a dead network keeps its socket open for a while: the emit alone proves nothing."""
    case_id = await claimed_web_case(served)
    dead = await Widget(served.url, confirms=False).join(SID_A)
    assert (await counsellor_says(served, case_id, "Em ổn không?"))["queued"] is True
    await dead.leave()
    back = await Widget(served.url).join(SID_A)
    await until(lambda: COUNSELLOR_PREFIX + "Em ổn không?" in back.texts(), "the replay")
    await back.leave()


async def test_a_bot_reply_to_a_child_who_left_is_kept(served: Served) -> None:
    """Notices and replies pushed through the output channel (close, timeout) are kept as well."""
    out = served.web.get_output_channel()
    await out.send_text_message(SID_A, "Tư vấn viên đã kết thúc cuộc trò chuyện. Cần giúp, gọi 111.")
    back = await Widget(served.url).join(SID_A)
    await until(lambda: len(back.bot) == 1, "the kept notice")
    assert "111" in back.texts()[0]
    await back.leave()


async def test_a_message_whose_handling_failed_is_handled_when_sent_again(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12 (7): the web chat marked a message seen before handling it, so a retry was dropped."""
    handled: list[str] = []
    failures = iter([RuntimeError("tracker store down")])

    async def on_new_message(message: Any) -> None:
        for exc in failures:
            raise exc
        handled.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "Mình nghe đây. Gọi 111 nếu cần.")

    monkeypatch.setattr(served.agent, "handle_message", on_new_message, raising=False)
    child = await Widget(served.url).join(SID_A)
    with caplog.at_level(logging.ERROR):
        first = await child.say("có người dọa em", SID_A, "m1")
    assert first == {"ok": False, "error": "retry"}
    assert child.texts() == [UNAVAILABLE] and "111" in UNAVAILABLE  # the child is never left in silence
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    assert await child.say("có người dọa em", SID_A, "m1") == {"ok": True}  # the page sends it again
    assert handled == ["có người dọa em"]
    assert await child.say("có người dọa em", SID_A, "m1") == {"ok": True, "duplicate": True}
    assert handled == ["có người dọa em"]
    await child.leave()


async def test_a_message_that_keeps_failing_is_given_up_with_111(served: Served, monkeypatch) -> None:
    async def broken(message: Any) -> None:
        raise RuntimeError("bug on this text")

    monkeypatch.setattr(served.agent, "handle_message", broken, raising=False)
    child = await Widget(served.url).join(SID_A)
    acks = [await child.say("x", SID_A, "m1") for _ in range(webchat.MAX_TRIES)]
    assert acks[-1] == {"ok": True, "failed": True}  # the page's queue moves on
    assert all(a == {"ok": False, "error": "retry"} for a in acks[:-1])
    assert child.texts() == [UNAVAILABLE]  # told once, not at every try
    await child.leave()


async def test_a_relay_failure_still_answers_with_111(served: Served, monkeypatch) -> None:
    """Issue 12 (7): the front door's relay step (before Rasa) failing ends in 111 too (REST, web)."""
    from bot.channels import front_door

    async def broken_relay(*_: Any, **__: Any) -> bool:
        raise RuntimeError("case store down")

    monkeypatch.setattr(front_door, "relay_if_claimed", broken_relay)
    child = await Widget(served.url).join(SID_A)
    assert (await child.say("em sợ lắm", SID_A, "m1"))["ok"] is False
    assert child.texts() == [UNAVAILABLE]
    await child.leave()


# --- two instances: socket.io over Redis, one inbox database (docs/scaling.md) -------------------


@pytest.fixture
async def two_instances(settings: None, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list]:
    """Two web chat processes as `make scale` runs them: rooms in Redis, the inbox in one database."""
    need_redis()
    monkeypatch.setenv("SOCKETIO_REDIS_URL", "redis://127.0.0.1:6379")
    monkeypatch.setenv("SOCKETIO_REDIS_CHANNEL", f"test-webchat-{uuid.uuid4().hex[:8]}")
    monkeypatch.setattr(webchat, "ACK_WAIT_SECONDS", 2.0)
    async with instance() as first, instance() as second:
        yield [first, second]


async def test_a_counsellor_message_reaches_a_child_whose_socket_is_on_another_instance(
    two_instances: list,
) -> None:
    """Issue 14: the instance that sends cannot see the socket; the one that holds it takes the ack."""
    holder, sender = two_instances
    child = await Widget(holder.url).join(SID_A)
    case_id = await claimed_web_case(sender)  # the "claimed" notice, pushed from the other instance
    await until(lambda: len(child.bot) == 1, "the claimed notice")

    assert await counsellor_says(sender, case_id, "Chào em, cô là Lan.") == {
        "delivered": True,
        "queued": False,
        "case": case_id,
    }
    assert child.texts()[-1] == COUNSELLOR_PREFIX + "Chào em, cô là Lan."
    assert sender.web.inbox.pending(SID_A) == []  # confirmed on the holder, gone for both
    await child.leave()
    again = await Widget(sender.url).join(SID_A)
    await asyncio.sleep(0.5)
    assert again.bot == []  # nothing replayed twice
    await again.leave()


async def test_a_child_on_no_instance_or_a_dead_socket_is_reported_queued(two_instances: list) -> None:
    holder, sender = two_instances
    case_id = await claimed_web_case(sender)
    assert (await counsellor_says(sender, case_id, "Em còn ở đó không?"))["queued"] is True  # nobody is here
    dead = await Widget(holder.url, confirms=False).join(SID_A)
    await until(lambda: len(dead.bot) == 2, "the replay to the socket that never confirms")
    assert (await counsellor_says(sender, case_id, "Em ổn không?"))["queued"] is True
    assert COUNSELLOR_PREFIX + "Em ổn không?" in dead.texts()  # shown, but not confirmed: kept
    await dead.leave()
    back = await Widget(sender.url).join(SID_A)  # it comes back through the other instance
    await until(lambda: COUNSELLOR_PREFIX + "Em ổn không?" in back.texts(), "the replay")
    assert len(back.texts()) == 3  # the claimed notice and both messages, once each
    await until(lambda: sender.web.inbox.pending(SID_A) == [], "the confirmations")
    await back.leave()


async def test_a_notice_pushed_on_another_instance_reaches_the_child_live(two_instances: list) -> None:
    """Close and timeout notices go out through the output channel: kept, and pushed across too."""
    holder, sender = two_instances
    child = await Widget(holder.url).join(SID_A)
    out = sender.web.get_output_channel()
    await out.send_text_message(SID_A, "Tư vấn viên đã kết thúc cuộc trò chuyện. Cần giúp, gọi 111.")
    await until(lambda: len(child.bot) == 1, "the notice")
    assert "111" in child.texts()[0]
    await until(lambda: holder.web.inbox.pending(SID_A) == [], "its confirmation")
    await child.leave()
