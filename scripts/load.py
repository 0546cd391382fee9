"""Load test: N concurrent conversations for D seconds over the REST channel.

Starts the bot with the current model (like `make test` does: scripts/model.py, then
tests.conftest.start_bot on free ports, a throw-away SQLite tracker store and handoff
database), or uses an already running one with --url. Each conversation plays short scripts
drawn from a fixed mix (greetings, tips without diacritics and in teencode, parent questions,
every kind of disclosure, thanks, button payloads such as /affirm, a few long messages), one
message at a time, with a fresh sender for every script.

Prints throughput, p50/p95/p99 latency, the peak resident memory of the Rasa server and of the
action server, and exits non-zero when any message got an HTTP error (status >= 400, a timeout
or a broken connection) or was lost (a reply list with no reply: every message of the mix
must be answered).

    .venv/bin/python scripts/load.py [--conversations 20] [--duration 300] [--url http://127.0.0.1:5005]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# A sender may send RATE_LIMIT_MESSAGES (20) per RATE_LIMIT_SECONDS (10) before the front door drops
# messages; a conversation sends at most one message per MIN_GAP seconds, so it never floods.
MIN_GAP = 0.6

LONG_STORY = (
    "chuyện là thế này, hồi tháng trước em có quen một bạn trên mạng chơi game cùng, ban đầu bạn ấy "
    "nói chuyện vui lắm, hay cho em đồ trong game, rồi dạo này bạn ấy hay hỏi em học trường nào, nhà ở "
    "đâu, còn bảo em đừng kể với ai hết, em thấy hơi lạ nhưng không biết có nên kể với bố mẹ không vì "
    "sợ bị mắng, em phải làm sao bây giờ? "
) * 4  # about 1,300 characters, a run-on message
TOO_LONG_STORY = (
    "em muốn kể với bạn chuyện này dài lắm. " * 120
)  # over 4,000: the front door's "too long" reply

# (kind, messages): every message must get at least one reply. `needs_111` kinds must name 111 in
# the first reply turn (imminent and high risk, see SPEC.md).
SCRIPTS: list[tuple[str, list[str]]] = [
    ("greeting", ["chào bạn", "bạn là bot hả", "cảm ơn nhé", "tạm biệt"]),
    ("tip_no_diacritics", ["hi", "lam sao dat mat khau manh", "cam on ban"]),
    ("tip_teencode", ["cach dat pass cho acc ff", "ng la ib hoi dia chi nha thi sao", "ok tks"]),
    ("tip_button", ["/greet", "/ask_tip", '/ask_tip{"topic": "passwords"}', "/thank"]),
    (
        "parent",
        ["chào bạn", "con tôi 10 tuổi chơi TikTok được không?", "làm sao cài Family Link cho con", "cảm ơn"],
    ),
    ("parent_warning_signs", ["dấu hiệu con bị bắt nạt trên mạng là gì", "/affirm", "cảm ơn bạn"]),
    ("self_harm", ["e muon chet", "/affirm", "cảm ơn"]),
    ("self_harm_teencode", ["mk ko mun song nua", "/deny", "ok"]),
    ("sextortion", ["có người lạ dọa tung ảnh nóng của em", "/affirm", "cảm ơn bạn"]),
    ("grooming", ["có người lạ trên game cho em kim cương rồi hẹn gặp", "/deny", "thanks"]),
    ("abuse_offline", ["em bị bố đánh ở nhà", "/affirm"]),
    ("cyberbullying", ["e bi ban be chui tren group lop", "/deny", "cảm ơn"]),
    ("scam", ["acc fb cua minh bi hack roi", "/affirm", "cảm ơn nhé"]),
    ("distress", ["dạo này em buồn quá, ko ai hiểu em", "/deny", "tạm biệt"]),
    ("counsellor", ["em muốn nói chuyện với người thật", "/affirm"]),
    ("hotline", ["số 111 là gì", "/ask_hotline", "ok cảm ơn"]),
    ("out_of_scope", ["thời tiết hôm nay thế nào", "kể chuyện cười đi", "bye"]),
    ("long", [LONG_STORY, "cảm ơn bạn"]),
    ("too_long", [TOO_LONG_STORY, "ok"]),
]
NEEDS_111 = {"self_harm", "self_harm_teencode", "sextortion", "grooming", "abuse_offline"}


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    sent: int = 0
    errors: int = 0
    lost: int = 0
    missing_111: int = 0
    by_kind: dict[str, collections.Counter] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    examples: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        if len(self.examples) < 8:
            self.examples.append(line)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class MemoryWatch(threading.Thread):
    """Samples VmRSS of each process once a second: first, peak and last value."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.first: dict[str, float] = {}
        self.peak: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.stop = threading.Event()
        self.sample()

    def sample(self) -> None:
        for name, pid in self.pids.items():
            mb = rss_mb(pid)
            if mb is None:
                continue
            self.first.setdefault(name, mb)
            self.peak[name] = max(self.peak.get(name, 0.0), mb)
            self.last[name] = mb

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.sample()


