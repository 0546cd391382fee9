"""Hostile inputs against the real bot over REST (`corpus.py`), a flood from one sender, and privacy.

Every case is one POST to `/webhooks/rest/webhook` of the session's `rasa_server`; see
`corpus.py` for what each case must get. Slow (needs the trained model): `make test-fast` skips it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from typing import Any

import httpx
import pytest

from bot.telegram.texts import EMPTY, FLOOD, TOO_LONG
from tests.hostile.corpus import ABSENT, ALL_CASES, AUTO, CASES, Case

RUN = uuid.uuid4().hex[:6]
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
FRONT_DOOR = {"EMPTY": EMPTY, "TOO_LONG": TOO_LONG}

# Strict expected failures for known product bugs (none open); a fix makes the suite say so.
XFAIL: dict[str, str] = {}  # none left: the REST channel's fixes are in bot/channels/rest.py


def sender_of(case: Case) -> Any:
    return f"hostile-{RUN}-{case.name}" if case.sender is AUTO else case.sender


def body_of(case: Case) -> bytes:
    if case.raw is not None:
        return case.raw
    body: dict[str, Any] = dict(case.extra)
    sender = sender_of(case)
    if sender is not ABSENT:
        body["sender"] = sender
    if case.message is not ABSENT:
        body["message"] = case.message
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


def post_case(client: httpx.Client, url: str, case: Case) -> httpx.Response:
    return client.post(
        f"{url}/webhooks/rest/webhook", content=body_of(case), headers={"Content-Type": "application/json"}
    )


def texts_of(replies: list[dict]) -> list[str]:
    return [r.get("text") or "" for r in replies]


def check_case(case: Case, resp: httpx.Response) -> None:
    """Everything one case must get (raises AssertionError with the case's name)."""
    where = f"[{case.name}] status {resp.status_code}, body {resp.text[:300]!r}"
    assert resp.status_code < 500, where
    if resp.status_code >= 400:
        assert case.bad_body, f"4xx for a usable JSON object with a message: {where}"
        assert resp.headers.get("content-type", "").startswith("application/json"), where
        assert isinstance(resp.json(), dict), where
        return
    replies = resp.json()
    assert isinstance(replies, list), where
    if case.bad_body and not replies:
        return  # a raw body Rasa chose to read: nothing more is promised
    assert replies, f"no reply at all: {where}"
    for r in replies:
        assert isinstance(r, dict) and (r.get("text") or r.get("image") or r.get("custom")), (
            f"empty reply: {where}"
        )
    texts = texts_of(replies)
    assert all(t.strip() for t in texts), f"a reply with a blank text: {where}"
    if case.needs_111:
        assert any("111" in t for t in texts), f"disclosure without 111: {where}"
    if case.expect:
        assert FRONT_DOOR[case.expect] in texts, f"expected the front door's {case.expect} reply: {where}"
    for bad in case.no_echo:
        assert not any(bad.lower() in t.lower() for t in texts), f"reply echoes {bad!r}: {where}"


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    with httpx.Client(timeout=TIMEOUT) as c:
        yield c


def assert_healthy(client: httpx.Client, url: str) -> None:
    status = client.get(f"{url}/status", timeout=10)
    assert status.status_code == 200, status.text[:200]


def _params() -> list[Any]:
    out = []
    for case in ALL_CASES:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[case.name])] if case.name in XFAIL else []
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


def test_corpus_is_big_enough() -> None:
    assert len(ALL_CASES) >= 120
    assert sum(c.needs_111 for c in ALL_CASES) >= 20


@pytest.mark.parametrize("case", _params())
def test_hostile_case(case: Case, rasa_server: Any, client: httpx.Client) -> None:
    try:
        resp = post_case(client, rasa_server.url, case)
    except httpx.HTTPError as exc:  # a dropped connection is a crash too
        pytest.fail(f"[{case.name}] {type(exc).__name__}: {exc}")
    check_case(case, resp)
    assert_healthy(client, rasa_server.url)


# --- flood -------------------------------------------------------------------------------------


async def _flood(url: str, sender: str, n: int, self_harm_at: int) -> list[tuple[int, str, list[dict]]]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0)) as ac:

        async def one(i: int) -> tuple[int, str, list[dict]]:
            text = "em muốn chết" if i == self_harm_at else f"chào bạn {i}"
            await asyncio.sleep(i / n)  # 30 messages spread over one second
            r = await ac.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
            assert r.status_code < 500, (i, r.status_code, r.text[:200])
            return i, text, r.json()

        return await asyncio.gather(*(one(i) for i in range(n)))


def test_flood_from_one_sender(rasa_server: Any, client: httpx.Client) -> None:
    sender = f"hostile-{RUN}-flood"
    results = asyncio.run(_flood(rasa_server.url, sender, 30, self_harm_at=27))
    all_texts = [t for _, _, replies in results for t in texts_of(replies)]
    assert all_texts.count(FLOOD) == 1, f"{all_texts.count(FLOOD)} flood replies, expected exactly one"
    answered = [i for i, _, replies in results if replies]
    assert len(answered) >= 20, f"only {len(answered)} of 30 got any reply"
    harm = next(replies for i, _, replies in results if i == 27)
    assert any("111" in t for t in texts_of(harm)), f"self-harm inside the flood lost its 111: {harm}"
    assert_healthy(client, rasa_server.url)


# --- personal data -----------------------------------------------------------------------------

PERSONAL = [c for c in CASES if c.personal]


def _stored_events(rasa_server: Any, client: httpx.Client, sender: str) -> tuple[str, str]:
    """(the tracker's events as the HTTP API returns them, the raw rows of the SQLite tracker store)."""
    tracker = client.get(f"{rasa_server.url}/conversations/{sender}/tracker", timeout=30)
    assert tracker.status_code == 200, tracker.text[:200]
    api = json.dumps(tracker.json().get("events"), ensure_ascii=False)
    rows: list[str] = []
    db = rasa_server.workdir / "tracker.db"
    if db.exists():
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
            if "events" in tables:
                rows = [str(r) for r in con.execute("select * from events where sender_id = ?", (sender,))]
        finally:
            con.close()
    return api, "\n".join(rows)


def test_personal_data_is_not_stored_raw(rasa_server: Any, client: httpx.Client) -> None:
    leaks: list[str] = []
    for case in PERSONAL:
        sender = f"hostile-{RUN}-pii-{case.name}"
        resp = client.post(
            f"{rasa_server.url}/webhooks/rest/webhook", json={"sender": sender, "message": case.message}
        )
        assert resp.status_code == 200 and resp.json(), (case.name, resp.status_code, resp.text[:200])
        api, rows = _stored_events(rasa_server, client, sender)
        assert "user" in api, f"[{case.name}] the tracker holds no user event"
        assert "user" in rows, f"[{case.name}] no user event in {rasa_server.workdir / 'tracker.db'}"
        for raw in case.personal:
            if raw in api:
                leaks.append(f"{case.name}: {raw} in GET /conversations/{sender}/tracker")
            if raw in rows:
                leaks.append(f"{case.name}: {raw} in the SQLite events table")
    assert not leaks, "raw personal data stored:\n" + "\n".join(leaks)
