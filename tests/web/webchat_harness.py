"""Helpers for the web chat tests: an in-process channel server, a TCP proxy that can cut the
network, a Rasa launcher with the web chat channel, and the Chromium settings."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional

from aiohttp import web
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels.webchat import WebChatInput

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SOCKET_IO_CLIENT = ROOT / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
WEBCHAT_CHANNEL = "bot.channels.webchat.WebChatInput"
COUNSELLOR_CHANNEL = "bot.channels.counsellor.CounsellorInput"
COUNSELLOR_TOKEN = "webchat-test-counsellor-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- an in-process channel with a scripted bot ----------------------------------------------------


@dataclass
class FakeAgent:
    """Stands in for Rasa's agent: records messages and answers from a script."""

    received: List[UserMessage] = field(default_factory=list)
    delay: float = 0.0

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        out = message.output_channel
        text = message.text or ""
        if text == "/buttons":
            await out.send_text_with_buttons(
                message.sender_id,
                "Chọn một:",
                [{"title": "Có", "payload": "/affirm"}, {"title": "Không", "payload": "/deny"}],
            )
        elif text == "/html":
            await out.send_text_message(
                message.sender_id, '<img src=x onerror="window.__xss=1;alert(1)"><b>đậm</b>'
            )
        else:
            await out.send_text_message(message.sender_id, f"nhận: {text}")


@dataclass
class ChannelServer:
    url: str
    channel: WebChatInput
    agent: FakeAgent

    @property
    def page(self) -> str:
        return f"{self.url}/webhooks/webchat/"


async def serve_channel(channel: WebChatInput, agent: FakeAgent) -> AsyncIterator[ChannelServer]:
    """Serve `channel` the way Rasa does (same `register`), on a free port of this event loop."""
    Sanic.test_mode = True  # several apps in one process (Sanic's TouchUp otherwise breaks the second)
    app = Sanic(f"webchat_test_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = agent
    register([channel], app, "/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    try:
        yield ChannelServer(f"http://127.0.0.1:{port}", channel, agent)
    finally:
        server.close()
        await server.wait_closed()


# --- a TCP proxy whose network can be cut -------------------------------------------------------


class CuttableProxy:
    """Forwards a local port to `target`; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.up = True
        self._server: Optional[asyncio.base_events.Server] = None
        self._writers: List[asyncio.StreamWriter] = []

    async def start(self) -> "CuttableProxy":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while self.up:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if not self.up:
            client_w.transport.abort()
            return
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers += [client_w, server_w]
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))

    def cut(self) -> None:
        self.up = False
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.up = True

    async def stop(self) -> None:
        self.cut()
        if self._server:
            self._server.close()
            await self._server.wait_closed()


# --- another web site, for the one-tag embed ------------------------------------------------------


class StaticSite:
    """A tiny web site on localhost: another origin than the bot's 127.0.0.1 but, like it, loopback
    (Chromium blocks a public page from loading scripts from a loopback address)."""

    def __init__(self, pages: dict) -> None:
        self.pages = pages
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self._runner: Optional[web.AppRunner] = None

    async def _serve(self, request: web.Request) -> web.Response:
        if request.path not in self.pages:
            return web.Response(status=404, text="not found")
        return web.Response(text=self.pages[request.path], content_type="text/html", charset="utf-8")

    async def start(self) -> "StaticSite":
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


# --- a real Rasa with the web chat channel ------------------------------------------------------


def http_json(url: str, payload: Any = None, timeout: float = 60) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode() or "null")


def credentials_have_webchat(path: Path = ROOT / "credentials.yml") -> bool:
    return path.is_file() and WEBCHAT_CHANNEL in path.read_text(encoding="utf-8")


@dataclass
class RasaProcess:
    url: str
    procs: List[subprocess.Popen]

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _wait(check: Any, what: str, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{what} did not start within {timeout}s: {log.read_text()[-3000:]}")


def start_rasa_with_webchat(model: str, workdir: Path, env: Optional[dict] = None) -> RasaProcess:
    """Action server + `rasa run --enable-api` with REST, the web chat and the counsellor channels.

    Used only while the project's credentials.yml does not list the web chat channel yet;
    otherwise the project's own `start_bot` (tests/conftest.py) serves it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port, actions_port = free_port(), free_port()
    counsellor = COUNSELLOR_CHANNEL + ":\n" if (ROOT / "bot" / "channels" / "counsellor.py").is_file() else ""
    (workdir / "credentials.yml").write_text(
        f"rest:\n\n{WEBCHAT_CHANNEL}:\n  user_message_evt: user_uttered\n  bot_message_evt: bot_uttered\n"
        f"  session_persistence: true\n  socketio_path: /socket.io\n\n{counsellor}"
    )
    (workdir / "endpoints.yml").write_text(
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {workdir / 'tracker.db'}\n"
        f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n"
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT), **(env or {})}
    rasa = str(Path(sys.executable).with_name("rasa"))
    procs: List[subprocess.Popen] = []
    actions_log = workdir / "actions.log"
    p = subprocess.Popen(
        [rasa, "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        cwd=ROOT,
        stdout=actions_log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    procs.append(p)
    _wait(
        lambda: http_json(f"http://127.0.0.1:{actions_port}/health", timeout=2),
        "action server",
        p,
        actions_log,
    )
    rasa_log = workdir / "rasa.log"
    p = subprocess.Popen(
        [
            rasa,
            "run",
            "--enable-api",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "--model",
            model,
            "--credentials",
            str(workdir / "credentials.yml"),
            "--endpoints",
            str(workdir / "endpoints.yml"),
        ],
        cwd=ROOT,
        stdout=rasa_log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    procs.append(p)
    server = RasaProcess(f"http://127.0.0.1:{port}", procs)
    try:
        _wait(lambda: http_json(f"{server.url}/status", timeout=2).get("model_file"), "rasa", p, rasa_log)
    except Exception:
        server.stop()
        raise
    return server


def chromium_missing_reason() -> Optional[str]:
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        return f"{CHROMIUM} is absent: browser tests need Debian's chromium (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; never `playwright install`)"
    return None


def tracker(url: str, conversation_id: str) -> Dict[str, Any]:
    return http_json(f"{url}/conversations/{conversation_id}/tracker")


def counsellor_api(url: str, path: str, payload: Any = None) -> Any:
    """Call the counsellor API (bot/channels/counsellor.py) with the test token."""
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(
        f"{url}/webhooks/counsellor{path}",
        data=data,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {COUNSELLOR_TOKEN}"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read().decode() or "null")
