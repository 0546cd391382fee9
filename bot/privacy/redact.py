"""Replace personal data in Vietnamese text with placeholders (SPEC.md, "Privacy rules").

    >>> redact("số em là 0912 345 678, tên em là Lan")
    'số em là [SĐT], tên em là [TÊN]'

What is replaced, in this order:
- emails -> `[EMAIL]`;
- an exact birthday after "sinh ngày", "ngày sinh", "sn", "sinh nhật em là"... -> `[NGÀY SINH]`
  (a birth *year* alone is kept);
- a bank account number after "stk", "số tài khoản", "tài khoản"... or next to a bank name -> `[STK]`;
- CCCD (12 digits) / CMND (9 digits) -> `[SỐ GIẤY TỜ]`;
- Vietnamese phone numbers (0xx / +84 / 84, with spaces, dots or dashes; landlines 02x; a number
  spelt out in words, "không chín một hai...") -> `[SĐT]`;
- an address after "địa chỉ", "nhà em ở", "số nhà"... and a street address on its own
  ("số 5 ngõ 10 phố Huế", "12 Lê Lợi", "thôn 3 xã Yên Sở") -> `[ĐỊA CHỈ]`;
- a name after "tên em/con/mình/tớ/tôi là", "em tên là", "mình tên", "con tôi tên"... -> `[TÊN]`;
- a school after "trường" ("trường THCS Nguyễn Du", "truong thcs nguyen du") -> `[TRƯỜNG]`.
Hotlines (111, 113, 114, 115, 18001567) and ordinary numbers (ages, classes, scores, prices,
years, times, counts) are kept, and so are words like "trường hợp", "môi trường", "tên lửa".
It works with and without diacritics: triggers are matched on a folded copy of the text
(lowercase, no diacritics, same length) and the original text is replaced at the same place.
It is a best effort, regex only: it errs towards redacting.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable, Optional

EMAIL = "[EMAIL]"
PHONE = "[SĐT]"
ID_NUMBER = "[SỐ GIẤY TỜ]"
ADDRESS = "[ĐỊA CHỈ]"
NAME = "[TÊN]"
SCHOOL = "[TRƯỜNG]"
BANK_ACCOUNT = "[STK]"
BIRTHDAY = "[NGÀY SINH]"

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# Mobile: 0 + 9 digits (03x, 05x, 07x, 08x, 09x); landline: 02x + 8 digits; +84/84 instead of 0.
# Digits may be grouped with spaces, dots or dashes ("0912 345 678", "0912.345.678", "(024) 3825 1234").
_SEP = r"[\s.\-]?"
_PHONE_RE = re.compile(
    r"(?<![\w+.,])(?:\+?84" + _SEP + r"\(?0?\)?" + _SEP + r"|\(?0)(?:\(?\d\)?" + _SEP + r"){8,10}\d(?![\w%])"
    r"(?![.,]\d)"
)
# CCCD is 12 digits, CMND 9 digits (optionally grouped in threes / fours); never an amount of money.
_ID_RE = re.compile(
    r"(?<![\w.,])(?:\d{12}|\d{3}[\s.]\d{3}[\s.]\d{3}[\s.]\d{3}|\d{4}[\s.]\d{4}[\s.]\d{4}|\d{9})(?![\w.,]*\d)"
    r"(?!\s*(?:đ|d\b|đồng|dong|vnd|vnđ|k\b|tr\b|triệu|trieu|usd|\$))",
    re.IGNORECASE,
)

_DIGIT_WORDS = r"(?:khong|linh|mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin)"
# A phone number read out in words: at least 9 digits in words, starting with "không" (0) or 84.
_SPOKEN_PHONE_RE = re.compile(
    r"\b(?:khong|tam tu)(?:[\s,.\-]+" + _DIGIT_WORDS + r"\b){8,11}"
)

_DATE = (
    r"\d{1,2}\s*[/.\-]\s*\d{1,2}(?:\s*[/.\-]\s*(?:19|20)?\d{2})?(?!\d)"
    r"|\d{1,2}\s+thang\s+\d{1,2}(?:\s*(?:,\s*)?nam\s+\d{2,4})?"
)
_BIRTHDAY_RE = re.compile(
    r"(?<!hoc )\b(?:ngay sinh(?: nhat)?|sinh ngay|sinh nhat|sinh|sn|dob|d\.o\.b)"
    r"(?:\s+(?:cua\s+)?(?:em|con|minh|to|toi|tui|chau|be|no|ban ay))?"
    r"(?:\s+(?:la|vao|ngay|hom))*\s*:?\s*(?P<v>" + _DATE + r")"
)

_BANKS = (
    r"(?:[a-z]*bank|vcb|bidv|agribank|acb|mb|tpb|vib|shb|scb|ocb|msb|hdbank|vpb|tcb|momo|zalopay|"
    r"viettel ?money|ngan hang(?: [a-z]+){1,2})"
)
_ACCOUNT_NUMBER = r"\d(?:[\s.\-]?\d){5,18}(?![\w])"
_BANK_RE = re.compile(
    r"\b(?:stk|so tk|so tai khoan|tai khoan(?: ngan hang)?|tk(?= *:? *\d))"
    r"(?:\s+(?:cua|em|con|minh|to|toi|tui|me|bo|ba|chi|anh)\b){0,3}"
    r"(?:\s+" + _BANKS + r")?(?:\s+(?:la|so))?\s*:?\s*(?P<v>" + _ACCOUNT_NUMBER + r")"
    r"|(?P<v2>" + _ACCOUNT_NUMBER + r")(?=\s*(?:\(\s*)?" + _BANKS + r"\b)"
    r"|\b" + _BANKS + r"\s*:?\s*(?P<v3>" + _ACCOUNT_NUMBER + r")"
)

# A "word" of a name; a name ends at punctuation, after 4 words, or at one of these words
# (compared lowercased, with and without diacritics; "thi" is left out: it is also "Thị").
_WORD = r"[^\W\d_]+"
_STOP = set(
    "và va ở o học hoc năm nam tuổi tuoi lớp lop nhà nha nhé nhe ạ a đây day đó do rồi roi thì mà ma "
    "nhưng nhung còn con cũng cung đang dang bị bi em mình minh tớ to tôi toi tui nó no bạn ban người nguoi "
    "có co không khong ko k hả ha nè ne ơi oi đi di thôi thoi với voi vs của cua là la gì gi này nay "
    "vậy vay thế the ấy ay gần gan cạnh canh lửa lua thật that hay sống song ạh mà".split()
)
# Capitalised words that still end a name ("Tên em là Lan Em sợ lắm" is unlikely, "Lan Và" neither).
_CAP_STOP = set("em mình tôi toi tớ tui và va nhưng nhung mà ở học hoc lớp lop nhà nha con".split())


def _fold(text: str) -> str:
    """Lowercase without diacritics (đ -> d), same length as the input."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFD", ch)[0]
        out.append("d" if ch in "đĐ" else base.lower())
    return "".join(out)


