"""A flood of fake urgent cases, then a real one: how long until the real alert reaches the counsellors?

In-process, no Rasa: the handoff service, the outbox and the 1-second worker against the fake Bot API,
which allows 20 messages a minute per chat like a Telegram group (a 429 with `retry_after` beyond).
1,000 fake imminent cases are queued (fresh sender ids, like REST or new web sessions), then a real
urgent case from another address; the figure is the time from the real request to its alert's
`sendMessage`. Goal (issue 12): under 2 s. Two floods:

- `one-address`: the fakes come from one client address (the attack issue 12 describes);
- `many-addresses`: each fake from its own address (a botnet); the real case then arrives in a burst
  and is collapsed into the digest, sent within its gathering delay (10 s).

    .venv/bin/python scripts/bench_flood.py [--fakes 1000] [--timeout 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.handoff import notify, service  # noqa: E402
from bot.handoff.settings import HandoffSettings  # noqa: E402
from bot.handoff.store import HandoffStore, off_loop  # noqa: E402
from tests.support import fake_bot_api as tg  # noqa: E402

GROUP = -100888


async def flood(fakes: int, spread: bool, timeout: float) -> tuple[float | None, int, int]:
    """Returns (real alert latency in s or None, fake alerts sent one by one, digest messages)."""
    api = await tg.FakeBotAPI().start()
    api.per_chat_per_minute = 20
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["TELEGRAM_TOKEN"] = api.token
        os.environ["TELEGRAM_API_URL"] = api.root_url
        settings = HandoffSettings.from_env({"COUNSELLOR_CHAT_ID": str(GROUP), "TELEGRAM_TOKEN": api.token})
        store = HandoffStore(f"sqlite:///{tmp}/handoff.db")
        bot = notify.make_alert_bot(settings)
        assert bot is not None

        async def worker() -> None:  # CounsellorInput's worker: every second
            while True:
                await notify.deliver_due(store, bot)
                await asyncio.sleep(1.0)

        task = asyncio.ensure_future(worker())
        for i in range(fakes):
            source = service.source_of(f"10.9.{i // 250}.{i % 250}" if spread else "203.0.113.66")
            await off_loop(
                service.request_counsellor,
                store,
                settings,
                f"fake-{i}",
                "rest",
                "imminent",
                "disclose_self_harm",
                ["em muốn chết"],
                source,
            )
        started = time.monotonic()
        real = await off_loop(
            service.request_counsellor,
            store,
            settings,
            "real-child",
            "rest",
            "imminent",
            "disclose_self_harm",
            ["em muốn chết thật"],
            service.source_of("198.51.100.7"),
        )
        await notify.deliver_now(store, settings)  # what the action does right after opening the case
        needle = f"[Ca #{real.case.id}]"
        latency = None
        while time.monotonic() - started < timeout:
            texts = api.sent_texts(GROUP)
            if any(t.startswith(needle) or f"#{real.case.id}" in t for t in texts):
                latency = time.monotonic() - started
                break
            await asyncio.sleep(0.01)
        task.cancel()
        texts = api.sent_texts(GROUP)
        alone = sum(t.startswith("[Ca #") for t in texts) - (1 if latency is not None else 0)
        digests = sum(t.startswith("[Tổng hợp]") for t in texts)
        limited = sum(c.status == 429 for c in api.calls)
        print(f"  ({limited} answer(s) 429 from the fake's 20-a-minute group limit)")
        await bot.shutdown()
        store.dispose()
    await api.stop()
    return latency, alone, digests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fakes", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    for name, spread in (("one-address", False), ("many-addresses", True)):
        latency, alone, digests = asyncio.run(flood(args.fakes, spread, args.timeout))
        figure = f"{latency:.2f} s" if latency is not None else f"> {args.timeout:.0f} s (not sent)"
        goal = "" if spread else f"  goal < 2 s: {'OK' if latency is not None and latency < 2 else 'MISSED'}"
        print(
            f"flood {name}: {args.fakes} fake urgent cases queued; real urgent alert after {figure}"
            f" (fake alerts sent alone: {alone}, digest messages: {digests}){goal}"
        )


if __name__ == "__main__":
    main()
