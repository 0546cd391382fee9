"""Retention purge on a real SQLite tracker store and a real case store, with a settable clock (fast)."""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff import service
from bot.handoff import store as store_module
from bot.handoff.store import CLAIMED, CLOSED, OPEN, HandoffStore
from bot.privacy import retention
from tests.support.servers import PG_URL, postgres_ready

ROOT = Path(__file__).resolve().parent.parent.parent
NOW = dt.datetime(2025, 3, 1, 12, 0)  # naive UTC
DAY = dt.timedelta(days=1)
CHILD_TEXT = "tên em là Lan, số em 0912345678, bố đánh em"


def cases_of(store: HandoffStore) -> retention.PurgeCases:
    """What the tracker store and scripts/purge.py pass in: the handoff service anonymises the cases."""
    return functools.partial(service.purge_closed, store)


def epoch(value: dt.datetime) -> float:
    return value.replace(tzinfo=dt.timezone.utc).timestamp()


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture
def tracker_db(tmp_path: Path) -> str:
    """A Rasa SQL tracker store (SQLite) with an old, a recent and a mixed conversation."""
    path = tmp_path / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    conversations = {
        "old-child": [NOW - 45 * DAY, NOW - 40 * DAY, NOW - 31 * DAY],
        "recent-child": [NOW - 2 * DAY, NOW - DAY],
        "came-back": [NOW - 60 * DAY, NOW - 29 * DAY],  # last event inside the window: all kept
    }
    import asyncio

    async def fill() -> None:
        for sender, times in conversations.items():
            tracker = DialogueStateTracker(sender, slots=[])
            for at in times:
                tracker.update(UserUttered(CHILD_TEXT, timestamp=epoch(at)))
                tracker.update(ActionExecuted("action_listen", timestamp=epoch(at) + 1))
                tracker.update(BotUttered("Em gọi 111 nhé", timestamp=epoch(at) + 2))
            await store.save(tracker)

    asyncio.run(fill())
    store.engine.dispose()
    return f"sqlite:///{path}"


def tracker_rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id")).all()
    engine.dispose()
    return {sender: count for sender, count in rows}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    """The case store's clock, settable: `clock["now"] = ...`."""
    state = {"now": NOW}
    monkeypatch.setattr(store_module, "utcnow", lambda: state["now"])
    return state


def make_cases(store: HandoffStore, clock: dict[str, dt.datetime]) -> dict[str, int]:
    """Cases of every kind, created and last touched at chosen times."""
    ids = {}
    clock["now"] = NOW - 40 * DAY
    for name in ("closed_old", "open_old", "claimed_old", "closed_feedback", "closed_recent"):
        case, _ = store.open_case(f"{name}-sender", "telegram", "high", "abuse", [CHILD_TEXT])
        store.add_event(case.id, "child_message", "child", CHILD_TEXT)
        ids[name] = case.id
    store.enqueue("alert:closed_old", "alert", {"chat_id": -1, "text": "Ca mới"}, ids["closed_old"])
    clock["now"] = NOW - 35 * DAY
    for name in ("closed_old", "claimed_old", "closed_feedback", "closed_recent"):
        store.claim(ids[name], "tg:1")
    store.close(ids["closed_old"], "tg:1")
    store.close(ids["closed_feedback"], "tg:1")
    clock["now"] = NOW - 5 * DAY
    store.add_event(ids["closed_feedback"], "feedback", "child", "helpful")  # activity inside the window
    clock["now"] = NOW - 3 * DAY
    store.close(ids["closed_recent"], "tg:1")
    clock["now"] = NOW
    return ids


@pytest.fixture
def case_store(tmp_path: Path) -> Iterator[HandoffStore]:
    s = HandoffStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    yield s
    s.dispose()


def snapshot(store: HandoffStore) -> list:
    with store.engine.connect() as conn:
        return [
            conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
            for table in ("handoff_cases", "handoff_events", "handoff_outbox")
        ]


# --- conversations ----------------------------------------------------------------------------
def test_old_conversation_deleted_recent_kept(tracker_db: str) -> None:
    before = tracker_rows(tracker_db)
    conversations, events = retention.purge_conversations(tracker_db, retention.cutoff_for(NOW, 30))
    after = tracker_rows(tracker_db)
    assert (conversations, events) == (1, before["old-child"])
    assert "old-child" not in after
    assert after["recent-child"] == before["recent-child"]
    assert after["came-back"] == before["came-back"]  # its last event is recent: kept whole


