"""The real bot served on free local ports, for tests, benchmarks and `make scale`.

`start_bot` starts the action server and `rasa run --enable-api` (REST, socketio and every channel
of credentials.yml) with a SQLite tracker store in a folder of its own; `RasaServer.stop` ends both.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHARED = ROOT.parent / "shared"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_socket() -> socket.socket:
    """A socket bound to a free local port, not listening yet (connections to it are refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving(app: Any, sock: socket.socket | None = None) -> AsyncIterator[str]:
    """A Sanic app served in the test's event loop (`sock`, or a free local port); yields its base URL."""
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


def http_json(url: str, payload: dict | None = None, timeout: float = 60) -> object:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode() or "null")


def say(url: str, sender: str, text: str) -> list[dict]:
    """Send one message over the REST channel and return the bot's replies."""
    return http_json(f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text})  # type: ignore[return-value]


def tracker_slots(url: str, sender: str) -> dict:
    return http_json(f"{url}/conversations/{sender}/tracker")["slots"]  # type: ignore[index]


@dataclass
class RasaServer:
    url: str
    actions_url: str | None
    workdir: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def wait_until(check, what: str, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see its log")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{what} did not start within {timeout}s")


def current_model() -> str:
    """Path of the model for the current tree (scripts/model.py trains it only when something changed)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "model.py")],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def rasa_command(model: str, port: int, endpoints: Path) -> list[str]:
    """`rasa run` of our bot on 127.0.0.1:port with the admin API, our channels and these endpoints."""
    return [
        str(BIN / "rasa"), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "--model", model,
        "--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(endpoints),
    ]  # fmt: skip


def start_bot(
    model: str, workdir: Path, with_actions: bool = True, env: dict | None = None, stores: str | None = None
) -> RasaServer:
    """Serve `model` on free ports. Without actions, the action endpoint points at a closed port.

    `stores`: endpoints.yml text for the tracker (and lock) store; default a SQLite file in `workdir`.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port, actions_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    stores = stores or (
        "tracker_store:\n  type: bot.stores.tracker.PrivateSQLTrackerStore\n  dialect: sqlite\n"
        f"  db: {workdir / 'tracker.db'}\n"
    )
    endpoints.write_text(stores + f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n")
    # Handoff cases go to the test's folder, never to var/ of the working tree.
    proc_env = {"DATABASE_URL": f"sqlite:///{workdir / 'handoff.db'}", **os.environ, **(env or {})}
    server = RasaServer(f"http://127.0.0.1:{port}", None, workdir)
    if with_actions:
        log = open(workdir / "actions.log", "w")
        p = subprocess.Popen(
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=proc_env,
        )
        server.procs.append(p)
        server.actions_url = f"http://127.0.0.1:{actions_port}"
        wait_until(lambda: http_json(f"{server.actions_url}/health", timeout=2), "action server", p)
    log = open(workdir / "rasa.log", "w")
    p = subprocess.Popen(
        rasa_command(model, port, endpoints),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=proc_env,
    )
    server.procs.append(p)
    try:
        wait_until(lambda: http_json(f"{server.url}/status", timeout=2).get("model_file"), "rasa", p)
    except Exception:
        server.stop()
        raise
    return server


PG_URL = "postgresql://postgres@127.0.0.1:5432/test"  # the tests' PostgreSQL database (dropped and made anew)


def postgres_ready() -> bool:
    """A PostgreSQL answers on 127.0.0.1:5432 (else its tests skip)."""
    exe = shutil.which("pg_isready")
    if exe is None:
        return False
    return subprocess.run([exe, "-h", "127.0.0.1", "-q"], check=False).returncode == 0


PG = "postgresql://postgres@127.0.0.1:5432"  # the server; tests make their own databases


def need_postgres() -> None:
    import pytest

    if not postgres_ready():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (pg_isready failed)")


def need_redis() -> None:
    import pytest

    exe = shutil.which("redis-cli")
    if (
        exe is None
        or subprocess.run([exe, "-h", "127.0.0.1", "ping"], check=False, capture_output=True).returncode
    ):
        pytest.skip("Redis is not running on 127.0.0.1:6379 (redis-cli ping failed)")
