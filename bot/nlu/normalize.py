"""Vietnamese text normalisation and tokenisation for children's chat messages.

Pure Python (no Rasa). The Rasa tokenizer in ``components.py`` wraps
:func:`tokenize`; the safety net matches its patterns against
``fold(normalize(text))``.

Pipeline for one syllable (a run of letters/digits, with any combining marks
and zero-width characters glued to it, in the ORIGINAL text):

1. NFD, drop combining marks that are not Vietnamese (Zalgo), NFC;
   drop zero-width/format characters; ``ð`` -> ``đ``.
2. lower-case;
3. underthesea ``text_normalize`` (tone-mark placement: "hoá" -> "hóa");
   guarded, any exception keeps the input;
4. teencode lookup (whole token only: "ko" -> "không", never inside "kobe");
5. squeeze repeated letters ("sợợợ" -> "sợ", "chetttt" -> "chet", "huhuuu" -> "huhu";
   3+ identical letters -> 1, 2 identical letters -> 1 except "oo": "xoong");
6. teencode lookup again on the squeezed form ("kooo" -> "ko" -> "không").

Nothing heavy happens at import time: the teencode table and underthesea are
loaded on first use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

DATA_DIR = Path(__file__).resolve().parent / "data"
TEENCODE_PATH = DATA_DIR / "teencode.tsv"

#: Above this length :func:`tokenize` skips underthesea compounds (speed).
LONG_TEXT = 5000

# Combining marks that spell Vietnamese: grave, acute, circumflex, tilde, breve,
# hook above, horn, dot below. Every other combining mark is noise (Zalgo).
_VI_MARKS = frozenset("\u0300\u0301\u0302\u0303\u0306\u0309\u031b\u0323")
_CHAR_MAP = {"ð": "đ", "Ð": "Đ"}
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,20}(?:\s[^<>]{0,300})?/?>")


class Syllable(NamedTuple):
    start: int
    end: int
    norm: str  # normalised form, with diacritics; may be several words ("người yêu")


class Token(NamedTuple):
    start: int
    end: int
    text: str  # == original[start:end]
    lemma: str  # folded; "tu_tu tu tu" for a compound


# --------------------------------------------------------------------------- helpers


def fold(text: str) -> str:
    """Strip Vietnamese diacritics: NFD, drop combining marks, đ/Đ -> d/D."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text)
    out = [ch for ch in decomposed if not unicodedata.combining(ch)]
    return unicodedata.normalize("NFC", "".join(out)).replace("đ", "d").replace("Đ", "D")


def _is_mark(ch: str) -> bool:
    # Combining marks and invisible format characters (ZWSP, ZWJ, soft hyphen, BOM)
    # stay glued to the letter before them.
    return unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf")


def _clean(chunk: str) -> str:
    """NFC with only Vietnamese combining marks kept; format characters dropped."""
    decomposed = unicodedata.normalize("NFD", chunk)
    kept = []
    for ch in decomposed:
        cat = unicodedata.category(ch)
        if cat == "Cf":
            continue
        if cat in ("Mn", "Mc", "Me") and ch not in _VI_MARKS:
            continue
        kept.append(_CHAR_MAP.get(ch, ch))
    return unicodedata.normalize("NFC", "".join(kept))


@functools.lru_cache(maxsize=1)
def _text_normalize():
    try:
        from underthesea import text_normalize  # noqa: WPS433 (lazy: heavy import)
    except Exception:  # pragma: no cover - underthesea missing
        return None
    return text_normalize


@functools.lru_cache(maxsize=1)
def _word_tokenize():
    try:
        from underthesea import word_tokenize  # noqa: WPS433
    except Exception:  # pragma: no cover
        return None
    return word_tokenize


@functools.lru_cache(maxsize=1)
def teencode() -> dict[str, str]:
    """The teencode table ``short -> expansion`` (lower-case, NFC), loaded once."""
    table: dict[str, str] = {}
    try:
        lines = TEENCODE_PATH.read_text(encoding="utf-8").splitlines()
    except OSError:  # pragma: no cover - missing data file: no expansion
        return table
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        key = unicodedata.normalize("NFC", parts[0].strip().lower())
        value = unicodedata.normalize("NFC", parts[1].strip().lower())
        if key and value:
            table[key] = value
    return table