async def conversation(
    client: httpx.AsyncClient,
    url: str,
    idx: int,
    deadline: float,
    stats: Stats,
    rng: random.Random,
    run_id: str,
) -> None:
    n = 0
    while time.monotonic() < deadline:
        kind, messages = SCRIPTS[rng.randrange(len(SCRIPTS))]
        sender = f"load-{run_id}-{idx}-{n}"
        n += 1
        for turn, text in enumerate(messages):
            if time.monotonic() >= deadline:
                return
            t0 = time.monotonic()
            stats.sent += 1
            stats.by_kind[kind]["sent"] += 1
            try:
                resp = await client.post(
                    f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                )
                ms = 1000 * (time.monotonic() - t0)
                stats.latencies_ms.append(ms)
                if resp.status_code >= 400:
                    stats.errors += 1
                    stats.by_kind[kind]["errors"] += 1
                    stats.note(f"HTTP {resp.status_code} [{kind}] {text[:40]!r}: {resp.text[:120]!r}")
                else:
                    replies = resp.json()
                    texts = [r.get("text") or "" for r in replies if isinstance(r, dict)]
                    if not replies:
                        stats.lost += 1
                        stats.by_kind[kind]["lost"] += 1
                        stats.note(f"lost [{kind}] turn {turn} {text[:40]!r} -> {resp.text[:120]!r}")
                    elif turn == 0 and kind in NEEDS_111 and not any("111" in t for t in texts):
                        stats.missing_111 += 1
                        stats.by_kind[kind]["missing_111"] += 1
                        stats.note(f"no 111 [{kind}] {text[:40]!r} -> {texts[0][:80]!r}")
            except (httpx.HTTPError, ValueError) as exc:
                stats.errors += 1
                stats.by_kind[kind]["errors"] += 1
                stats.note(f"{type(exc).__name__} [{kind}] {text[:40]!r}: {exc}")
            # One message at a time, and never faster than MIN_GAP (the front door's flood limit).
            await asyncio.sleep(max(0.0, MIN_GAP - (time.monotonic() - t0)))


