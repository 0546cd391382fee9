"""Two Rasa instances behind nginx on PostgreSQL + Redis (slow; scripts/scale.py, docs/scaling.md).

Conversations go through nginx; one instance is killed (SIGKILL) mid-conversation; nothing is lost:
every message is answered once, the risk slots survive, an alert still waiting in the outbox of the
dead instance is sent (once) by the other, and a counsellor's message reaches a web child whose
socket is on the other instance (socket.io over Redis). Skips without nginx, PostgreSQL or Redis.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import socketio
import sqlalchemy as sa

from scripts import scale
from tests.support import fake_bot_api as tg
from tests.support.servers import PG, ROOT, http_json, need_redis

GROUP = -100900
API_TOKEN = "scale-counsellor-token"
PENDING = "SELECT count(*) FROM handoff_outbox WHERE sent_at IS NULL"


def need_nginx() -> None:
    if not Path(scale.NGINX).exists():
        pytest.skip("nginx is not installed (make scale installs it)")


@pytest.fixture
async def cluster(trained_model: str, tmp_path: Path, pg_database: str):  # noqa: F811
    need_redis()
    need_nginx()
    api = await tg.FakeBotAPI().start()
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "TELEGRAM_TOKEN": api.token,
        "TELEGRAM_API_URL": api.root_url,
        "TELEGRAM_WEBHOOK_SECRET": "scale-secret",
        "TELEGRAM_STATE_DB": str(tmp_path / "telegram.sqlite3"),
        "COUNSELLOR_CHAT_ID": str(GROUP),
        "COUNSELLOR_IDS": "1",
        "COUNSELLOR_API_TOKEN": API_TOKEN,
        "HANDOFF_TICK_SECONDS": "0.5",
        "SOCKETIO_REDIS_CHANNEL": f"test-{uuid.uuid4().hex[:8]}",
    }
    c = await asyncio.to_thread(
        scale.start_cluster,
        trained_model,
        tmp_path / "scale",
        2,
        None,
        env,
        f"{PG}/{pg_database}",
        "redis://127.0.0.1:6379",
        4,
    )
    try:
        yield c, api
    finally:
        await asyncio.to_thread(c.stop)
        await api.stop()
        shutil.rmtree(tmp_path / "scale" / "nginx" / "tmp", ignore_errors=True)


def _texts(replies: list) -> str:
    return " ".join(r.get("text") or "" for r in replies)


def _say(url: str, sender: str, text: str) -> tuple[int, list]:
    with httpx.Client(timeout=60) as client:
        resp = client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        return resp.status_code, (resp.json() if resp.status_code == 200 else [])


# (first turns, last turns, risk_level at the end): the kill falls between the two halves.
CONVERSATIONS = [
    (["chào bạn", "cho mình vài mẹo đặt mật khẩu"], ["cảm ơn nhé", "tạm biệt"], "none"),
    (["chào bạn", "có người dọa tung ảnh của em"], ["cảm ơn", "ok"], "high"),
    (["hi", "mình bị bạn cùng lớp chửi trên nhóm chat"], ["cảm ơn bạn", "bye"], "medium"),
    (["xin chào", "con tôi 10 tuổi dùng tiktok được không"], ["cảm ơn", "tạm biệt"], "none"),
    (["e bi ban be chui tren group lop", "cảm ơn"], ["có người lạ xin ảnh riêng tư của em", "ok"], "high"),
    (["chào", "dạo này em buồn quá"], ["cảm ơn", "tạm biệt"], "low"),
]


async def test_instance_killed_mid_conversation_loses_nothing(
    cluster,
    pg_database: str,  # noqa: F811
) -> None:
    c, api = cluster
    senders = [f"scale-{i}-{uuid.uuid4().hex[:6]}" for i in range(len(CONVERSATIONS))]
    answers: dict[str, list[tuple[int, list]]] = {s: [] for s in senders}

    def play(turns: list[list[str]]) -> None:
        def one(i: int) -> None:
            for text in turns[i]:
                answers[senders[i]].append(_say(c.url, senders[i], text))

        with ThreadPoolExecutor(len(senders)) as pool:
            list(pool.map(one, range(len(senders))))

    await asyncio.to_thread(play, [first for first, _, _ in CONVERSATIONS])
    # A child discloses on instance 0 while Telegram fails: the alert waits in the shared outbox.
    for _ in range(3):
        api.fail_next("sendMessage", status=502, retry_after=None, description="Bad Gateway")
    urgent = f"scale-urgent-{uuid.uuid4().hex[:6]}"
    status, replies = await asyncio.to_thread(_say, c.instances[0].url, urgent, "e muon chet")
    assert status == 200 and "111" in _texts(replies)
    engine = sa.create_engine(f"{PG}/{pg_database}", future=True)
    with engine.connect() as conn:
        pending = conn.execute(sa.text(PENDING)).scalar()
    assert pending >= 1, "the alert is still waiting when its instance dies"

    c.instances[0].kill()

    await asyncio.to_thread(play, [last for _, last, _ in CONVERSATIONS])
    # The same child goes on through nginx: the surviving instance reads the conversation from PostgreSQL.
    status, replies = await asyncio.to_thread(_say, c.url, urgent, "cảm ơn")
    assert status == 200 and replies

    for sender, (first, last, level) in zip(senders, CONVERSATIONS):
        assert [s for s, _ in answers[sender]] == [200] * 4, (sender, answers[sender])
        assert all(r for _, r in answers[sender]), f"{sender}: a message got no reply"
        tracker = http_json(f"{c.url}/conversations/{sender}/tracker")
        users = [e["text"] for e in tracker["events"] if e["event"] == "user"]
        assert users == first + last, "every message once, in order"
        assert tracker["slots"]["risk_level"] == level, (sender, tracker["slots"]["risk_level"])
    tracker = http_json(f"{c.url}/conversations/{urgent}/tracker")
    assert tracker["slots"]["risk_level"] == "imminent"

    # The alert is sent by the surviving instance, exactly once (other children's cases have their own).
    def urgent_alerts() -> list[str]:
        return [t for t in api.sent_texts(GROUP) if "Ca mới" in t and "e muon chet" in t]

    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not urgent_alerts():
        await asyncio.sleep(0.2)
    await asyncio.sleep(3)  # time for a duplicate to show up, if there were one
    assert len(urgent_alerts()) == 1, api.sent_texts(GROUP)
    assert all(n == 1 for n in Counter(api.sent_texts(GROUP)).values()), "no message to counsellors twice"
    with engine.connect() as conn:
        assert conn.execute(sa.text(PENDING)).scalar() == 0
    engine.dispose()


async def test_counsellor_message_reaches_a_web_child_on_another_instance(cluster) -> None:
    c, api = cluster
    sio = socketio.AsyncClient(reconnection=False)
    received: list = []

    async def on_bot(data: dict) -> None:  # like widget.js: show it, confirm a kept message by its id
        received.append(data)
        if isinstance(data, dict) and isinstance(data.get("id"), int):
            await sio.emit("bot_received", {"ids": [data["id"]]})

    sio.on("bot_uttered", on_bot)
    session_id = uuid.uuid4().hex
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    sio.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
    # The child's socket is on instance 0 ...
    await sio.connect(c.instances[0].url, socketio_path="/socket.io", transports=["polling"])
    try:
        await sio.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed, 10)
        await sio.call(
            "user_uttered", {"message": "có người dọa tung ảnh của em", "session_id": session_id}, timeout=30
        )
        await sio.call("user_uttered", {"message": "/affirm", "session_id": session_id}, timeout=30)
        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        async with httpx.AsyncClient(timeout=30) as client:
            # ... the counsellor's API calls go to instance 1.
            api_url = f"{c.instances[1].url}/webhooks/counsellor/cases"
            cases = (await client.get(api_url, headers=auth)).json()
            mine = [k for k in cases["cases"] if k.get("channel") == "webchat"] or cases["cases"]
            assert mine, cases
            case_id = mine[0]["id"]
            r = await client.post(f"{api_url}/{case_id}/claim", json={"counsellor": "Lan"}, headers=auth)
            assert r.status_code == 200, r.text
            before = len(received)
            r = await client.post(
                f"{api_url}/{case_id}/message",
                json={"counsellor": "Lan", "text": "Chào bạn, mình là Lan."},
                headers=auth,
            )
            assert r.status_code == 200, r.text
            # confirmed on instance 0, seen by instance 1 in the shared inbox: the counsellor is told the truth
            assert r.json()["delivered"] is True, r.json()

        def reached() -> bool:
            return any(
                "mình là Lan" in (m.get("text") or "") for m in received[before:] if isinstance(m, dict)
            )

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not reached():
            await asyncio.sleep(0.1)
        assert reached(), received
    finally:
        await sio.disconnect()
