"""Several Rasa instances share one case store on PostgreSQL (docs/scaling.md): each runs the handoff
worker, and still every alert is sent by exactly one of them and every re-alert raised once.

Each "instance" here is its own HandoffStore (its own engine and connections) in its own thread and
event loop, as in separate processes. Skips without PostgreSQL on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from bot.handoff import notify
from bot.handoff.store import HandoffStore
from tests.support.servers import PG

INSTANCES = 3


class RecordingBot:
    """Stands in for the Telegram bot: records what is sent, slowly (a send takes a while)."""

    def __init__(self, sent: Counter, lock: threading.Lock) -> None:
        self.sent, self.lock = sent, lock

    async def send_message(self, chat_id: int, text: str, reply_markup: Any = None) -> Any:
        await asyncio.sleep(0.01)
        with self.lock:
            self.sent[text] += 1
            n = sum(self.sent.values())
        return SimpleNamespace(chat_id=chat_id, message_id=n)


@pytest.fixture
def stores(pg_database: str) -> Iterator[list[HandoffStore]]:  # noqa: F811
    url = f"{PG}/{pg_database}"
    stores = [HandoffStore(url) for _ in range(INSTANCES)]
    stores[0].engine  # creates the tables once
    yield stores
    for s in stores:
        s.dispose()


def test_every_alert_is_sent_by_exactly_one_instance(stores: list[HandoffStore]) -> None:
    for i in range(60):
        assert stores[0].enqueue(f"alert:{i}", "send", {"chat_id": -100, "text": f"[Ca #{i}]"})
    sent: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(INSTANCES)

    def worker(store: HandoffStore) -> None:
        bot = RecordingBot(sent, lock)

        async def run() -> None:
            start.wait()
            deadline = time.monotonic() + 30
            while store.pending_outbox() and time.monotonic() < deadline:
                await notify.deliver_due(store, bot)  # type: ignore[arg-type]

        asyncio.run(run())

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert stores[0].pending_outbox() == 0
    assert sorted(sent) == sorted(f"[Ca #{i}]" for i in range(60))
    assert set(sent.values()) == {1}, {k: v for k, v in sent.items() if v != 1}


def test_a_case_is_re_alerted_by_exactly_one_instance(stores: list[HandoffStore]) -> None:
    cases = [stores[0].open_case(f"child-{i}", "rest", "high")[0] for i in range(10)]
    later = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(minutes=6)
    start = threading.Barrier(INSTANCES)
    due: list[list[int]] = [[] for _ in stores]

    def worker(i: int) -> None:
        start.wait()
        due[i] = [c.id for c in stores[i].due_realerts(dt.timedelta(minutes=5), now=later)]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(INSTANCES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    everyone = [case_id for ids in due for case_id in ids]
    assert sorted(everyone) == sorted(c.id for c in cases), due  # each case once, whoever took it
