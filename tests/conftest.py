"""Shared fixtures: a trained model and a real bot served on localhost.

`rasa_server` starts the action server and `rasa run --enable-api` (REST,
socketio and every channel of credentials.yml) on free ports, with a SQLite
tracker store in a temporary folder, and stops both at the end of the session.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SHARED = ROOT.parent / "shared"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str, payload: Optional[dict] = None, timeout: float = 60) -> object:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode() or "null")


def say(url: str, sender: str, text: str) -> List[dict]:
    """Send one message over the REST channel and return the bot's replies."""
    return http_json(f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text})  # type: ignore[return-value]


def tracker_slots(url: str, sender: str) -> dict:
    return http_json(f"{url}/conversations/{sender}/tracker")["slots"]  # type: ignore[index]


@dataclass
class RasaServer:
    url: str
    actions_url: Optional[str]
    workdir: Path
    procs: List[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _wait_until(check, what: str, proc: subprocess.Popen, timeout: float = 240) -> None:
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


def start_bot(
    model: str, workdir: Path, with_actions: bool = True, env: Optional[dict] = None, stores: Optional[str] = None
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
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=proc_env,
        )
        server.procs.append(p)
        server.actions_url = f"http://127.0.0.1:{actions_port}"
        _wait_until(lambda: http_json(f"{server.actions_url}/health", timeout=2), "action server", p)
    log = open(workdir / "rasa.log", "w")
    p = subprocess.Popen(
        [str(BIN / "rasa"), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "--model", model,
         "--credentials", str(ROOT / "credentials.yml"), "--endpoints", str(endpoints)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=proc_env,
    )
    server.procs.append(p)
    try:
        _wait_until(lambda: http_json(f"{server.url}/status", timeout=2).get("model_file"), "rasa", p)
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def trained_model() -> str:
    """Path of the model for the current tree (trained once, reused while nothing changes)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "model.py")], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def rasa_server(trained_model: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    server = start_bot(trained_model, tmp_path_factory.mktemp("rasa"))
    yield server
    server.stop()


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    # Anything that needs a trained model is slow; `make test-fast` skips it.
    for item in items:
        if "trained_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
