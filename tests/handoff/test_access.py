"""Identity and least privilege for counsellors (bot/handoff/access.py): personal API tokens (only their hash
stored), only the claimer or a supervisor answers and closes (API and Telegram), an append-only audit log
without text, failed tokens slowed down, reserved sender ids."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from actions.handoff import ActionCreateCase
from bot.handoff import access, texts
from bot.handoff.store import CLAIMED, CLOSED, CaseError, HandoffStore
from tests.support import handoff_harness as harness
from tests.support.handoff_harness import RecordingRasa, channels, child_tracker, run_action, wait_for_text

OTHER_COUNSELLOR = 901  # in COUNSELLOR_IDS of handoff_env


def test_tokens_are_personal_hashed_and_revocable(sqlite_store: HandoffStore, tmp_path: Path) -> None:
    lan = access.issue_token(sqlite_store, "Lan")
    boss = access.issue_token(sqlite_store, "Hà", access.SUPERVISOR)
    assert access.identify(sqlite_store, lan) == access.Counsellor("Lan", access.COUNSELLOR)
    assert access.identify(sqlite_store, boss).supervisor
    assert access.identify(sqlite_store, "guess") is None and access.identify(sqlite_store, "") is None
    with sqlite3.connect(tmp_path / "handoff.db") as conn:
        stored = " ".join(str(r) for r in conn.execute("select * from handoff_counsellors"))
    assert lan not in stored and boss not in stored
    assert access.revoke(sqlite_store, "Lan") == 1
    assert access.identify(sqlite_store, lan) is None


def test_failed_tokens_are_slowed_down() -> None:
    now = [0.0]
    backoff = access.Backoff(free=3, clock=lambda: now[0])
    for _ in range(3):
        backoff.failed("1.2.3.4")
    assert backoff.blocked_for("1.2.3.4") == 0  # a few typos cost nothing
    backoff.failed("1.2.3.4")
    backoff.failed("1.2.3.4")
    assert backoff.blocked_for("1.2.3.4") == 2.0 and backoff.blocked_for("5.6.7.8") == 0
    now[0] = 2.5
    assert backoff.blocked_for("1.2.3.4") == 0
    backoff.succeeded("1.2.3.4")
    backoff.failed("1.2.3.4")
    assert backoff.blocked_for("1.2.3.4") == 0


def test_an_anonymised_case_cannot_be_reopened(sqlite_store: HandoffStore) -> None:
    with pytest.raises(CaseError):
        sqlite_store.open_case("deleted:1", "rest", "normal")
    assert (
        access.reserved_sender("deleted:7")
        and access.reserved_sender("tg:1")
        and not access.reserved_sender("web-1")
    )


async def test_api_identity_comes_from_the_token(fake_api, handoff_env, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("COUNSELLOR_API_TOKEN")
    store = HandoffStore()
    lan, minh = access.issue_token(store, "Lan"), access.issue_token(store, "Minh")
    boss = access.issue_token(store, "Hà", access.SUPERVISOR)
    await run_action(ActionCreateCase(), child_tracker("web-7", "rest", ["tụi nó chửi em"], "medium"))
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        url = served.url + "/webhooks/counsellor/cases"
        assert (await served.client.get(url, headers=served.api_headers(lan))).status_code == 200
        # the body cannot pass for someone else: the claim is Lan's
        claimed = await served.client.post(
            f"{url}/1/claim", json={"counsellor": "Minh"}, headers=served.api_headers(lan)
        )
        assert claimed.json()["counsellor"] == "api:Lan"
        message = {"text": "Chào em."}
        assert (
            await served.client.post(f"{url}/1/message", json=message, headers=served.api_headers(minh))
        ).status_code == 403
        assert (
            await served.client.post(f"{url}/1/close", json={}, headers=served.api_headers(minh))
        ).status_code == 403
        assert store.get(1).status == CLAIMED
        assert (
            await served.client.post(f"{url}/1/message", json=message, headers=served.api_headers(lan))
        ).status_code == 200
        assert (await served.client.get(f"{url}/1", headers=served.api_headers(minh))).status_code == 200
        assert (
            await served.client.post(f"{url}/1/close", json={}, headers=served.api_headers(boss))
        ).status_code == 200
        assert store.get(1).status == CLOSED
        log = access.audit_log(store, 1)
        assert [(e["actor"], e["action"]) for e in log] == [
            ("api:Lan", "claim"),
            ("api:Lan", "answer"),
            ("api:Minh", "read"),
            ("api:Hà", "close"),
        ]
        assert "Chào em" not in str(access.audit_log(store))
        # wrong tokens: refused, then slowed down (429) for that client
        statuses = [
            (await served.client.get(url, headers=served.api_headers("guess"))).status_code for _ in range(7)
        ]
        assert statuses[:5] == [401] * 5 and statuses[-1] == 429


async def test_telegram_only_the_claimer_answers_and_closes(fake_api, handoff_env, tmp_path) -> None:
    await run_action(
        ActionCreateCase(), child_tracker(f"tg:{harness.CHILD}", "telegram", ["có người dọa em"], "high")
    )
    store = HandoffStore()
    alert_id = store.sent_results(1, "send")[0]["message_id"]
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        await served.telegram_update(harness.button(1, harness.COUNSELLOR, "handoff:claim:1", alert_id))
        assert store.get(1).counsellor == f"tg:{harness.COUNSELLOR}"
        await served.telegram_update(
            harness.group_message(2, OTHER_COUNSELLOR, "để tôi nói", reply_to=alert_id)
        )
        await wait_for_text(fake_api, harness.GROUP, texts.NOT_CLAIMER)
        assert not any("để tôi nói" in t for t in fake_api.sent_texts(harness.CHILD))
        await served.telegram_update(harness.group_message(3, OTHER_COUNSELLOR, "/dong 1"))
        assert store.get(1).status == CLAIMED
        await served.telegram_update(harness.group_message(4, harness.COUNSELLOR, "/dong 1"))
        assert store.get(1).status == CLOSED
    actions = [(e["actor"], e["action"]) for e in access.audit_log(store, 1)]
    assert actions == [(f"tg:{harness.COUNSELLOR}", "claim"), (f"tg:{harness.COUNSELLOR}", "close")]