def teencode_fingerprint() -> str:
    """Hash of the teencode table: the tokenizer's lemmas depend on it, so edits retrain."""
    import hashlib

    return hashlib.sha256(TEENCODE_PATH.read_bytes()).hexdigest()


def _base(ch: str) -> str:
    return fold(ch).lower() if ch.isalpha() else ""


def _has_horn(ch: str) -> bool:
    return "\u031b" in unicodedata.normalize("NFD", ch)


def squeeze(word: str) -> str:
    """Squeeze letter repetitions: 3+ -> 1; 2 -> 1 except "oo" (xoong, boong).

    In runs of 3+, letters count as repeated when they differ only by diacritics,
    and the first one is kept: "quáaaa" -> "quá", "sợơơ" -> "sợ", "chetttt" -> "chet";
    a pair must be identical ("ưu" in "cứu" stays).
    Digits are never squeezed ("111").
    """
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        base = _base(word[i])
        j = i + 1
        if base:
            while j < n and _base(word[j]) == base:
                j += 1
        run = j - i
        # Two different letters of one base are Vietnamese, not a repetition: "ưu" in cứu, lưu.
        if run == 1 or (run == 2 and (base == "o" or word[i] != word[i + 1])):
            out.append(word[i:j])
        elif _has_horn(word[i]) and not _has_horn(word[j - 1]):
            out.append(word[i] + word[j - 1])  # "cứuuu" -> "cứu"
        else:
            out.append(word[i])
        i = j
    return "".join(out)


@functools.lru_cache(maxsize=50000)
def normalize_word(word: str) -> str:
    """Normalise one syllable (see module doc). Returns "" if nothing is left."""
    word = _clean(word).lower()
    if not word:
        return ""
    table = teencode()
    if word in table:
        return table[word]
    tn = _text_normalize()
    if tn is not None:
        try:
            fixed = tn(word)
            # underthesea's own tokenizer may split "2k9" into "2 k9": glue it back.
            fixed = "".join(fixed.split()) if isinstance(fixed, str) else word
            if fixed:
                word = fixed.lower()
        except Exception:
            pass
    if word in table:
        return table[word]
    squeezed = squeeze(word)
    return table.get(squeezed, squeezed)


