"""The web chat channel without a browser or a model: routes, headers and the socket.io protocol."""

from __future__ import annotations

import asyncio
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from bot.channels.webchat import WebChatInput, WebChatOutput
from tests.support import webchat_harness as h

WEB = h.ROOT / "web"
STATIC = WEB / "static"


async def get(url: str, **kwargs: Any) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, allow_redirects=False, **kwargs) as resp:
            await resp.read()
            return resp


class Client:
    """A python-socketio client speaking the widget's protocol."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.bot: list[Any] = []
        self.sio.on("bot_uttered", self.bot.append)

    async def __aenter__(self) -> Client:
        await self.sio.connect(self.url, socketio_path="/socket.io", transports=["polling"])
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.sio.disconnect()

    async def session(self, session_id: Any) -> str:
        confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.sio.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
        await self.sio.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(confirmed, 10)

    async def say(self, text: str, session_id: str, message_id: Any = None, **extra: Any) -> Any:
        data = {"message": text, "session_id": session_id, **extra}
        if message_id is not None:
            data["message_id"] = message_id
        return await self.sio.call("user_uttered", data, timeout=10)


class ResourceUrls(HTMLParser):
    """The src/href attributes of a page's tags (not the text that shows code)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]

    @classmethod
    def of(cls, page: str) -> list[str]:
        parser = cls()
        parser.feed(page)
        return parser.urls


SID_A = "a" * 32
SID_B = "b" * 32


# --- routes and headers --------------------------------------------------------------------------


def test_channel_name_and_prefix() -> None:
    channel = WebChatInput.from_credentials(
        {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
            "socketio_path": "/socket.io",
        }
    )
    assert channel.name() == "webchat"
    assert channel.url_prefix() == "webchat"
    assert channel.session_persistence is True
    assert channel.socketio_path == "/socket.io"
    assert WebChatOutput.name() == "webchat"


async def test_page_is_served_with_a_strict_csp(channel_server: h.ChannelServer) -> None:
    resp = await get(channel_server.page)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    csp = resp.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "require-trusted-types-for" in directives
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in resp.headers


async def test_page_without_trailing_slash_redirects(channel_server: h.ChannelServer) -> None:
    resp = await get(channel_server.url + "/webhooks/webchat")
    assert resp.status in (301, 302, 307, 308)
    assert resp.headers["Location"].endswith("/webhooks/webchat/")


@pytest.mark.parametrize("name", ["index.html", "embed-demo.html"])
def test_pages_have_no_inline_script_and_no_third_party(name: str) -> None:
    page = (STATIC / name).read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts, "the page loads its scripts"
    for attrs, body in scripts:
        assert 'src="' in attrs and not body.strip(), "no inline script"
    assert not re.search(r"\son[a-z]+\s*=", page, flags=re.I), "no inline event handlers"
    assert not re.search(r"\sstyle\s*=", page, flags=re.I), "no inline styles"
    for url in ResourceUrls.of(page):
        assert not re.match(r"(https?:)?//", url), f"third-party resource {url}"


async def test_embed_demo_is_served(channel_server: h.ChannelServer) -> None:
    resp = await get(channel_server.url + "/webhooks/webchat/embed-demo.html")
    assert resp.status == 200
    assert "Content-Security-Policy" in resp.headers


async def test_widget_js_is_served_for_other_sites(channel_server: h.ChannelServer) -> None:
    resp = await get(channel_server.url + "/webhooks/webchat/widget.js")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/javascript")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    async with aiohttp.ClientSession() as session:
        async with session.get(channel_server.url + "/webhooks/webchat/widget.js") as r:
            body = await r.text()
    assert 'var SOCKET_PATH = "/socket.io";' in body
    css = await get(channel_server.url + "/webhooks/webchat/widget.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")


async def test_socket_io_client_is_served_from_node_modules(channel_server: h.ChannelServer) -> None:
    if not h.SOCKET_IO_CLIENT.is_file():
        pytest.skip("web/node_modules is missing: run `npm ci` in web/ (make web)")
    async with aiohttp.ClientSession() as session:
        async with session.get(channel_server.url + "/webhooks/webchat/socket.io.min.js") as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/javascript")
            body = await r.read()
    assert body == h.SOCKET_IO_CLIENT.read_bytes()


async def test_missing_client_gives_a_clear_503(tmp_path: Path, fake_agent: h.FakeAgent) -> None:
    (tmp_path / "static").mkdir()
    async for server in h.serve_channel(WebChatInput(web_dir=str(tmp_path)), fake_agent):
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "/webhooks/webchat/socket.io.min.js") as r:
                assert r.status == 503
                assert "npm ci" in await r.text()


def test_lock_file_pins_socket_io_client_from_the_npm_registry() -> None:
    package = json.loads((WEB / "package.json").read_text())
    lock = json.loads((WEB / "package-lock.json").read_text())
    version = package["dependencies"]["socket.io-client"]
    assert re.fullmatch(r"4\.\d+\.\d+", version), "an exact socket.io-client 4.x"
    assert lock["packages"]["node_modules/socket.io-client"]["version"] == version
    for name, meta in lock["packages"].items():
        if name:
            assert meta.get("resolved", "https://registry.npmjs.org/").startswith(
                "https://registry.npmjs.org/"
            ), name
            assert meta.get("integrity", "").startswith("sha512-"), name


def test_widget_never_writes_html() -> None:
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("style"',
        "document.cookie",
        "localStorage",
    ):
        assert sink not in source, sink
    assert "textContent" in source


# --- the socket.io protocol ---------------------------------------------------------------------