def _trigger_re(words: str) -> re.Pattern[str]:
    return re.compile(words, re.IGNORECASE)


_SUBJECT = r"(?:em|con|minh|to|toi|tui|chau|be|ban ay|ban do|no|nguoi do|me|bo|ba|anh ay|chi ay|co ay|ban em)"
# Triggers are matched on the folded text (no diacritics), so "ten em la" and "tên em là" both match.
_NAME_TRIGGER = _trigger_re(
    r"\b(?:ten(?: that)? (?:cua )?" + _SUBJECT + r"(?: ay)? la:?"
    r"|(?:em|con|minh|to|toi|tui|chau|be|no|ay|do) ten(?: that)?(?: la)?"
    r"|ho (?:va )?ten(?: (?:cua )?" + _SUBJECT + r")?(?: la)?:?)\s+"
)
_ADDRESS_TRIGGER = _trigger_re(
    r"(?<!\[)\b(?:dia chi(?: (?:cua )?(?:em|con|minh|to|toi|nha(?: (?:em|con|minh|to|toi))?))?(?: la| o)?:?|nha (?:em|con|minh|to|toi|tui|chau)"
    r" (?:o|tai)(?: so)?|(?:em|con|minh|to|toi|tui|chau) (?:song|o) (?:o |tai )?"
    r"(?=so|duong|ngo|ngach|hem|kiet|phuong|xa|thon|xom|ap|khu|\d)|so nha)\s*"
)
# An address runs to the end of the clause, or to the next personal detail ("..., tên em là").
_CLAUSE_END = re.compile(
    r"[\n;!?]|\.(?:\s|$)|,\s*(?:va|nhung|ma|con|em|minh|to|toi|ten|sdt|so dt|so dien|truong|hoc|lop|nam)\b"
    r"|\s(?:va|nhung|ma)\s|\s(?:em|minh|to|toi) (?:hoc|ten|bi|so|muon|can|dang)\b|\s(?:luc|hom|khi|thi|nhe)\b"
)