def test_clock_and_days_are_settable(tracker_db: str) -> None:
    # 10 days later than NOW with 30 days, "came-back" (last event NOW-29d) is old too
    later = epoch(NOW + 10 * DAY)
    assert retention.purge_conversations(tracker_db, retention.cutoff_for(later, 30), dry_run=True)[0] == 2
    # with 1 day, only "recent-child" (last event NOW-1d) is kept
    assert retention.purge_conversations(tracker_db, retention.cutoff_for(NOW, 1), dry_run=True)[0] == 2
    aware = NOW.replace(tzinfo=dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert retention.cutoff_for(aware, 30) == retention.cutoff_for(NOW, 30) == NOW - 30 * DAY


def test_missing_tracker_db_is_nothing_to_purge(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'absent.db'}"
    assert retention.purge_conversations(url, NOW) == (0, 0)
    assert not (tmp_path / "absent.db").exists()


# --- cases ------------------------------------------------------------------------------------
def test_old_closed_case_anonymised_open_and_claimed_kept(case_store: HandoffStore, clock: dict) -> None:
    ids = make_cases(case_store, clock)
    total = len(case_store.list())
    changed = service.purge_closed(case_store, retention.cutoff_for(NOW, 30))
    assert changed == [ids["closed_old"]]

    old = case_store.get(ids["closed_old"], with_history=True)
    assert old.sender_id == f"deleted:{old.id}" and old.summary == "" and old.status == CLOSED
    assert all(e.detail is None for e in old.history)
    assert (
        old.priority == "high" and old.risk_category == "abuse" and old.channel == "telegram"
    )  # counts stay
    assert case_store.pending_outbox() == 0  # the unsent alert is gone
    assert len(case_store.list()) == total

    for name, status in (
        ("open_old", OPEN),
        ("claimed_old", CLAIMED),
        ("closed_feedback", CLOSED),
        ("closed_recent", CLOSED),
    ):
        case = case_store.get(ids[name], with_history=True)
        assert case.status == status and case.sender_id == f"{name}-sender", name
        assert case.summary and "[TÊN]" in case.summary
    assert case_store.active_case("open_old-sender") is not None
    # a second run has nothing left to do
    assert service.purge_closed(case_store, retention.cutoff_for(NOW, 30)) == []


def test_dry_run_changes_nothing(tracker_db: str, case_store: HandoffStore, clock: dict) -> None:
    make_cases(case_store, clock)
    rows, cases = tracker_rows(tracker_db), snapshot(case_store)
    report = retention.purge(
        now=NOW, days=30, tracker=tracker_db, purge_cases=cases_of(case_store), dry_run=True
    )
    assert (report.conversations, report.cases, report.dry_run) == (1, 1, True)
    assert report.events == rows["old-child"]
    assert tracker_rows(tracker_db) == rows
    assert snapshot(case_store) == cases


def test_purge_reports_counts_only(tracker_db: str, case_store: HandoffStore, clock: dict) -> None:
    make_cases(case_store, clock)
    report = retention.purge(now=epoch(NOW), days=30, tracker=tracker_db, purge_cases=cases_of(case_store))
    assert (report.conversations, report.cases) == (1, 1)
    text = report.summary()
    assert "1 conversation(s)" in text and "1 closed case(s)" in text
    assert "child" not in text and "0912" not in text and "Lan" not in text


def test_retention_days_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    assert retention.retention_days() == 30
    monkeypatch.setenv("RETENTION_DAYS", "7")
    assert retention.retention_days() == 7
    assert retention.retention_days(3) == 3
    monkeypatch.setenv("RETENTION_DAYS", "0")
    with pytest.raises(ValueError):
        retention.retention_days()


def test_tracker_url_from_endpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert retention.tracker_url(ROOT / "endpoints.yml") == f"sqlite:///{ROOT / 'var' / 'tracker.db'}"
    pg = tmp_path / "pg.yml"
    monkeypatch.setenv("TRACKER_PW", "s3cret")
    pg.write_text(
        "tracker_store:\n  type: bot.stores.tracker.PrivateSQLTrackerStore\n  dialect: postgresql\n"
        "  host: db.local\n  port: 5433\n  db: rasa\n  username: rasa\n  password: ${TRACKER_PW}\n"
    )
    assert retention.tracker_url(pg) == "postgresql://rasa:s3cret@db.local:5433/rasa"
    url = tmp_path / "url.yml"
    url.write_text("tracker_store:\n  type: SQL\n  url: postgresql://u:p@h/x\n")
    assert retention.tracker_url(url) == "postgresql://u:p@h/x"
    none = tmp_path / "none.yml"
    none.write_text("action_endpoint:\n  url: http://localhost:5055/webhook\n")
    assert retention.tracker_url(none) == f"sqlite:///{tmp_path / 'var' / 'tracker.db'}"


# --- the script and the daily loop ------------------------------------------------------------
def load_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("purge_script", ROOT / "scripts" / "purge.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_script(
    tracker_db: str,
    case_store: HandoffStore,
    clock: dict,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    make_cases(case_store, clock)
    monkeypatch.setenv("DATABASE_URL", case_store.url)
    monkeypatch.setattr(store_module, "_shared", {case_store.url: case_store})
    script = load_script()
    args = ["--tracker-url", tracker_db, "--now", "2025-03-01T12:00:00Z"]
    assert script.main(args + ["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "[dry run]" in out and "1 conversation(s)" in out and "1 closed case(s) would be" in out
    assert "old-child" in tracker_rows(tracker_db)

    assert script.main(args + ["--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "1 conversation(s)" in out and "1 closed case(s) were anonymised" in out
    assert "sender" not in out and "child" not in out and "0912" not in out
    assert "old-child" not in tracker_rows(tracker_db)

    assert script.main(args + ["--days", "1"]) == 0  # a shorter retention: the rest goes too
    assert "1 conversation(s) (6 event(s))" in capsys.readouterr().out  # "came-back"
    assert tracker_rows(tracker_db) == {"recent-child": 6}


async def test_purge_daily_runs_at_start_then_every_interval(
    tracker_db: str, case_store: HandoffStore, clock: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_cases(case_store, clock)
    times = iter([epoch(NOW), epoch(NOW + 40 * DAY)])  # the second run is 40 days later
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(retention.asyncio, "sleep", fake_sleep)
    await retention.purge_daily(
        cases_of(case_store), days=30, tracker=tracker_db, clock=lambda: next(times), runs=2
    )
    assert sleeps == [24 * 3600]
    assert tracker_rows(tracker_db) == {}  # all conversations old by the second run
    # the second run anonymised the remaining closed cases; the open and claimed ones stay
    statuses = {c.sender_id.startswith("deleted:"): c.status for c in case_store.list(CLOSED)}
    assert statuses == {True: CLOSED}
    assert {c.status for c in case_store.list() if not c.sender_id.startswith("deleted:")} == {OPEN, CLAIMED}


async def test_purge_daily_survives_a_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def boom(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise RuntimeError("database down " + CHILD_TEXT)

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(retention, "purge", boom)
    monkeypatch.setattr(retention.asyncio, "sleep", no_sleep)
    await retention.purge_daily(lambda cutoff, dry_run: [], runs=3)
    assert len(calls) == 3
    assert "RuntimeError" in caplog.text and "Lan" not in caplog.text


# --- PostgreSQL case store ----------------------------------------------------------------------
def test_postgres_case_store(clock: dict) -> None:
    if not postgres_ready():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (pg_isready failed): SQLite only")
    store = HandoffStore(PG_URL)
    store.drop_all()
    store.dispose()
    store = HandoffStore(PG_URL)
    try:
        ids = make_cases(store, clock)
        before = snapshot(store)
        assert service.purge_closed(store, retention.cutoff_for(NOW, 30), dry_run=True) == [ids["closed_old"]]
        assert snapshot(store) == before
        assert service.purge_closed(store, retention.cutoff_for(NOW, 30)) == [ids["closed_old"]]
        assert store.get(ids["closed_old"]).sender_id.startswith("deleted:")
        assert store.get(ids["open_old"]).status == OPEN and store.get(ids["open_old"]).summary
    finally:
        store.drop_all()
        store.dispose()


def test_report_is_json_safe() -> None:
    report = retention.PurgeReport(days=30, cutoff=NOW, conversations=2, events=10, cases=1)
    assert json.loads(json.dumps(report.__dict__, default=str))["cases"] == 1
