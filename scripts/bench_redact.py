"""The redactor's figures: missed personal data and false positives on the redaction corpus, and the time
of hostile 4,000-character messages (a benchmark, not a test: timing depends on the machine).

    .venv/bin/python scripts/bench_redact.py [--corpus tests/privacy/redaction_corpus.jsonl]
                                             [--redactor path/to/other_redact.py] [--misses]

Corpus lines: {"text", "must_hide": [...], "must_keep": [...], "kind"}. A case is *missed* when a
must_hide substring is still in the redacted text, a *false positive* when a must_keep substring is gone.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "privacy" / "redaction_corpus.jsonl"

#: Messages built to be slow for regular expressions (long runs, many triggers, no end), 4,000 characters.
HOSTILE = {
    "one long word": "a" * 4000,
    "digits": "1" * 4000,
    "dotted digits": "1." * 2000,
    "spaced zeros": "0 " * 2000,
    "email-like run": "a.b+c-" * 666 + "abcd",
    "name triggers": ("tên em là Lan " * 300)[:4000],
    "capitalised words": ("Nguyễn Văn An " * 300)[:4000],
    "lanes": ("ngõ 1 phố Huế " * 300)[:4000],
    "house numbers": ("12 Lê Lợi " * 400)[:4000],
    "address triggers": ("địa chỉ " * 500)[:4000],
    "address, no end": "địa chỉ " + "Lê Lợi " * 570,
    "schools": ("trường THCS " * 400)[:4000],
    "spoken digits": ("không chín một hai " * 250)[:4000],
    "bank-like": ("stk 1 2 3 " * 400)[:4000],
    "handles": ("@a" * 2000),
    "urls": ("fb.com/" * 571)[:4000],
    "teencode": ("e mk t ko dc j z " * 250)[:4000],
    "single capitals": "E. T " * 800,
}


def load_redact(path: str | None) -> Callable[[str], str]:
    if not path:
        from bot.privacy.redact import redact

        return redact
    spec = importlib.util.spec_from_file_location("other_redact", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.redact


def figures(redact: Callable[[str], str], cases: list[dict], show: bool) -> str:
    missed = fp = hide_total = keep_total = missed_cases = fp_cases = 0
    pii_cases = sum(1 for c in cases if c["must_hide"])
    by_kind: Counter = Counter()
    for case in cases:
        out = redact(case["text"])
        miss = [h for h in case["must_hide"] if h in out]
        lost = [k for k in case["must_keep"] if k not in out]
        hide_total += len(case["must_hide"])
        keep_total += len(case["must_keep"])
        missed += len(miss)
        fp += len(lost)
        missed_cases += bool(miss)
        fp_cases += bool(lost)
        if miss or lost:
            by_kind[case["kind"]] += 1
            if show:
                print(f"[{case['kind']}] {case['text']!r}\n   -> {out!r}\n   missed {miss} lost {lost}")
    pct = lambda a, b: f"{100 * a / b:.1f}%" if b else "n/a"  # noqa: E731
    return (
        f"cases: {len(cases)} ({pii_cases} with personal data, {len(cases) - pii_cases} traps)\n"
        f"missed personal data: {missed} of {hide_total} substrings ({pct(missed, hide_total)}), "
        f"in {missed_cases} of {pii_cases} cases ({pct(missed_cases, pii_cases)})\n"
        f"false positives: {fp} of {keep_total} kept substrings lost ({pct(fp, keep_total)}), "
        f"in {fp_cases} of {len(cases)} cases ({pct(fp_cases, len(cases))})\n"
        f"failing cases by kind: {dict(by_kind.most_common())}"
    )


def timing(redact: Callable[[str], str]) -> str:
    redact("tên em là Lan, số 0912 345 678")  # warm-up (lazy loads)
    lines, worst, worst_ratio = [], 0.0, 0.0
    for name, text in HOSTILE.items():
        best = min(_time(redact, text) for _ in range(3))
        longer = min(_time(redact, text * 4) for _ in range(2))  # 16,000 characters: linear means about x4
        worst, worst_ratio = max(worst, best), max(worst_ratio, longer / max(best, 1e-6))
        lines.append(
            f"  {name:18s} {len(text):5d} chars {best * 1000:7.1f} ms   x4 length: {longer / max(best, 1e-6):5.1f}x time"
        )
    return (
        "hostile messages (best of 3):\n"
        + "\n".join(lines)
        + f"\nworst: {worst * 1000:.1f} ms at 4,000 characters; worst growth for 4x the length: {worst_ratio:.1f}x"
    )


def _time(redact: Callable[[str], str], text: str) -> float:
    cache = getattr(sys.modules.get(redact.__module__), "_view_word", None)
    if cache is not None and hasattr(cache, "cache_clear"):
        cache.cache_clear()  # a hostile message brings new words: time it without the word cache
    started = time.perf_counter()
    redact(text)
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(CORPUS))
    ap.add_argument("--redactor", help="another redact.py to measure (e.g. the previous version)")
    ap.add_argument("--misses", action="store_true", help="print every failing case")
    a = ap.parse_args()
    redact = load_redact(a.redactor)
    cases = [
        json.loads(line) for line in Path(a.corpus).read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    print(figures(redact, cases, a.misses))
    print(timing(redact))
    return 0


if __name__ == "__main__":
    sys.exit(main())