# A street address on its own: a house number before a street word, or a lane / hamlet with a number.
_STREET_START = re.compile(
    r"\b(?:(?:so |so nha )?\d+[a-z]?(?:/\d+[a-z]?)*,?\s+(?:ngo|ngach|hem|kiet|duong|pho)\s+(?=\w)"
    r"|(?:so nha|ngo|ngach|hem|kiet|thon|xom|khu pho|to dan pho|khom)\s+\d+[a-z]?\b)"
)
# Words that start an address only with their diacritics and a name after them ("xã Yên Sở", not "xã hội").
_PLACE_START = re.compile(
    r"(?<!\w)(?:thôn|xóm|ấp|xã|phường|thị trấn|đường|phố)\s+(?=[A-ZĐÀ-Ỹ]|\d)"
)
# A house number before a street name of two capitalised words or more ("12 Lê Lợi", not "10 Văn").
_HOUSE_START = re.compile(r"(?<![\w.,:/])\d+[a-z]?(?:/\d+)*\s+(?=(?P<first>[A-ZĐ]\w*)\s+[A-ZĐ])")
_NOT_STREET = {"thang", "van", "toan", "anh", "tieng", "mon", "diem", "lop", "ngay", "nam", "tuoi", "level", "gio", "phut"}
_ADDRESS_WORDS = set(
    "so nha ngo ngach hem kiet duong pho thon xom ap xa phuong quan huyen thi tran tinh thanh tp khu to dan "
    "khom p q tt".split()
)
_ADDRESS_TOKEN = re.compile(r"[^\W_]+(?:/[^\W_]+)*")


def _street_span(text: str, folded: str, start: int) -> int:
    """End of a street address starting at `start`: numbers, address words and names, separated by
    spaces or commas; `start` itself if it is not an address ("12 Lan" has no street word or name)."""
    pos = start
    prev = ""  # kind of the previous token: "kw" (address word), "num" or "name"
    lower_run = 0  # lowercase name words in a row (text written without capitals)
    saw_word = False
    for match in _ADDRESS_TOKEN.finditer(text, start):
        gap = text[pos : match.start()]
        if (gap.strip() and (pos == start or gap.strip() != ",")) or "\n" in gap:
            break
        if match.start() > 0 and text[match.start() - 1] == "[":
            break  # a placeholder
        word, low = match.group(0), folded[match.start() : match.end()]
        if low in _ADDRESS_WORDS and not (word[0].isupper() and prev in ("kw", "name") and "," not in gap):
            kind, saw_word = "kw", True
        elif re.fullmatch(r"\d+[a-z]?(?:/\d+[a-z]?)*", low):
            if prev == "num" or (prev == "name" and "," not in gap):
                break
            kind = "num"
        elif word[0].isupper() and word.lower() not in _CAP_STOP:
            kind, saw_word = "name", True
        elif (prev == "kw" or (prev == "num" and saw_word) or (prev == "name" and 0 < lower_run < 3)) and not (
            word.lower() in _STOP or low in _STOP
        ):
            kind = "name"
        else:
            break
        lower_run = lower_run + 1 if kind == "name" and not word[0].isupper() else 0
        prev, pos = kind, match.end()
    return pos if saw_word else start


def _name_span(text: str, start: int, max_words: int = 4) -> int:
    """End of a name of 1-4 words starting at `start`; `start` itself when no name follows.

    A capitalised name ("Nguyễn Thị Mai") runs while words are capitalised; a name written in
    lowercase ("nguyen thi mai") runs to a stop word or punctuation.
    """
    pos = start
    words = 0
    capitalised: Optional[bool] = None
    for match in re.finditer(_WORD, text[start:]):
        gap = text[pos : start + match.start()]
        if gap.strip() or "\n" in gap:
            break  # punctuation between words: the name ended
        word = match.group(0)
        lower = word.lower()
        if capitalised is None:
            capitalised = word[0].isupper()
        if capitalised:
            if not word[0].isupper() or lower in _CAP_STOP:
                break
        elif lower in _STOP or _fold(lower) in _STOP and words > 0:
            break
        pos = start + match.end()
        words += 1
        if words == max_words:
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
            end_match = _CLAUSE_END.search(folded, start)
            end = end_match.start() if end_match else len(text)
            while end > start and text[end - 1] in " ,":
                end -= 1
        else:
            end = _name_span(text, start)
        if end <= start or not text[start:end].strip() or text[start] == "[":
            continue
        out.append(text[last:start])
        out.append(placeholder)
        last = end
    out.append(text[last:])
    return "".join(out)


