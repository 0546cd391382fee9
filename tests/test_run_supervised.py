"""`make run` keeps every process alive on its own (issue 12, finding 6).

The exact script `make run` runs (scripts/run.sh, supervisord with deploy/supervisord.conf) is
started in a temporary copy of the project with a trained model, on free ports. The action server
is then killed: a disclosure over REST must still get 111 within 5 s (Rasa stays up), and the
action server must be back within 60 s. Slow (a Rasa server starts): about 1-2 minutes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import BIN, ROOT, free_port, http_json, say

pytestmark = pytest.mark.slow

SKIP_DIRS = {
    ".git",
    ".venv",
    "models",
    "var",
    "results",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".rasa",
}


def ensure_supervisord() -> Path:
    """supervisord from requirements.lock (what `make venv` installs); skip only if it cannot be had."""
    supervisord = BIN / "supervisord"
    if not supervisord.exists():
        pin = re.search(r"^supervisor==\S+$", (ROOT / "requirements.lock").read_text(), re.M)
        if pin:
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "-q", "--no-deps", pin.group(0)],
                check=False,
                capture_output=True,
                timeout=300,
            )
    if not supervisord.exists():
        pytest.skip(
            "supervisord could not be installed (pip install supervisor from requirements.lock failed)"
        )
    return supervisord


def copy_project(dest: Path, model: str) -> None:
    """The working tree without its runtime state, the shared venv linked, the model copied."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or (Path(folder) == ROOT and n == ".env")}

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    (dest / ".venv").symlink_to(BIN.parent)
    (dest / "models").mkdir()
    shutil.copy2(model, dest / "models" / Path(model).name)


def up(url: str) -> bool:
    try:
        return bool(http_json(url, timeout=2))
    except Exception:  # noqa: BLE001 - not up (yet)
        return False


def wait_for(check, what: str, timeout: float, proc: subprocess.Popen, log: Path) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise AssertionError(
                f"make run exited with {proc.returncode} while waiting for {what}:\n{log.read_text()[-3000:]}"
            )
        if check():
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s\n{log.read_text()[-3000:]}")


def listening_pid(port: int) -> int:
    """The process listening on a local TCP port (read from /proc: no supervisor's word for it)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A = LISTEN
                inodes.add(fields[9])
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                if os.readlink(fd) in {f"socket:[{i}]" for i in inodes}:
                    return int(fd_dir.parent.name)
        except OSError:  # a process that ended meanwhile, or not ours to read
            continue
    raise AssertionError(f"nothing listens on port {port}")


@pytest.fixture
def make_run(trained_model: str, tmp_path: Path) -> Iterator[tuple[Path, str, str, subprocess.Popen, Path]]:
    ensure_supervisord()
    project = tmp_path / "bot"
    copy_project(project, trained_model)
    port, actions_port = free_port(), free_port()
    endpoints = project / "endpoints.yml"  # its action server on the free port (the copy's own config)
    endpoints.write_text(endpoints.read_text().replace("localhost:5055", f"localhost:{actions_port}"))
    env = {
        **os.environ,
        "PYTHONPATH": str(project),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ACTIONS_PORT": str(actions_port),
        "TELEGRAM_TOKEN": "",
        "RASA_API_TOKEN": "supervised-test-token",  # the admin API always needs one (issue 13)
        "DATABASE_URL": f"sqlite:///{project / 'var' / 'handoff.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    log = tmp_path / "make-run.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield project, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{actions_port}", proc, log
    finally:
        proc.send_signal(signal.SIGTERM)  # supervisord stops every program, like Ctrl-C
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_killing_the_action_server_leaves_rasa_answering_and_it_comes_back(make_run) -> None:
    project, rasa, actions, proc, log = make_run
    wait_for(lambda: up(f"{actions}/health"), "the action server", 300, proc, log)
    status = f"{rasa}/status?token=supervised-test-token"
    wait_for(
        lambda: up(status) and bool(http_json(status, timeout=2).get("model_file")),
        "Rasa with its model",
        300,
        proc,
        log,
    )
    rasa_port, actions_port = int(rasa.rsplit(":", 1)[1]), int(actions.rsplit(":", 1)[1])
    rasa_pid = listening_pid(rasa_port)

    os.kill(listening_pid(actions_port), signal.SIGKILL)  # a crash, not a clean stop
    killed = time.monotonic()
    took = []
    for delay in (0, 2):  # at once, and once the crash has had time to take others down with it
        time.sleep(max(0.0, killed + delay - time.monotonic()))
        sent = time.monotonic()
        replies = say(rasa, "test-" + uuid.uuid4().hex[:10], "e muon chet")
        took.append(time.monotonic() - sent)
        assert "111" in " ".join(r.get("text") or "" for r in replies)
        assert took[-1] < 5, f"a disclosure {delay} s after the kill took {took[-1]:.1f} s"

    wait_for(lambda: up(f"{actions}/health"), "the action server's restart", 60, proc, log)
    assert proc.poll() is None and listening_pid(rasa_port) == rasa_pid  # Rasa never went down
    print(
        f"\n111 replies in {took[0]:.2f} s (sent at the kill) and {took[1]:.2f} s (sent 2 s later); "
        f"action server back {time.monotonic() - killed:.1f} s after the kill"
    )
