"""The Vietnamese text layer: fold / normalize / tokenize on real children's messages.

Pure Python (no Rasa, no model): fast. Also pins underthesea's own
``word_tokenize`` output in a snapshot so an upgrade that changes it fails here
first, not silently in the trained model.

Regenerate the snapshot deliberately (after reading the diff!) with::

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/nlu/test_normalize.py -k snapshot
"""

from __future__ import annotations

import json
import os
import time
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from bot.nlu import normalize as nz
from bot.nlu.normalize import (
    TEENCODE_PATH,
    Token,
    fold,
    normalize,
    normalize_folded,
    squeeze,
    syllables,
    teencode,
    tokenize,
)

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "underthesea_word_tokenize.json"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --------------------------------------------------------------------------- fold


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Em bị bắt nạt", "Em bi bat nat"),
        ("đừng kể với bố mẹ", "dung ke voi bo me"),
        ("ĐỪNG", "DUNG"),
        ("Tiếng Việt có dấu: ắ ằ ẳ ẵ ặ ế ề ể ễ ệ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ứ ừ ử ữ ự", None),
        ("không muốn sống nữa", "khong muon song nua"),
        ("e bi ban be chui", "e bi ban be chui"),  # already folded: unchanged
        ("", ""),
        ("111 😭 !?", "111 😭 !?"),
    ],
)
def test_fold_strips_every_vietnamese_mark(text, expected):
    out = fold(text)
    if expected is not None:
        assert out == expected
    assert all(not unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", out))
    assert "đ" not in out and "Đ" not in out


def test_fold_of_nfd_equals_fold_of_nfc():
    text = "Chú hàng xóm bảo em giữ bí mật"
    assert fold(nfd(text)) == fold(text) == "Chu hang xom bao em giu bi mat"


# --------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    "text, expected",
    [
        # teencode
        ("ko dc j", "không được gì"),
        ("e ko bit lm j", "em không bit làm gì"),  # "bit" is deliberately not mapped (bít/bịt)
        ("mk bi hack acc ff r", "mình bi hack tài khoản free fire rồi"),
        ("ny e bảo e xoá tn", "người yêu em bảo em xóa tn"),
        ("bme e ko bik", "bố mẹ em không biết"),
        ("hok ai hỉu e", "không ai hiểu em"),
        ("Em KO BIẾT", "em không biết"),
        # squeezing
        ("sợợợ", "sợ"),
        ("sợơơ", "sợ"),
        ("chetttt", "chet"),
        ("quáaaa", "quá"),
        ("huhuuu", "huhu"),
        ("buồnnnn quáaaa", "buồn quá"),
        ("kooo", "không"),  # squeezed, then teencode again
        ("xoong nồi", "xoong nồi"),  # "oo" is a real Vietnamese spelling
        ("gọi 111 nha", "gọi 111 nha"),  # digits are never squeezed
        # whole tokens only
        ("kobe bryant", "kobe bryant"),
        ("đi kẻo muộn", "đi kẻo muộn"),
        # tone-mark placement repaired
        ("hoá học", "hóa học"),
        ("thuỷ", "thủy"),
        # no diacritics stays without diacritics
        ("em bi ban be bat nat tren fb", "em bi ban be bat nat tren facebook"),
        ("em khong muon song nua", "em không muốn song nua"),
        # whitespace collapses, punctuation stays
        ("em\tbị\t\tbắt  nạt", "em bị bắt nạt"),
        ("  em   sợ  ", "em sợ"),
        ("em sợ!!! 😭😭", "em sợ!!! 😭😭"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ko dc j", "khong duoc gi"),
        ("Em bị bắt nạt", "em bi bat nat"),
        ("e bi bat nat", "em bi bat nat"),
        ("E bị dọa tung ảnh", "em bi doa tung anh"),
        ("mk muốn chếtttt", "minh muon chet"),
        ("mún chớt", "muon chet"),
    ],
)
def test_normalize_folded(text, expected):
    assert normalize_folded(text) == expected


def test_with_and_without_diacritics_fold_to_the_same_text():
    pairs = [
        ("Em bị bạn bè chửi trên Facebook", "em bi ban be chui tren fb"),
        ("Có người lạ dọa tung ảnh của em", "co nguoi la doa tung anh cua e"),
        ("Mình không muốn sống nữa", "mk ko muon song nua"),
    ]
    for marked, plain in pairs:
        assert normalize_folded(marked) == normalize_folded(plain)


def test_nfd_input_normalises_like_nfc():
    text = "Em bị bắt nạt, em sợ lắm"
    assert normalize(nfd(text)) == normalize(text) == "em bị bắt nạt, em sợ lắm"
    assert unicodedata.is_normalized("NFC", normalize(nfd(text)))


def test_zalgo_and_invisible_characters_are_dropped():
    zalgo = "e\u0334\u0322m\u0338 b\u0337ị\u0336 đ\u0335ánh\u0361\u035c"
    assert normalize(zalgo) == "em bị đánh"
    assert normalize("e\u200bm b\u200dị h\u00adack") == "em bị hack"
    assert normalize("\ufeffko") == "không"


def test_eth_is_read_as_d_bar():
    assert normalize("ðừng nói") == "đừng nói"


def test_squeeze_helper():
    assert squeeze("chetttt") == "chet"
    assert squeeze("sợợợ") == "sợ"
    assert squeeze("xoong") == "xoong"
    assert squeeze("111") == "111"
    assert squeeze("") == ""


# --------------------------------------------------------------------------- tokenize

OFFSET_TEXTS = [
    "Em bị bạn bè bắt nạt trên Facebook",
    "e bi ban be chui tren fb huhuuu 😭",
    "mk ko muốn đi học nữaaa 😢",
    "Có người lạ dọa tung ảnh của em!!! em sợợợ",
    nfd("Chú hàng xóm bảo em giữ bí mật"),
    "e\u200bm b\u200bị h\u0334a\u0338ck",
    "<b>em</b> bị <script>alert(1)</script> đánh",
    "em\tbị\t\tbắt  nạt\n\nem buồn",
    "ny e bảo e xóa tn đi, ko dc ns vs ai",
    "Tài khoản Free Fire của em bị hack mất rồi, nạp 200k kc",
    "مرحبا em bị lừa",
    "עברית em sợ",
    "\x00em\x00 bị",
]


@pytest.mark.parametrize("text", OFFSET_TEXTS)
def test_token_offsets_point_into_the_original_text(text):
    tokens = tokenize(text)
    assert tokens
    previous_end = 0
    for tok in tokens:
        assert isinstance(tok, Token)
        assert text[tok.start : tok.end] == tok.text
        assert tok.start >= previous_end and tok.end > tok.start
        assert tok.lemma and tok.lemma == fold(tok.lemma) and tok.lemma == tok.lemma.lower()
        previous_end = tok.end


@pytest.mark.parametrize("text", OFFSET_TEXTS)
def test_syllable_offsets_point_into_the_original_text(text):
    for syl in syllables(text):
        assert syl.norm
        assert 0 <= syl.start < syl.end <= len(text)
        assert normalize(text[syl.start : syl.end]) == syl.norm


def test_lemma_of_a_compound_has_the_folded_compound_and_its_syllables():
    tokens = tokenize("người yêu em tự tử")
    lemma = {t.text: t.lemma for t in tokens}
    assert lemma["tự tử"] == "tu_tu tu tu"
    assert lemma["em"] == "em"


def test_lemma_of_an_expansion_is_a_compound():
    tokens = tokenize("ny e bị hack acc ff")
    lemma = {t.text: t.lemma for t in tokens}
    assert lemma["ny"] == "nguoi_yeu nguoi yeu"
    assert lemma["acc"] == "tai_khoan tai khoan"
    assert lemma["ff"] == "free_fire free fire"
    assert lemma["e"] == "em"


def test_teencode_lemmas_are_expanded_and_folded():
    assert [t.lemma for t in tokenize("ko dc j")] == ["khong", "duoc", "gi"]


def test_with_and_without_diacritics_share_lemma_words():
    def words(text):
        return sorted(" ".join(t.lemma for t in tokenize(text)).replace("_", " ").split())

    assert set(words("em bi bat nat tren fb")) == set(words("Em bị bắt nạt trên Facebook"))


def test_html_tags_are_not_tokens():
    tokens = tokenize("<b>em</b> bị <script>alert(1)</script> đánh")
    texts = [t.text for t in tokens]
    assert "b" not in texts and "script" not in texts
    assert {"em", "bị", "đánh"} <= set(texts)


# --------------------------------------------------------------------------- hostile input

HOSTILE = [
    "",
    "   ",
    "\t\n\r",
    "😭😭😭🔪💔",
    "👍🏽👨‍👩‍👧",
    "\x00",
    "\x00\x00em\x00",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "</div></div></div>",
    "<<<>>>",
    "Z̴̢̛̖̗a̸̧̛l̷̡̛g̶̨̛o̵̢̡ ̴t̸e̷x̶t̵" * 20,
    "\u0300\u0301\u0303",  # marks with nothing to sit on
    "\u200b\u200c\u200d\ufeff",
    "مرحبا بالعالم",
    "שלום עולם",
    "\u202eem bị đánh\u202c",  # right-to-left override
    "\ud800",  # lone surrogate
    "a" * 5000 + "😭",
    "ko " * 3000,
    "\\x00 %s %d {0} ${x}",
    "ﷺ ǅ ß ŉ İ",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_inputs_never_crash(text):
    assert isinstance(fold(text), str)
    norm = normalize(text)
    assert isinstance(norm, str)
    assert isinstance(normalize_folded(text), str)
    for tok in tokenize(text):
        assert text[tok.start : tok.end] == tok.text


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "😭😭😭", "\x00", "<br/>", "\u200b"])
def test_inputs_without_words_have_no_tokens(text):
    assert tokenize(text) == []
    assert normalize(text).strip() in ("", "😭😭😭")


