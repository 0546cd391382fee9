"""Time from a child's disclosure to the counsellors' alert (`sendMessage` on the fake Bot API).

Starts the fake Bot API and the bot (the current model, trained if missing) with a counsellors'
group, sends imminent disclosures over REST from distinct children one after another, and records
when each alert reaches the fake Telegram server. Goal (issue 4): p95 under 2 s.

    .venv/bin/python scripts/bench_handoff.py [--children 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import fake_bot_api as tg  # noqa: E402
from tests.support.servers import current_model, start_bot  # noqa: E402

GROUP = -100777
DISCLOSURES = ["e muon chet", "mình không muốn sống nữa", "toi nay e dinh tu tu", "em muốn tự tử cho xong"]


async def run(children: int) -> list[float]:
    api = await tg.FakeBotAPI().start()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'handoff.db'}",
            "TELEGRAM_TOKEN": api.token,
            "TELEGRAM_API_URL": api.root_url,
            "TELEGRAM_WEBHOOK_SECRET": "bench-secret",
            "TELEGRAM_STATE_DB": str(Path(tmp) / "telegram.sqlite3"),
            "COUNSELLOR_CHAT_ID": str(GROUP),
            "COUNSELLOR_IDS": "1",
            # The bench's children all write from 127.0.0.1 within a minute: past the intake limits their
            # alerts would (rightly) go into one digest. This bench times single alerts; bench_flood.py
            # times a real alert behind a flood.
            "HANDOFF_CASES_PER_SOURCE_HOUR": "1000",
            "HANDOFF_ALERTS_PER_MINUTE": "1000",
        }
        bot = await asyncio.to_thread(start_bot, current_model(), Path(tmp) / "bot", True, env)
        times: list[float] = []
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                for i in range(children):
                    started = time.perf_counter()
                    await client.post(
                        f"{bot.url}/webhooks/rest/webhook",
                        json={"sender": f"bench-{i}", "message": DISCLOSURES[i % len(DISCLOSURES)]},
                    )
                    while not any(f"[Ca #{i + 1}]" in t for t in api.sent_texts(GROUP)):
                        if time.perf_counter() - started > 30:
                            raise RuntimeError(f"no alert for child {i + 1} within 30 s")
                        await asyncio.sleep(0.01)
                    times.append(time.perf_counter() - started)
        finally:
            await asyncio.to_thread(bot.stop)
            await api.stop()
    return times


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--children", type=int, default=20)
    times = asyncio.run(run(ap.parse_args().children))
    q = statistics.quantiles(times, n=20)
    print(
        f"disclosure -> alert sendMessage over {len(times)} children: "
        f"p50 {statistics.median(times):.2f} s, p95 {q[18]:.2f} s, max {max(times):.2f} s (goal: p95 < 2 s)"
    )
    return 0 if q[18] < 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