async def test_message_is_handled_for_the_joined_conversation_and_acked(
    channel_server: h.ChannelServer,
) -> None:
    async with Client(channel_server.url) as c:
        assert await c.session(SID_A) == SID_A
        ack = await c.say("xin chào", SID_A, "m1")
        assert ack == {"ok": True}
        # the replies are emitted before the ack: the page can hide its typing indicator on the ack
        assert c.bot == [{"text": "nhận: xin chào"}]
    [msg] = channel_server.agent.received
    assert (msg.sender_id, msg.text, msg.input_channel) == (SID_A, "xin chào", "webchat")


@pytest.mark.parametrize("bad", [None, "", "12345", "telegram-12345", "A" * 32, "a" * 31, "../" * 11, 42])
async def test_invalid_session_ids_are_replaced(channel_server: h.ChannelServer, bad: Any) -> None:
    async with Client(channel_server.url) as c:
        confirmed = await c.session(bad)
    assert re.fullmatch(r"[0-9a-f]{32}", confirmed) and confirmed != bad


async def test_a_socket_cannot_write_into_another_conversation(channel_server: h.ChannelServer) -> None:
    async with Client(channel_server.url) as c:
        ack = await c.say("không có phiên", SID_A, "m1")
        assert ack["ok"] is False
        await c.session(SID_A)
        ack = await c.say("của người khác", SID_B, "m2")
        assert ack["ok"] is False
    assert channel_server.agent.received == []


async def test_switching_conversation_leaves_the_old_room(channel_server: h.ChannelServer) -> None:
    out = channel_server.channel.get_output_channel()
    async with Client(channel_server.url) as c:
        await c.session(SID_A)
        await c.session(SID_B)
        await out.send_text_message(SID_A, "cho phiên cũ")
        await out.send_text_message(SID_B, "cho phiên mới")
        await asyncio.sleep(0.5)
    assert c.bot == [{"text": "cho phiên mới"}]


async def test_pushed_messages_reach_every_tab_of_the_conversation(channel_server: h.ChannelServer) -> None:
    """What `trigger_intent?output_channel=latest` and a counsellor reply use."""
    out = channel_server.channel.get_output_channel()
    assert isinstance(out, WebChatOutput)
    async with Client(channel_server.url) as c1, Client(channel_server.url) as c2:
        await c1.session(SID_A)
        await c2.session(SID_A)
        await out.send_text_with_buttons(
            SID_A, "Tư vấn viên: chào bạn", [{"title": "Cảm ơn", "payload": "/thank"}]
        )
        await out.send_custom_json(SID_A, {"text": "tùy chỉnh"})
        await asyncio.sleep(0.5)
    expected = [
        {
            "text": "Tư vấn viên: chào bạn",
            "quick_replies": [{"content_type": "text", "title": "Cảm ơn", "payload": "/thank"}],
        },
        {"custom": {"text": "tùy chỉnh"}},
    ]
    assert c1.bot == expected and c2.bot == expected


async def test_a_repeated_message_id_is_handled_once(channel_server: h.ChannelServer) -> None:
    async with Client(channel_server.url) as c:
        await c.session(SID_A)
        assert await c.say("một lần thôi", SID_A, "same-id") == {"ok": True}
        assert await c.say("một lần thôi", SID_A, "same-id") == {"ok": True, "duplicate": True}
        assert await c.say("không có id", SID_A) == {"ok": True}
    assert [m.text for m in channel_server.agent.received] == ["một lần thôi", "không có id"]


async def test_long_messages_are_cut_and_metadata_is_ignored(channel_server: h.ChannelServer) -> None:
    async with Client(channel_server.url) as c:
        await c.session(SID_A)
        await c.say("x" * 5000, SID_A, "m1", metadata={"counsellor": True})
    [msg] = channel_server.agent.received
    assert len(msg.text) == 2000
    # Only what the server knows: the keyed hash of the client address (handoff intake limits).
    from bot.handoff.service import source_of

    assert msg.metadata == {"source": source_of("127.0.0.1")}


async def test_rooms_work_when_enter_room_is_a_coroutine(
    monkeypatch: pytest.MonkeyPatch, fake_agent: h.FakeAgent
) -> None:
    """python-socketio >= 5.10 made enter_room a coroutine; Rasa 3.6 forgets to await it (#13027)."""
    sync_enter, sync_leave = socketio.AsyncServer.enter_room, socketio.AsyncServer.leave_room

    async def enter_room(self: Any, *args: Any, **kwargs: Any) -> None:
        sync_enter(self, *args, **kwargs)

    async def leave_room(self: Any, *args: Any, **kwargs: Any) -> None:
        sync_leave(self, *args, **kwargs)

    monkeypatch.setattr(socketio.AsyncServer, "enter_room", enter_room)
    monkeypatch.setattr(socketio.AsyncServer, "leave_room", leave_room)
    async for server in h.serve_channel(WebChatInput.from_credentials({}), fake_agent):
        async with Client(server.url) as c:
            await c.session(SID_B)
            await c.session(SID_A)
            await c.say("chào", SID_A, "m1")
            await server.channel.get_output_channel().send_text_message(SID_B, "phiên cũ")
            await asyncio.sleep(0.3)
        assert c.bot == [{"text": "nhận: chào"}]


async def test_webchat_origins_limit_which_sites_may_connect(monkeypatch, fake_agent) -> None:
    monkeypatch.setenv("WEBCHAT_ORIGINS", "https://truong-vi-du.edu.vn")
    channel = WebChatInput.from_credentials({})
    async for served in h.serve_channel(channel, fake_agent):
        handshake = served.url + "/socket.io/?EIO=4&transport=polling"
        allowed = await get(handshake, headers={"Origin": "https://truong-vi-du.edu.vn"})
        refused = await get(handshake, headers={"Origin": "https://evil.example"})
        assert allowed.status == 200 and refused.status == 400