def _spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each syllable: a letter/digit then letters/digits/marks.

    HTML tags (``<b>``, ``</div>``) are skipped: they are markup, not words.
    """
    spans: list[tuple[int, int]] = []
    start: int | None = None
    tags = {}
    if "<" in text:
        tags = {m.start(): m.end() for m in _HTML_TAG.finditer(text)}
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if i in tags:
            if start is not None:
                spans.append((start, i))
                start = None
            i = tags[i]
            continue
        i += 1
        if ch.isalnum():
            if start is None:
                start = i - 1
        elif start is not None and _is_mark(ch):
            continue
        elif start is not None:
            spans.append((start, i - 1))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


def syllables(text: str) -> list[Syllable]:
    """Each word-ish span of the ORIGINAL text with its normalised form."""
    if not text:
        return []
    if not isinstance(text, str):
        text = str(text)
    out = []
    for start, end in _spans(text):
        norm = normalize_word(text[start:end])
        if norm:
            out.append(Syllable(start, end, norm))
    return out


def _gap(chunk: str) -> str:
    """What stays of the text between two syllables: punctuation and emoji, one space."""
    if "<" in chunk:
        chunk = _HTML_TAG.sub(" ", chunk)
    kept = []
    for ch in chunk:
        cat = unicodedata.category(ch)
        if ch.isspace() or ch == "_" or cat in ("Cc", "Zl", "Zp", "Zs"):
            kept.append(" ")
        elif cat in ("Mn", "Mc", "Me", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            kept.append(ch)
    return re.sub(r" {2,}", " ", "".join(kept))


def normalize(text: str) -> str:
    """NFC, tone marks repaired, lower-case, letters squeezed, teencode expanded.

    Punctuation is kept (it separates words); whitespace collapses to one space.
    The result keeps diacritics; use ``fold(normalize(text))`` to match without.
    """
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    parts = []
    pos = 0
    for syl in syllables(text):
        parts.append(_gap(text[pos : syl.start]))
        parts.append(syl.norm)
        pos = syl.end
    parts.append(_gap(text[pos:]))
    return re.sub(r" {2,}", " ", "".join(parts)).strip()


def normalize_folded(text: str) -> str:
    """``fold(normalize(text))``: the form the safety patterns are written for."""
    return fold(normalize(text))


# --------------------------------------------------------------------------- tokenize


def _lemma(words: list[str], compounds: list[str]) -> str:
    folded = [fold(w) for w in words]
    parts = ["_".join(fold(w) for w in c.split()) for c in compounds]
    return " ".join(parts + folded)


def _groups_from_underthesea(text: str, syls: list[Syllable]) -> list[tuple[int, int, list[str]]] | None:
    """Group syllables with underthesea compounds.

    Returns (first, last, compounds) per group, syllable indices inclusive, or
    None when underthesea is missing or its output cannot be aligned.
    """
    wt = _word_tokenize()
    if wt is None:
        return None
    # Build the normalised sentence and remember, per non-space character,
    # which syllable it came from (-1 for punctuation).
    pieces: list[str] = []
    owners: list[int] = []
    pos = 0
    for idx, syl in enumerate(syls):
        gap = "".join(ch for ch in _gap(text[pos : syl.start]) if not ch.isspace())
        if gap:
            pieces.append(" " + gap + " ")
            owners.extend([-1] * len(gap))
        pieces.append(" " + syl.norm + " ")
        owners.extend([idx] * len("".join(syl.norm.split())))
        pos = syl.end
    gap = "".join(ch for ch in _gap(text[pos:]) if not ch.isspace())
    if gap:
        pieces.append(" " + gap)
        owners.extend([-1] * len(gap))
    sentence = re.sub(r"\s+", " ", "".join(pieces)).strip()
    flat = "".join(sentence.split())
    try:
        tokens = wt(sentence)
    except Exception:
        return None
    if not isinstance(tokens, list):
        return None
    cursor = 0
    intervals: list[list] = []  # [first, last, compounds]
    for tok in tokens:
        if not isinstance(tok, str):
            return None
        chars = "".join(tok.split())
        if not chars:
            continue
        if flat[cursor : cursor + len(chars)].lower() != chars.lower():
            return None
        covered = sorted({o for o in owners[cursor : cursor + len(chars)] if o >= 0})
        cursor += len(chars)
        if not covered:
            continue
        first, last = covered[0], covered[-1]
        compound = [tok.lower()] if len(tok.split()) > 1 else []
        # A compound spanning punctuation or only part of an expansion is not trusted.
        if compound and any(o < 0 for o in owners[cursor - len(chars) : cursor]):
            compound = []
        if intervals and first <= intervals[-1][1]:
            intervals[-1][1] = max(intervals[-1][1], last)
            intervals[-1][2].extend(compound)
        else:
            intervals.append([first, last, compound])
    if cursor != len(flat):
        return None
    # Any syllable underthesea did not cover gets its own group.
    seen = set()
    for first, last, _ in intervals:
        seen.update(range(first, last + 1))
    for idx in range(len(syls)):
        if idx not in seen:
            intervals.append([idx, idx, []])
    intervals.sort(key=lambda g: g[0])
    merged: list[list] = []
    for g in intervals:
        if merged and g[0] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], g[1])
            merged[-1][2].extend(g[2])
        else:
            merged.append(g)
    return [(g[0], g[1], g[2]) for g in merged]


def tokenize(text: str) -> list[Token]:
    """Tokens for Rasa: offsets into ``text``, lemma = folded normalised form.

    A multi-syllable compound gets the lemma ``"tu_tu tu tu"`` (compound, then
    its syllables) so features see both. Never raises on odd input.
    """
    if not text:
        return []
    if not isinstance(text, str):
        text = str(text)
    syls = syllables(text)
    if not syls:
        return []
    groups = None
    if len(text) <= LONG_TEXT:
        try:
            groups = _groups_from_underthesea(text, syls)
        except Exception:
            groups = None
    if groups is None:
        groups = [(i, i, []) for i in range(len(syls))]
    tokens: list[Token] = []
    for first, last, compounds in groups:
        start, end = syls[first].start, syls[last].end
        words: list[str] = []
        for syl in syls[first : last + 1]:
            words.extend(syl.norm.split())
        # An expansion alone ("ny" -> "người yêu") is a compound too.
        if not compounds and len(words) > 1 and first == last:
            compounds = [" ".join(words)]
        lemma = _lemma(words, compounds) or fold(text[start:end].lower())
        tokens.append(Token(start, end, text[start:end], lemma))
    return tokens