def _replace_spans(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last or end <= start:
            continue
        out.append(text[last:start])
        out.append(placeholder)
        last = end
    out.append(text[last:])
    return "".join(out)


def _replace_groups(
    text: str, pattern: re.Pattern[str], placeholder: str, keep: Optional[Callable[[str], bool]] = None
) -> str:
    """Replace the named value groups (v, v2, v3) of `pattern`, matched on the folded text."""
    spans = []
    for match in pattern.finditer(_fold(text)):
        for name in ("v", "v2", "v3"):
            if name in match.re.groupindex and match.group(name) is not None:
                start, end = match.span(name)
                if keep is None or not keep(text[start:end]):
                    spans.append((start, end))
    return _replace_spans(text, spans, placeholder)


def _redact_streets(text: str) -> str:
    folded = _fold(text)
    spans = []
    starts = [m.start() for m in _STREET_START.finditer(folded)]
    starts += [m.start() for m in _PLACE_START.finditer(text)]
    starts += [m.start() for m in _HOUSE_START.finditer(text) if _fold(m.group("first")) not in _NOT_STREET]
    inside = [m.span() for m in re.finditer(r"\[[^\[\]]*\]", text)]  # placeholders
    last = 0
    for start in sorted(starts):
        if start < last or any(a <= start < b for a, b in inside):
            continue
        end = _street_span(text, folded, start)
        if end > start:
            spans.append((start, end))
            last = end
    return _replace_spans(text, spans, ADDRESS)


# "trường" followed by one of these is not a school; nor is it after "môi", "thị", "quảng"...
_SCHOOL_TRIGGER = _trigger_re(
    r"(?<!moi )(?<!thi )(?<!quang )(?<!chien )(?<!hien )(?<!lap )(?<!thao )(?<!phi )(?<!nong )"
    r"(?<!cong )(?<!ngu )(?<!dau )(?<!ly )\btruong\s+"
    r"(?!(?:hop|thanh|son|sa|ky|sinh|ca|ton|phai|quay|doan|giang|chinh|tho|thi|canh|do)\b)"
)
_SCHOOL_LEVELS = re.compile(
    r"(?:thcs|thpt|ptth|ptcs|pt|th|tieu hoc|trung hoc co so|trung hoc pho thong|trung hoc|mam non|mau giao|"
    r"chuyen|quoc te|dai hoc|cao dang|cap [123]|lien cap|dan lap|tu thuc|ban tru|hoc)"
    r"(?:\s+(?:va|&)\s+(?:thcs|thpt|th))?\s+",
)


def _redact_schools(text: str) -> str:
    out = []
    last = 0
    folded = _fold(text)
    for match in _SCHOOL_TRIGGER.finditer(folded):
        start = match.end()
        if start < last:
            continue
        level = None
        pos = start
        while True:  # "trường tiểu học và THCS", "trường THPT chuyên Lê Hồng Phong"
            more = _SCHOOL_LEVELS.match(folded, pos)
            if not more:
                break
            level, pos = more, more.end()
        name_start = pos
        if level is not None and level.group(0).strip() == "hoc" and name_start < len(text):
            # "trường học" is a school only with a capitalised name after it
            if not text[name_start].isupper():
                continue
        end = _name_span(text, name_start)
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


def _spoken_phones(text: str) -> str:
    spans = [m.span() for m in _SPOKEN_PHONE_RE.finditer(_fold(text))]
    return _replace_spans(text, spans, PHONE)


def redact(text: str | None) -> str:
    """`text` with personal data replaced by placeholders; None gives ""."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _replace_groups(text, _BIRTHDAY_RE, BIRTHDAY)
    text = _replace_groups(text, _BANK_RE, BANK_ACCOUNT, keep=_is_hotline)
    text = _ID_RE.sub(lambda m: m.group(0) if _looks_like_phone(m.group(0)) else ID_NUMBER, text)
    text = _PHONE_RE.sub(PHONE, text)
    text = _spoken_phones(text)
    text = _replace_after(text, _ADDRESS_TRIGGER, ADDRESS, "clause")
    text = _redact_streets(text)
    text = _replace_after(text, _NAME_TRIGGER, NAME, "name")
    text = _redact_schools(text)
    return text


def _is_hotline(value: str) -> bool:
    return re.sub(r"\D", "", value) in {"111", "113", "114", "115", "18001567"}


def _looks_like_phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return len(digits) == 10 and digits.startswith("0")
