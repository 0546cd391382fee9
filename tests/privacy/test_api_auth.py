"""Rasa's admin API is never served without a token; channels (and REST children's pushed messages) need none.

The slow test starts the real `make run` script (scripts/run.sh) in a throw-away copy of the tree (symlinks,
its own var/) with no RASA_API_TOKEN, on free ports.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import api_token
from bot.channels.counsellor import CLOSE_ACTIONS
from bot.channels.rest import pushed_messages
from bot.handoff import texts
from tests.support.servers import ROOT, free_port


# --- bot/api_token.py ------------------------------------------------------------------------------
def test_a_token_is_generated_once_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RASA_API_TOKEN", raising=False)
    monkeypatch.setenv("RASA_API_TOKEN_FILE", str(tmp_path / "var" / "token"))
    assert api_token.api_token(create=False) == ""
    first = api_token.api_token()
    assert len(first) >= 40
    assert stat.S_IMODE((tmp_path / "var" / "token").stat().st_mode) == 0o600
    assert api_token.api_token() == first  # reused on the next start
    (tmp_path / "var" / "token").chmod(0o644)
    assert api_token.api_token(create=False) == first
    assert stat.S_IMODE((tmp_path / "var" / "token").stat().st_mode) == 0o600


def test_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_API_TOKEN", "from-env")
    monkeypatch.setenv("RASA_API_TOKEN_FILE", str(tmp_path / "token"))
    assert api_token.api_token() == "from-env"
    assert not (tmp_path / "token").exists()


# --- GET /webhooks/rest/messages: what it shows ---------------------------------------------------
def _tracker(channel: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events("web-1", [], slots=Domain.empty().slots)
    tracker.update(UserUttered("em tên là Lan, em sợ lắm", input_channel=channel, timestamp=1.0))
    tracker.update(
        BotUttered("Mình nghe đây. Gọi 111 nhé.", metadata={"utter_action": "utter_x"}, timestamp=2.0)
    )
    tracker.update(ActionExecuted("action_listen", timestamp=3.0))
    tracker.update(
        BotUttered(texts.COUNSELLOR_PREFIX + "Cô đây.", metadata={"handoff": True, "case": 1}, timestamp=4.0)
    )
    tracker.update(
        BotUttered("Ca đã đóng, gọi 111.", metadata={"utter_action": CLOSE_ACTIONS[0]}, timestamp=5.0)
    )
    return tracker


def test_rest_children_read_only_what_was_pushed_to_them() -> None:
    got = pushed_messages(_tracker("rest"), 0)
    assert [m["text"] for m in got["messages"]] == [
        texts.COUNSELLOR_PREFIX + "Cô đây.",
        "Ca đã đóng, gọi 111.",
    ]
    assert got["next"] == 5.0
    assert pushed_messages(_tracker("rest"), 4.0)["messages"][0]["text"] == "Ca đã đóng, gọi 111."
    assert pushed_messages(_tracker("rest"), 5.0) == {"messages": [], "next": 5.0}
    assert "Lan" not in str(got)  # never the child's own words


@pytest.mark.parametrize("channel", ["webchat", "telegram", "zalo"])
def test_other_channels_conversations_are_not_readable_over_rest(channel: str) -> None:
    assert pushed_messages(_tracker(channel), 0) == {"messages": [], "next": 0}
    assert pushed_messages(None, 0) == {"messages": [], "next": 0}


# --- the real `make run` script ------------------------------------------------------------------
def _tree(tmp: Path, actions_port: int) -> Path:
    """A copy of the working tree made of symlinks, with its own var/, no .env, and endpoints.yml
    pointing at the test's action server port (endpoints.yml names 5055, which may be taken here)."""
    tree = tmp / "tree"
    tree.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {"var", ".env", ".git", "endpoints.yml"}:
            (tree / entry.name).symlink_to(entry)
    endpoints = (ROOT / "endpoints.yml").read_text()
    (tree / "endpoints.yml").write_text(endpoints.replace("localhost:5055", f"localhost:{actions_port}"))
    return tree


