"""Replace personal data in Vietnamese text with placeholders (SPEC.md, "Privacy rules").

    >>> redact("số em là 0912 345 678, tên em là Lan")
    'số em là [SĐT], tên em là [TÊN]'

What is replaced, in this order:
- emails -> `[EMAIL]`;
- CCCD (12 digits) / CMND (9 digits) -> `[SỐ GIẤY TỜ]`;
- Vietnamese phone numbers (0xx / +84 / 84, with spaces, dots or dashes) -> `[SĐT]`;
- an address after "địa chỉ", "nhà em ở", "số nhà"... -> `[ĐỊA CHỈ]`;
- a name after "tên em/con/mình/tớ/tôi là", "em tên là"... -> `[TÊN]`;
- a school after "trường" -> `[TRƯỜNG]`.
Hotlines (111, 113, 114, 115) and ordinary numbers (ages, classes, prices) are kept.
It works with and without diacritics. It is a best effort: it errs towards redacting.
"""
from __future__ import annotations

import re
import unicodedata

EMAIL = "[EMAIL]"
PHONE = "[SĐT]"
ID_NUMBER = "[SỐ GIẤY TỜ]"
ADDRESS = "[ĐỊA CHỈ]"
NAME = "[TÊN]"
SCHOOL = "[TRƯỜNG]"

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# Mobile: 0 + 9 digits (03x, 05x, 07x, 08x, 09x); landline: 02x + 8 digits; +84/84 instead of 0.
# Digits may be grouped with spaces, dots or dashes ("0912 345 678", "0912.345.678").
_SEP = r"[\s.\-]?"
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+?84" + _SEP + r"|0)(?:\(?\d\)?" + _SEP + r"){8,10}\d(?!\w)"
)
# CCCD is 12 digits, CMND 9 digits (optionally grouped in threes / fours).
_ID_RE = re.compile(r"(?<!\w)(?:\d{12}|\d{3}[\s.]\d{3}[\s.]\d{3}[\s.]\d{3}|\d{4}[\s.]\d{4}[\s.]\d{4}|\d{9})(?!\w)")

# A "word" of a name; a name ends at punctuation, after 4 words, or at one of these words
# (compared lowercased, with and without diacritics; "thi" is left out: it is also "Thị").
_WORD = r"[^\W\d_]+"
_STOP = set(
    "và va ở o học hoc năm nam tuổi tuoi lớp lop nhà nha nhé nhe ạ a đây day đó do rồi roi thì mà ma "
    "nhưng nhung còn con cũng cung đang dang bị bi em mình minh tớ to tôi toi tui nó no bạn ban người nguoi "
    "có co không khong ko k hả ha nè ne ơi oi đi di thôi thoi với voi vs của cua là la".split()
)
def _fold(text: str) -> str:
    """Lowercase without diacritics (đ -> d), same length as the input."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFD", ch)[0]
        out.append("d" if ch in "đĐ" else base.lower())
    return "".join(out)


def _trigger_re(words: str) -> re.Pattern[str]:
    return re.compile(words, re.IGNORECASE)


# Triggers are matched on the folded text (no diacritics), so "ten em la" and "tên em là" both match.
_NAME_TRIGGER = _trigger_re(
    r"\b(?:ten (?:cua )?(?:em|con|minh|to|toi|tui|chau|be|ban ay|no|nguoi do|me|bo|ba)"
    r"(?: ay)? la|(?:em|con|minh|to|toi|tui|chau) ten(?: la)?|ho ten(?: la)?:?)\s+"
)
_ADDRESS_TRIGGER = _trigger_re(
    r"\b(?:dia chi(?: (?:cua )?(?:em|con|minh|to|toi|nha))?(?: la| o)?:?|nha (?:em|con|minh|to|toi|tui|chau)"
    r" (?:o|tai)|(?:em|con|minh|to|toi|tui|chau) (?:song|o) (?:o |tai )?(?=so|duong|ngo|hem|phuong|xa|thon)|"
    r"so nha)\s*"
)
_SCHOOL_TRIGGER = _trigger_re(r"\btruong\s+(?!hop\b|thanh\b|hoc\b(?!\s+\w))")
# An address runs to the end of the clause.
_CLAUSE_END = re.compile(r"[\n;!?]|\.(?:\s|$)|,\s*(?:va|nhung|ma|con|em|minh|to|toi)\b")


def _name_span(text: str, folded: str, start: int) -> int:
    """End of a name of 1-4 words starting at `start`; `start` itself when no name follows."""
    pos = start
    words = 0
    for match in re.finditer(_WORD, text[start:]):
        gap = text[pos : start + match.start()]
        if gap.strip() or "\n" in gap:
            break  # punctuation between words: the name ended
        if match.group(0).lower() in _STOP:
            break
        pos = start + match.end()
        words += 1
        if words == 4:
            break
    return pos


def _replace_after(text: str, trigger: re.Pattern[str], placeholder: str, kind: str) -> str:
    out = []
    last = 0
    folded = _fold(text)
    for match in trigger.finditer(folded):
        start = match.end()
        if start < last:
            continue
        if kind == "clause":
            end_match = _CLAUSE_END.search(text, start)
            end = end_match.start() if end_match else len(text)
        else:
            end = _name_span(text, folded, start)
        if end <= start or not text[start:end].strip():
            continue
        out.append(text[last:start])
        out.append(placeholder)
        last = end
    out.append(text[last:])
    return "".join(out)


_SCHOOL_LEVELS = re.compile(r"\b(?:THCS|THPT|TH|tiểu học|tieu hoc|trung học cơ sở|chuyên|chuyen)\s+", re.IGNORECASE)


def _redact_schools(text: str) -> str:
    out = []
    last = 0
    folded = _fold(text)
    for match in _SCHOOL_TRIGGER.finditer(folded):
        start = match.end()
        if start < last:
            continue
        level = _SCHOOL_LEVELS.match(text, start)
        name_start = level.end() if level else start
        end = _name_span(text, folded, name_start)
        if end <= name_start:
            continue
        # Only a capitalised name (or one after THCS/THPT...) is a school: "trường em" is not.
        if not level and not text[name_start].isupper():
            continue
        out.append(text[last:start])
        out.append(SCHOOL)
        last = end
    out.append(text[last:])
    return "".join(out)


def redact(text: str | None) -> str:
    """`text` with personal data replaced by placeholders; None gives ""."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _ID_RE.sub(lambda m: m.group(0) if _looks_like_phone(m.group(0)) else ID_NUMBER, text)
    text = _PHONE_RE.sub(PHONE, text)
    text = _replace_after(text, _ADDRESS_TRIGGER, ADDRESS, "clause")
    text = _replace_after(text, _NAME_TRIGGER, NAME, "name")
    text = _redact_schools(text)
    return text


def _looks_like_phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return len(digits) == 10 and digits.startswith("0")
