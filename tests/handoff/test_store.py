"""The case store: lifecycle, queue order, history, timeouts and the outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handoff.store import CLAIMED, CLOSED, OPEN, CaseError, HandoffStore, priority_for_level, utcnow


def test_priority_for_level() -> None:
    assert priority_for_level("imminent") == "urgent"
    assert priority_for_level("high") == "high"
    assert [priority_for_level(x) for x in ("medium", "low", "none", None)] == ["normal"] * 4


def test_case_holds_redacted_summary_and_full_record(store: HandoffStore) -> None:
    messages = [f"tin {i}" for i in range(12)] + ["số em 0912345678, tên em là Lan"]
    case, new = store.open_case("tg:42", "telegram", "high", "disclose_grooming", messages)
    assert new and case.status == OPEN and case.priority == "high"
    assert "0912345678" not in case.summary and "Lan" not in case.summary
    assert "[SĐT]" in case.summary and "[TÊN]" in case.summary
    assert len(case.summary.splitlines()) == 10
    data = store.get(case.id, with_history=True).to_json(with_history=True)
    for key in (
        "id",
        "created_at",
        "priority",
        "risk_category",
        "channel",
        "summary",
        "status",
        "counsellor",
    ):
        assert key in data
    assert [e["kind"] for e in data["history"]] == ["created"]


def test_lifecycle_open_claimed_closed_reopened(store: HandoffStore) -> None:
    case, _ = store.open_case("c1", "rest", "normal")
    claimed = store.claim(case.id, "tg:900")
    assert claimed.status == CLAIMED and claimed.counsellor == "tg:900"
    with pytest.raises(CaseError):
        store.claim(case.id, "tg:901")  # already taken
    assert store.close(case.id, "tg:900").status == CLOSED
    with pytest.raises(CaseError):
        store.close(case.id, "tg:900")
    again, new = store.open_case("c1", "rest", "high")
    assert new and again.id == case.id and again.status == OPEN and again.counsellor is None
    kinds = [e.kind for e in store.get(case.id, with_history=True).history]
    assert kinds == ["created", "claimed", "closed", "reopened"]


def test_same_child_same_case_priority_only_rises(store: HandoffStore) -> None:
    first, new = store.open_case("c2", "rest", "normal", "express_distress")
    assert new
    second, raised = store.open_case("c2", "rest", "urgent", "disclose_self_harm")
    assert second.id == first.id and raised and second.priority == "urgent"
    third, raised = store.open_case("c2", "rest", "high", "disclose_grooming")
    assert third.priority == "urgent" and not raised


def test_child_cancels_only_a_waiting_case(store: HandoffStore) -> None:
    case, _ = store.open_case("c3", "rest", "normal")
    assert store.cancel_waiting("c3").status == CLOSED
    assert store.cancel_waiting("c3") is None
    case, _ = store.open_case("c3", "rest", "normal")
    store.claim(case.id, "x")
    assert store.cancel_waiting("c3") is None


def test_queue_by_priority_then_waiting_time(store: HandoffStore) -> None:
    ids = {}
    for sender, priority in [("a", "normal"), ("b", "high"), ("c", "urgent"), ("d", "high"), ("e", "normal")]:
        ids[sender] = store.open_case(sender, "rest", priority)[0].id
    store.claim(ids["d"], "x")
    assert [c.id for c in store.queue()] == [ids["c"], ids["b"], ids["a"], ids["e"]]
    assert [c.id for c in store.list(CLAIMED)] == [ids["d"]]


def test_unknown_case(store: HandoffStore) -> None:
    with pytest.raises(CaseError):
        store.get(999)
    with pytest.raises(CaseError):
        store.claim(999, "x")


def test_timeouts_realert_then_overdue_once_each(store: HandoffStore) -> None:
    case, _ = store.open_case("t", "rest", "urgent")
    timeout = dt.timedelta(minutes=5)
    now = utcnow()
    assert store.due_realerts(timeout, now) == []
    assert [c.realerts for c in store.due_realerts(timeout, now + dt.timedelta(minutes=6))] == [1]
    assert store.due_realerts(timeout, now + dt.timedelta(minutes=7)) == []
    due = store.due_realerts(timeout, now + dt.timedelta(minutes=11))
    assert [c.realerts for c in due] == [2] and due[0].to_json()["overdue"]
    assert store.due_realerts(timeout, now + dt.timedelta(minutes=30)) == []


def test_outbox_once_and_retries(store: HandoffStore) -> None:
    case, _ = store.open_case("o", "rest", "high")
    assert store.enqueue(f"alert:{case.id}:0", "alert", {"case_id": case.id}, case.id)
    assert not store.enqueue(f"alert:{case.id}:0", "alert", {"case_id": case.id}, case.id)
    [item] = store.due_outbox()
    assert store.lease(item.id, 30)
    assert not store.lease(item.id, 30)  # another worker cannot take it meanwhile
    store.mark_failed(item.id, "NetworkError", retry_in=0)
    [item] = store.due_outbox()
    assert item.attempts == 1
    assert store.mark_sent(item.id, {"chat_id": -100, "message_id": 7})
    assert not store.mark_sent(item.id, {"chat_id": -100, "message_id": 8})
    assert store.due_outbox() == [] and store.pending_outbox() == 0
    assert store.case_of_message(-100, 7) == case.id
    assert store.case_of_message(-100, 10) is None


def test_everything_survives_a_restart(store: HandoffStore) -> None:
    case, _ = store.open_case("r", "telegram", "urgent", "disclose_self_harm", ["em muốn chết"])
    store.claim(case.id, "tg:1")
    url = store.url
    store.dispose()
    reopened = HandoffStore(url)
    try:
        got = reopened.get(case.id, with_history=True)
        assert got.status == CLAIMED and got.counsellor == "tg:1"
        assert [e.kind for e in got.history] == ["created", "claimed"]
    finally:
        reopened.dispose()


def test_events_are_redacted(store: HandoffStore) -> None:
    case, _ = store.open_case("p", "rest", "normal")
    store.add_event(case.id, "message", "counsellor", "gọi cho cô 0987654321 nhé")
    detail = store.get(case.id, with_history=True).history[-1].detail
    assert detail == "gọi cho cô [SĐT] nhé"
