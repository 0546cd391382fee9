"""Benchmark our Vietnamese pipeline against Rasa's default pipeline on the same data.

For each pipeline: training time (a fresh, uncached training), the Rasa server's
resident memory once serving, REST webhook p50/p95 latency and throughput at 1
and at 20 concurrent conversations, and the evaluate.py scores on dev.jsonl.
Prints one table with both side by side and their ratio.

    .venv/bin/python scripts/bench.py [--messages 60]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import BIN, SHARED, say, start_bot  # noqa: E402

BASELINE_CONFIG = """\
# Rasa's default pipeline (as `rasa init` writes it), no Vietnamese components.
recipe: default.v1
language: vi
assistant_id: baseline
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
    epochs: 100
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies:
  - name: RulePolicy
  - name: MemoizationPolicy
"""

# Our own sample of what the bot hears (not from dev.jsonl): mixed risk and everyday talk.
SAMPLE = [
    "chào bạn", "lam sao dat mat khau manh", "e bi ban be chui tren group lop",
    "có người lạ trên game cho em kim cương rồi hẹn gặp", "cảm ơn nhé", "acc fb cua minh bi hack roi",
    "con tôi 9 tuổi dùng tiktok được không", "dạo này em buồn quá", "số 111 là gì",
    "mk ko muon di hoc nua vi bi trêu hoai", "bạn là bot hả", "tạm biệt",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train(config_text: str | None, out: Path) -> tuple[Path, float]:
    out.mkdir(parents=True, exist_ok=True)
    config = out / "config.yml"
    config.write_text(config_text if config_text else (ROOT / "config.yml").read_text())
    t0 = time.perf_counter()
    # A private, empty cache: Rasa would otherwise reuse components trained earlier.
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / "cache")}
    subprocess.run(
        [str(BIN / "rasa"), "train", "--config", str(config), "--domain", "domain.yml", "--data", "data",
         "--out", str(out), "--fixed-model-name", "bench"],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    return out / "bench.tar.gz", time.perf_counter() - t0


def load(url: str, conversations: int, per_conversation: int) -> dict:
    def one(_: int) -> list[float]:
        sender, times = "bench-" + uuid.uuid4().hex[:8], []
        for i in range(per_conversation):
            t0 = time.perf_counter()
            say(url, sender, SAMPLE[i % len(SAMPLE)])
            times.append(time.perf_counter() - t0)
        return times

    t0 = time.perf_counter()
    with ThreadPoolExecutor(conversations) as pool:
        latencies = [t for ts in pool.map(one, range(conversations)) for t in ts]
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {"p50": 1000 * q[49], "p95": 1000 * q[94], "rps": len(latencies) / wall}


def evaluate(url: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(SHARED / "eval" / "evaluate.py"), "--url", url, str(SHARED / "eval" / "dev.jsonl")],
        capture_output=True, text=True,
    ).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("score:")), "")
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}


def measure(name: str, config_text: str | None, messages: int, workdir: Path) -> dict:
    print(f"[{name}] training ...", file=sys.stderr)
    model, train_s = train(config_text, workdir)
    bot = start_bot(str(model), workdir / "serve")
    try:
        say(bot.url, "warm-up", "chào bạn")
        row = {"training time (s)": train_s, "server RSS (MB)": rss_mb(bot.procs[-1].pid)}
        print(f"[{name}] latency ...", file=sys.stderr)
        for conc in (1, 20):
            stats = load(bot.url, conc, max(1, messages // conc) if conc == 1 else max(3, messages // conc))
            row[f"p50 ms @{conc}"] = stats["p50"]
            row[f"p95 ms @{conc}"] = stats["p95"]
            row[f"msg/s @{conc}"] = stats["rps"]
        print(f"[{name}] evaluate.py ...", file=sys.stderr)
        for key, value in evaluate(bot.url).items():
            row[f"dev {key} (%)"] = value
        return row
    finally:
        bot.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=60, help="messages per latency run")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours = measure("ours", None, a.messages, Path(tmp) / "ours")
        base = measure("baseline", BASELINE_CONFIG, a.messages, Path(tmp) / "baseline")
    print("\n| metric | ours | Rasa default | ours / default |\n|---|---:|---:|---:|")
    for key in ours:
        o, b = ours[key], base.get(key, float("nan"))
        ratio = o / b if b else float("nan")
        print(f"| {key} | {o:.1f} | {b:.1f} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
