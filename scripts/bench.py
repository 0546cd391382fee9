"""Our bot against the stock `rasa init` bot, side by side on this machine (issue 14).

1. The stock bot: `rasa init --no-prompt` in a temporary folder (Rasa 3.6.21's English example,
   default config, in-memory tracker); its training is timed (the init is that training).
2. Our bot: a fresh, uncached `rasa train` of config.yml, then served as `make run` serves it
   (action server, our tracker store). With --workers N > 1: N Sanic workers on a PostgreSQL tracker
   store and the Redis lock store (one conversation stays in order, tests/test_faults.py).
3. Both are driven by the same closed-loop REST client (`drive`): C conversations, each sends its next
   message as soon as the previous reply arrives, a fresh sender every 4 messages, our own Vietnamese
   mix (never the evaluation texts), at 1 and at 20 conversations.
4. NLU (optional, --nlu; it does not fit in the 15 minutes): Rasa's default pipeline, trained on our
   data with fewer DIET epochs, against ours on the blind sets (tests/eval/blind/, with
   scripts/eval_blind.py). Figures only, never texts.

Prints one table with a ratio column. Stop the bench's servers with Ctrl-C at any time.

    .venv/bin/python scripts/bench.py [--seconds 30] [--workers 2] [--nlu [--epochs 20]] [--blind DIR]
    .venv/bin/python scripts/bench.py --url http://127.0.0.1:8080     # only the client, e.g. on `make scale`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import eval_blind  # noqa: E402
from tests.support.servers import BIN, RasaServer, free_port, http_json, start_bot, wait_until  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_HOST = os.environ.get("BENCH_REDIS", "127.0.0.1")
PER_SENDER = 4  # a fresh sender (a new conversation) every 4 messages

# Rasa's default NLU pipeline (as `rasa init` lists it) on our data, for the NLU comparison only.
DEFAULT_PIPELINE = """\
recipe: default.v1
language: vi
assistant_id: bench-default
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: {epochs}
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies:
  - name: RulePolicy
  - name: MemoizationPolicy