def test_none_and_non_strings_are_tolerated():
    assert normalize(None) == ""  # type: ignore[arg-type]
    assert tokenize(None) == []  # type: ignore[arg-type]
    assert normalize(111) == "111"  # type: ignore[arg-type]


def test_100k_characters_finish_quickly():
    words = "em bị bạn bè bắt nạt trên fb ko ai hỉu e sợợợ lắm 😭 ".split()
    text = " ".join(words[i % len(words)] for i in range(12000))[:100_000]
    text = text + "x" * (100_000 - len(text))
    assert len(text) == 100_000
    t0 = time.monotonic()
    tokens = tokenize(text)
    norm = normalize(text)
    elapsed = time.monotonic() - t0
    assert tokens and norm
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert elapsed < 60, f"100,000 characters took {elapsed:.1f}s"


def test_one_100k_word_finishes():
    text = "x" * 100_000
    t0 = time.monotonic()
    assert normalize(text) == "x"
    assert len(tokenize(text)) == 1
    assert time.monotonic() - t0 < 30


def test_long_text_skips_underthesea_but_keeps_offsets():
    text = ("người yêu " * (nz.LONG_TEXT // 10 + 10)).strip()
    assert len(text) > nz.LONG_TEXT
    tokens = tokenize(text)
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert all("_" not in t.lemma for t in tokens)  # one token per syllable


# --------------------------------------------------------------------------- teencode table


def _teencode_rows():
    rows = []
    for lineno, line in enumerate(TEENCODE_PATH.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append((lineno, line))
    return rows


def test_teencode_has_at_least_200_entries():
    assert len(_teencode_rows()) >= 200
    assert len(teencode()) >= 200


def test_teencode_has_no_duplicate_keys():
    keys = Counter(
        unicodedata.normalize("NFC", line.split("\t")[0].strip().lower()) for _, line in _teencode_rows()
    )
    dupes = {k: n for k, n in keys.items() if n > 1}
    assert not dupes, f"duplicate teencode keys: {dupes}"


def test_teencode_rows_are_well_formed():
    for lineno, line in _teencode_rows():
        parts = line.split("\t")
        assert len(parts) == 2, f"line {lineno}: want 'short<TAB>expansion': {line!r}"
        key, value = parts[0].strip(), parts[1].strip()
        assert key and value, f"line {lineno}: empty key or value"
        assert key == key.lower(), f"line {lineno}: keys are lower-case"
        assert " " not in key, f"line {lineno}: keys are single tokens"


def test_teencode_keys_are_whole_tokens_that_normalise():
    table = teencode()
    for key, value in table.items():
        if key == value:
            continue  # protected words ("good", "kill")
        assert normalize(key) == value, key


@pytest.mark.parametrize(
    "word",
    # Plain words typed without diacritics that must not be rewritten (see the header of teencode.tsv).
    ["kho", "dui", "mi", "tau", "bit", "bai", "ma", "chet", "song", "mun", "tu"],
)
def test_deliberately_unmapped_words_stay(word):
    assert word not in teencode()


# --------------------------------------------------------------------------- underthesea snapshot

SNAPSHOT_SENTENCES = [
    "Em bị bạn bè bắt nạt trên Facebook",
    "em bi ban be bat nat tren facebook",
    "Có người lạ dọa tung ảnh của em lên mạng",
    "co nguoi la doa tung anh cua em len mang",
    "Em không muốn sống nữa",
    "em khong muon song nua",
    "Tài khoản Free Fire của em bị hack mất rồi",
    "tai khoan free fire cua em bi hack mat roi",
    "Làm sao để bảo vệ con tôi khỏi người lạ trên mạng?",
    "lam sao de bao ve con toi khoi nguoi la tren mang?",
    "Chú hàng xóm bảo em giữ bí mật, đừng kể với bố mẹ",
    "Tổng đài 111 miễn phí, hoạt động 24/7.",
    "người yêu em tự tử",
]


def test_underthesea_word_tokenize_snapshot():
    from underthesea import word_tokenize

    actual = {s: word_tokenize(s) for s in SNAPSHOT_SENTENCES}
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        pytest.skip(f"snapshot rewritten: {SNAPSHOT}")
    how = (
        "underthesea's word_tokenize output changed (new underthesea version?). The tokenizer and the "
        "trained model depend on it. Check the diff, retrain, then regenerate the snapshot deliberately:\n"
        "    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/nlu/test_normalize.py -k snapshot"
    )
    assert SNAPSHOT.exists(), f"missing snapshot {SNAPSHOT}.\n{how}"
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert sorted(expected) == sorted(actual), (
        f"the snapshot's sentences differ from SNAPSHOT_SENTENCES.\n{how}"
    )
    diff = {s: (expected[s], actual[s]) for s in actual if expected[s] != actual[s]}
    assert not diff, (
        "\n".join(f"{s!r}:\n  snapshot {exp}\n  now      {got}" for s, (exp, got) in diff.items())
        + "\n"
        + how
    )