@pytest.fixture(scope="module")
def made_run(trained_model: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("make-run")
    port, actions_port = free_port(), free_port()
    tree = _tree(tmp, actions_port)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RASA_API_TOKEN", "TELEGRAM_", "COUNSELLOR_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        PORT=str(port),
        ACTIONS_PORT=str(actions_port),
        RETENTION_DAYS="off",
        DATABASE_URL=f"sqlite:///{tmp / 'handoff.db'}",
        COUNSELLOR_API_TOKEN="counsellor-secret",
        RASA_TELEMETRY_ENABLED="false",
    )
    log = open(tmp / "run.log", "w")
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=tree,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, (tmp / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "make run did not start in 300 s"
            try:
                if httpx.get(f"{url}/webhooks/rest/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        token = (tree / "var" / "rasa_api_token").read_text().strip()
        # the action server answers too (the REST flow below needs it)
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{actions_port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        yield {"url": url, "token": token, "tree": tree, "log": tmp / "run.log"}
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # run.sh's trap stops Rasa and the action server
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_make_run_generates_the_token_and_says_where(made_run: dict) -> None:
    path = made_run["tree"] / "var" / "rasa_api_token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "var/rasa_api_token" in made_run["log"].read_text()
    assert made_run["token"] not in made_run["log"].read_text()  # where, never the token itself


def test_the_admin_api_refuses_callers_without_the_token(made_run: dict) -> None:
    url, token = made_run["url"], made_run["token"]
    intent = {"name": "greet"}
    for params in ({}, {"token": "wrong"}):
        assert httpx.get(f"{url}/conversations/web-x/tracker", params=params).status_code in (401, 403)
        assert httpx.post(
            f"{url}/conversations/web-x/trigger_intent", params=params, json=intent
        ).status_code in (401, 403)
        # replacing the events is how a caller would wipe a child's conversation
        assert httpx.put(f"{url}/conversations/web-x/tracker/events", params=params, json=[]).status_code in (
            401,
            403,
        )
        assert httpx.post(
            f"{url}/conversations/web-x/messages", params=params, json={"text": "hi", "sender": "user"}
        ).status_code in (401, 403)
        assert httpx.post(f"{url}/model/parse", params=params, json={"text": "chào"}).status_code in (
            401,
            403,
        )
        assert httpx.get(f"{url}/status", params=params).status_code in (401, 403)
    ok = {"token": token}
    assert httpx.get(f"{url}/conversations/web-x/tracker", params=ok).status_code == 200
    triggered = httpx.post(f"{url}/conversations/web-x/trigger_intent", params=ok, json=intent, timeout=60)
    assert triggered.status_code == 200 and triggered.json()["messages"]
    assert httpx.post(f"{url}/model/parse", params=ok, json={"text": "chào"}).json()["intent"]["name"]


def test_channels_work_without_the_token(made_run: dict) -> None:
    url = made_run["url"]
    with httpx.Client(base_url=url, timeout=120) as client:
        replies = client.post(
            "/webhooks/rest/webhook", json={"sender": "web-rest-1", "message": "e muon chet"}
        ).json()
        assert "111" in " ".join(r.get("text") or "" for r in replies)
        assert client.get("/webhooks/webchat/").status_code == 200
        assert client.get("/socket.io/", params={"EIO": "4", "transport": "polling"}).status_code == 200
        assert client.get("/webhooks/telegram/").json()["status"] == "disabled"  # no TELEGRAM_TOKEN here
        # reserved sender ids: a REST client can neither write as a Telegram child nor reopen an anonymised case
        for reserved in ("tg:4242", "deleted:1"):
            assert (
                client.post("/webhooks/rest/webhook", json={"sender": reserved, "message": "hi"}).status_code
                == 400
            )

        # A counsellor answers the REST child; the child reads it from its own channel route, no token.
        auth = {"Authorization": "Bearer counsellor-secret"}
        [case] = client.get("/webhooks/counsellor/cases", params={"status": "open"}, headers=auth).json()[
            "cases"
        ]
        assert (
            client.post(
                f"/webhooks/counsellor/cases/{case['id']}/claim", json={"counsellor": "Lan"}, headers=auth
            ).json()["status"]
            == "claimed"
        )
        sent = client.post(
            f"/webhooks/counsellor/cases/{case['id']}/message",
            json={"counsellor": "Lan", "text": "Cô đây."},
            headers=auth,
        )
        assert sent.json()["delivered"] is False  # REST cannot be pushed to: the child polls
        got = client.get("/webhooks/rest/messages", params={"sender": "web-rest-1"}).json()
        assert texts.COUNSELLOR_PREFIX + "Cô đây." in [m["text"] for m in got["messages"]]
        again = client.get(
            "/webhooks/rest/messages", params={"sender": "web-rest-1", "since": got["next"]}
        ).json()
        assert again["messages"] == []
        # another sender id sees nothing of it
        assert client.get("/webhooks/rest/messages", params={"sender": "web-rest-2"}).json()["messages"] == []