"""

# What the bot hears, written for the bench (not from ../shared/eval or tests/eval): greetings, tips
# with and without diacritics, teencode, parents, a few disclosures, thanks. Same list for both bots.
MIX = [
    "chào bạn",
    "cho mình hỏi cách đặt mật khẩu an toàn",
    "bạn là người hay máy vậy",
    "cảm ơn nhiều nha",
    "hello",
    "lam sao chan nguoi la nhan tin tren zalo",
    "con gái tôi 12 tuổi có nên dùng instagram không",
    "ok tks",
    "mình bị bạn cùng lớp nói xấu trên nhóm chat",
    "có",
    "mình nên làm gì",
    "bye",
    "hi ban",
    "có người lạ xin ảnh riêng tư của em",
    "không",
    "cảm ơn bạn",
    "xin chào",
    "acc game cua e bi lay mat roi",
    "giúp mình với",
    "tạm biệt nhé",
]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def server_rss(pid: int) -> float:
    """RSS of the Rasa server: the largest of the process and its Sanic workers (per-worker figure)."""
    return max([rss_mb(pid)] + [rss_mb(c) for c in children(pid)])


# --- the closed-loop client ------------------------------------------------------------------
async def drive(url: str, conversations: int, seconds: float, pooled: bool = False) -> dict:
    """C conversations for `seconds`: each sends as soon as it has its reply. Returns figures.

    By default each sender opens its own connection. `pooled`: every conversation shares one client
    whose C keep-alive connections, opened in one burst, stay for the whole run (how the bench measured
    before 2026-11-29; kept as a second row because the two tell different stories with several workers)."""
    latencies: list[float] = []
    errors = empty = 0
    run = uuid.uuid4().hex[:6]

    tls = ssl.create_default_context()  # unused over http://, but httpx would load the CA bundle per client

    async def conversation(idx: int, deadline: float) -> None:
        # Each sender is a person on their own device: their own connection, kept for their messages.
        # (One pool of 20 connections opened at once pins them to whichever Sanic worker accepted the
        # burst: 19 on one worker and 1 on the other was seen; real senders come and go.)
        nonlocal errors, empty
        n = 0
        client: httpx.AsyncClient | None = None
        try:
            while time.monotonic() < deadline:
                if pooled:
                    client = shared
                elif n % PER_SENDER == 0:
                    if client is not None:
                        await client.aclose()
                    client = httpx.AsyncClient(timeout=60, verify=tls)  # a built context: 0.05 ms, not 19
                sender = f"bench-{run}-{idx}-{n // PER_SENDER}"
                text = MIX[(idx * 7 + n) % len(MIX)]
                t0 = time.monotonic()
                try:
                    resp = await client.post(
                        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                    )
                    if resp.status_code >= 400:
                        errors += 1
                    elif not resp.json():
                        empty += 1  # answered with no message (the stock bot has no reply for some intents)
                except httpx.HTTPError:
                    errors += 1
                latencies.append(1000 * (time.monotonic() - t0))
                n += 1
        finally:
            if client is not None and not pooled:
                await client.aclose()

    limits = httpx.Limits(max_connections=conversations + 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as shared:
        client = shared
        # Warm-up, not counted: every message of the mix once, 4 at a time, so that each Sanic worker has
        # run its first (slow, graph-tracing) prediction and every reply path before the clock starts.
        for i in range(0, len(MIX), 4):
            await asyncio.gather(
                *(
                    client.post(
                        f"{url}/webhooks/rest/webhook",
                        json={"sender": f"warm-{run}-{i + j}", "message": text},
                    )
                    for j, text in enumerate(MIX[i : i + 4])
                )
            )
        t0 = time.monotonic()
        await asyncio.gather(*(conversation(i, t0 + seconds) for i in range(conversations)))
        wall = time.monotonic() - t0
    q = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / wall,
        "p50": q[49],
        "p95": q[94],
        "n": len(latencies),
        "errors": errors,
        "empty": empty,
    }


def load_rows(url: str, seconds: float, row: dict) -> None:
    for conc, pooled in ((1, False), (20, False), (20, True)):
        r = asyncio.run(drive(url, conc, seconds, pooled))
        level = f"{conc} (one pooled client)" if pooled else str(conc)
        row[f"msg/s @{level}"] = r["rps"]
        row[f"p50 ms @{level}"] = r["p50"]
        row[f"p95 ms @{level}"] = r["p95"]
        row[f"HTTP errors @{level}"] = r["errors"]
        row[f"answered with no message @{level} (%)"] = 100 * r["empty"] / max(1, r["n"])
        print(
            f"  @{level}: {r['rps']:.1f} msg/s, p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
            f"{r['n']} messages, {r['errors']} HTTP errors, {r['empty']} without a reply",
            file=sys.stderr,
            flush=True,
        )


# --- the stock bot ---------------------------------------------------------------------------
def stock_bot(work: Path, seconds: float) -> dict:
    folder = work / "stock"
    folder.mkdir()  # `rasa init --no-prompt` needs the folder to exist
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(work / "stock-cache")}
    print("[stock] rasa init --no-prompt (trains) ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    subprocess.run(
        [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(folder)],
        cwd=work,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    row = {"training time (s)": time.perf_counter() - t0}
    port = free_port()
    log = open(work / "stock-rasa.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "rasa"), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port)],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_json(f"{url}/status", timeout=2).get("model_file"), "stock rasa", proc)
        print("[stock] load ...", file=sys.stderr, flush=True)
        load_rows(url, seconds, row)
        row["server RSS (MB)"] = server_rss(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return row


# --- our bot ---------------------------------------------------------------------------------
def train(config_text: str, work: Path, name: str) -> tuple[str, float]:
    out = work / name
    out.mkdir(parents=True, exist_ok=True)
    config = out / "config.yml"
    config.write_text(config_text)
    # A private, empty cache: Rasa would otherwise reuse components trained earlier.
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / "cache")}
    t0 = time.perf_counter()
    subprocess.run(
        [
            str(BIN / "rasa"),
            "train",
            "--config",
            str(config),
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            str(out),
            "--fixed-model-name",
            name,
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    return str(out / f"{name}.tar.gz"), time.perf_counter() - t0


def pg_database() -> str:
    import sqlalchemy as sa

    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def drop_database(name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def serve_ours(model: str, work: Path, workers: int) -> tuple[RasaServer, str | None]:
    if workers <= 1:  # make run: SQLite tracker store, one process
        return start_bot(model, work / "serve"), None
    db = pg_database()
    host = PG.split("@")[-1].split(":")[0]
    stores = (
        "tracker_store:\n  type: bot.stores.tracker.PrivateSQLTrackerStore\n  dialect: postgresql\n"
        f"  url: {host}\n  port: 5432\n  db: {db}\n  username: postgres\n"
        f"lock_store:\n  type: redis\n  url: {REDIS_HOST}\n  port: 6379\n  db: 5\n"
        f"  key_prefix: bench{uuid.uuid4().hex[:6]}\n"
    )
    env = {"SANIC_WORKERS": str(workers), "DATABASE_URL": f"{PG}/{db}"}
    return start_bot(model, work / "serve", True, env=env, stores=stores), db


def our_bot(
    work: Path, seconds: float, workers: int, blind: list[Path], model: str | None
) -> tuple[dict, dict]:
    row: dict = {}
    if not model:
        print("[ours] training (fresh cache) ...", file=sys.stderr, flush=True)
        model, row["training time (s)"] = train((ROOT / "config.yml").read_text(), work, "ours")
    bot, db = serve_ours(model, work, workers)
    nlu: dict = {}
    try:
        print(f"[ours] load ({workers} Sanic worker(s)) ...", file=sys.stderr, flush=True)
        load_rows(bot.url, seconds, row)
        row["server RSS (MB)"] = server_rss(bot.procs[-1].pid)
        if blind:
            print("[ours] blind sets ...", file=sys.stderr, flush=True)
            nlu = blind_scores(bot.url, blind)
    finally:
        bot.stop()
        if db:
            drop_database(db)
    return row, nlu


# --- NLU comparison --------------------------------------------------------------------------
FIGURE = re.compile(r"^([a-z][a-z0-9_ /()\-]+): ([0-9.]+)% of ([0-9]+)$")


def blind_scores(url: str, sets: list[Path]) -> dict:
    """evaluate.py's percentages on each blind set's risk + nonrisk files (parse only); figures, no texts."""
    scores = {}
    for folder in sets:
        files = [folder / n for n in ("risk.jsonl", "nonrisk.jsonl") if (folder / n).exists()]
        if not files:
            continue
        for line in eval_blind.evaluate(url, "", files, False).splitlines():
            m = FIGURE.match(line.strip())
            if m:
                scores[f"{folder.name}: {m.group(1)} (%)"] = float(m.group(2))
    return scores


def default_pipeline_nlu(work: Path, epochs: int, blind: list[Path]) -> tuple[dict, float]:
    print(f"[default pipeline] training ({epochs} DIET epochs) ...", file=sys.stderr, flush=True)
    model, train_s = train(DEFAULT_PIPELINE.format(epochs=epochs), work, "default")
    bot = start_bot(model, work / "serve-default", with_actions=False)
    try:
        print("[default pipeline] blind sets ...", file=sys.stderr, flush=True)
        return blind_scores(bot.url, blind), train_s
    finally:
        bot.stop()


# --- report ----------------------------------------------------------------------------------
def table(left: str, right: str, a: dict, b: dict, ratio_header: str) -> str:
    lines = [f"| metric | {left} | {right} | {ratio_header} |", "|---|---:|---:|---:|"]
    for key in a:
        x, y = a[key], b.get(key, float("nan"))
        ratio = f"{x / y:.2f}" if y and y == y else "-"
        lines.append(f"| {key} | {x:,.1f} | {y:,.1f} | {ratio} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30, help="seconds of load per level (1, 20, 20 pooled)")
    ap.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BENCH_WORKERS", "2")),
        help="Sanic workers of our bot (>1: PostgreSQL tracker + Redis lock store)",
    )
    # Off by default: training the default pipeline (DIET with 2 transformer layers) on our data does not
    # fit in make bench's 15 minutes on 2 cores, even with few epochs. `make bench BENCH_ARGS=--nlu`.
    ap.add_argument(
        "--nlu",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also compare NLU with Rasa's default pipeline on the blind sets (adds ~5 min)",
    )
    ap.add_argument("--epochs", type=int, default=20, help="DIET epochs of the default pipeline (Rasa: 100)")
    ap.add_argument("--blind", type=Path, default=eval_blind.BLIND, help="folder of the blind sets")
    ap.add_argument("--skip-stock", action="store_true", help="only our bot (development)")
    ap.add_argument("--model", help="serve this model instead of training ours (development)")
    ap.add_argument("--url", help="only drive a running bot (e.g. `make scale`'s nginx)")
    a = ap.parse_args()
    if a.url:
        row: dict = {}
        load_rows(a.url.rstrip("/"), a.seconds, row)
        print(table("this bot", "-", row, {}, "-"))
        return 0
    blind = sorted(p for p in a.blind.iterdir() if p.is_dir()) if a.nlu and a.blind.is_dir() else []
    if a.nlu and not blind:
        print(f"no blind sets in {a.blind}: NLU comparison skipped", file=sys.stderr)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        stock = {} if a.skip_stock else stock_bot(work, a.seconds)
        ours, ours_nlu = our_bot(work, a.seconds, a.workers, blind, a.model)
        default_nlu, default_train = default_pipeline_nlu(work, a.epochs, blind) if blind else ({}, 0.0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nLatency and throughput: closed loop over REST, {a.seconds:.0f} s per level, "
        f"a fresh sender every {PER_SENDER} messages; ours with {a.workers} Sanic worker(s)"
        + (" (PostgreSQL tracker, Redis lock store)" if a.workers > 1 else " (SQLite tracker)")
        + "; RSS per server process (largest worker).\n"
    )
    print(table("this bot", "stock `rasa init` bot", ours, stock, "ours / stock"))
    if blind:
        print(
            f"\nNLU on the blind sets (parse only). Rasa's default pipeline trained on our data with "
            f"{a.epochs} DIET epochs instead of 100, to fit the time ({default_train:.0f} s).\n"
        )
        print(table("this bot", "Rasa default pipeline", ours_nlu, default_nlu, "ours / default"))
    print(f"\nbench wall time: {(time.monotonic() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