async def run_load(
    url: str, conversations: int, duration: float, timeout: float, seed: int
) -> tuple[Stats, float]:
    stats = Stats()
    run_id = uuid.uuid4().hex[:6]
    limits = httpx.Limits(max_connections=conversations + 2, max_keepalive_connections=conversations + 2)
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0), limits=limits) as client:
        # Warm up (the first message loads lazily built parts); not counted.
        await client.post(
            f"{url}/webhooks/rest/webhook", json={"sender": f"load-{run_id}-warmup", "message": "chào"}
        )
        t0 = time.monotonic()
        deadline = t0 + duration
        await asyncio.gather(
            *(
                conversation(client, url, i, deadline, stats, random.Random(seed + i), run_id)
                for i in range(conversations)
            )
        )
        wall = time.monotonic() - t0
    return stats, wall


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def report(stats: Stats, wall: float, mem: MemoryWatch | None, conversations: int) -> None:
    lat = sorted(stats.latencies_ms)
    print(f"conversations: {conversations}, duration: {wall:.1f} s, messages: {stats.sent}")
    print(f"throughput: {stats.sent / wall:.2f} messages/s")
    if lat:
        print(
            f"latency ms: p50 {percentile(lat, 50):.0f}, p95 {percentile(lat, 95):.0f}, "
            f"p99 {percentile(lat, 99):.0f}, max {lat[-1]:.0f}, mean {statistics.fmean(lat):.0f}"
        )
    print(
        f"HTTP errors: {stats.errors}, lost replies: {stats.lost}, disclosures without 111: {stats.missing_111}"
    )
    if mem is not None:
        for name in mem.pids:
            if name in mem.peak:
                print(
                    f"RSS {name}: peak {mem.peak[name]:.0f} MB (start {mem.first[name]:.0f}, end {mem.last[name]:.0f})"
                )
            else:
                print(f"RSS {name}: n/a (process {mem.pids[name]} not readable)")
    else:
        print("RSS: n/a (pass --rasa-pid/--actions-pid with --url)")
    bad = {k: c for k, c in stats.by_kind.items() if c["errors"] or c["lost"] or c["missing_111"]}
    for kind, c in sorted(bad.items()):
        print(
            f"  {kind}: sent {c['sent']}, errors {c['errors']}, lost {c['lost']}, no 111 {c['missing_111']}"
        )
    for line in stats.examples:
        print(f"  e.g. {line}")


def current_model() -> str:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "model.py")],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conversations", type=int, default=20, help="concurrent conversations (default 20)")
    ap.add_argument("--duration", type=float, default=300, help="seconds of load (default 300)")
    ap.add_argument(
        "--url", help="use an already running bot (e.g. http://127.0.0.1:5005) instead of starting one"
    )
    ap.add_argument("--rasa-pid", type=int, help="with --url: the Rasa server's pid, for its memory")
    ap.add_argument("--actions-pid", type=int, help="with --url: the action server's pid, for its memory")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a request counts as an error")
    ap.add_argument("--seed", type=int, default=111)
    a = ap.parse_args()

    bot, tmp = None, None
    pids: dict[str, int] = {}
    if a.url:
        url = a.url.rstrip("/")
        if a.rasa_pid:
            pids["rasa server"] = a.rasa_pid
        if a.actions_pid:
            pids["action server"] = a.actions_pid
    else:
        from tests.support.servers import start_bot

        model = current_model()
        tmp = tempfile.TemporaryDirectory(prefix="load-")
        print(f"starting the bot with {Path(model).name} ...", file=sys.stderr, flush=True)
        bot = start_bot(model, Path(tmp.name))
        url = bot.url
        pids = {"rasa server": bot.procs[-1].pid, "action server": bot.procs[0].pid}
    try:
        mem = MemoryWatch(pids) if pids else None
        if mem:
            mem.start()
        print(
            f"load: {a.conversations} conversations for {a.duration:.0f} s against {url}",
            file=sys.stderr,
            flush=True,
        )
        stats, wall = asyncio.run(run_load(url, a.conversations, a.duration, a.timeout, a.seed))
        if mem:
            mem.stop.set()
            mem.sample()
        if bot is not None:
            for name, pid in pids.items():
                if rss_mb(pid) is None:
                    print(f"the {name} (pid {pid}) died during the run", file=sys.stderr)
                    stats.errors += 1
        report(stats, wall, mem, a.conversations)
    finally:
        if bot is not None:
            bot.stop()
        if tmp is not None:
            tmp.cleanup()
    ok = stats.errors == 0 and stats.lost == 0 and stats.sent > 0
    print("OK" if ok else "FAIL: errors or lost replies")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
