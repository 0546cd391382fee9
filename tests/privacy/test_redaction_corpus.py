"""The redaction corpus (tests/privacy/redaction_corpus.jsonl), written by helpers who never read the
redactor: every `must_hide` substring is gone, every `must_keep` substring survives.

Figures (missed personal data, false positives) and the hostile-message timing: scripts/bench_redact.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from bot.privacy.redact import redact

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    json.loads(line)
    for line in (Path(__file__).with_name("redaction_corpus.jsonl")).read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def _id(case: dict) -> str:
    return f"{case['kind']}:{case['text'][:40]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_corpus_case(case: dict) -> None:
    out = redact(case["text"])
    assert [h for h in case["must_hide"] if h in out] == [], out
    assert [k for k in case["must_keep"] if k not in out] == [], out
    assert redact(out) == out  # placeholders are stable


def test_the_corpus_is_big_enough() -> None:
    traps = [c for c in CASES if not c["must_hide"]]
    assert len(CASES) >= 400 and len(traps) >= 150


def _nlu_examples() -> list[str]:
    texts = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in (item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.append(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:]))
    return texts


def test_ordinary_messages_are_left_alone() -> None:
    """The NLU examples are thousands of real-sounding messages, nearly all without personal data: the
    redactor changes almost none of them (an @mention of a classmate is a name, and goes)."""
    texts = _nlu_examples()
    changed = [t for t in texts if redact(t) != t]
    assert len(texts) > 3000
    assert len(changed) <= len(texts) * 0.003, changed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the output is the message as written: teen spelling, casing and accents outside the spans stay
        ("mk tên là ngọc hân nha, mk buồn quá", "mk tên là [TÊN] nha, mk buồn quá"),
        ("e ở xã hội này chán lắm", "e ở xã hội này chán lắm"),
        ("game id 123456789 add e chơi cùng", "game id 123456789 add e chơi cùng"),
        ("số e ０９１２３４５６７８ nha", "số e [SĐT] nha"),
        ("sdt: o912 345 678", "sdt: [SĐT]"),
        ("chú Hùng hàng xóm hay sờ vào người e", "chú [TÊN] hàng xóm hay sờ vào người e"),
        ("ig: @ngoc.han_09", "ig: [TÀI KHOẢN MXH]"),
        ("anh kia kết bạn Zalo với em rồi nhắn tin suốt", "anh kia kết bạn Zalo với em rồi nhắn tin suốt"),
        ("E tên là Lan. T là Khoa", "E tên là [TÊN]. T là [TÊN]"),
        (
            "mật khẩu của e là lan2010, pass fb: matkhau_123",
            "mật khẩu của e là [MẬT KHẨU], pass fb: [MẬT KHẨU]",
        ),
        ("pass lại acc 200k, mật khẩu là gì vậy", "pass lại acc 200k, mật khẩu là gì vậy"),
        ("mình là Gen Z nên hiểu mà, chủ tk Tran Thi B", "mình là Gen Z nên hiểu mà, chủ tk [TÊN]"),
        ("nhà em ở chung cư Times City tòa T5 phòng 1208, em sợ", "nhà em ở [ĐỊA CHỈ], em sợ"),
    ],
)
def test_examples_of_the_issue(text: str, expected: str) -> None:
    assert redact(text) == expected
