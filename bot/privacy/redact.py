"""Replace personal data in Vietnamese text with placeholders (SPEC.md, "Privacy rules").

    >>> redact("số em là 0912 345 678, tên em là Lan")
    'số em là [SĐT], tên em là [TÊN]'
    >>> redact("mk tên là ngọc hân nha")
    'mk tên là [TÊN] nha'

How: the rules read a *view* of the message made by the NLU's own normaliser (bot/nlu/normalize.py:
its syllables, teencode table and letter squeezing: "e"/"mk"/"t" -> "em"/"mình"/"tao", "trg" -> "trường"),
with full-width characters made ASCII, a letter o/l inside a phone number made a digit, and diacritics
folded (a copy of the same length). Every view character points back into the original text, so the
output is the original message, as written, with only the personal spans replaced. One pass per rule
family over the whole text: linear in its length (no rule can start inside a run it already read).

What is replaced (placeholder: what):
- `[EMAIL]`: emails, also "lan @ gmail . com", "lan(a)gmail.com", and a bare address after
  "gmail"/"mail"/"acc gg" ("gmail lan.tran2010");
- `[TÀI KHOẢN MXH]`: social accounts: profile links (facebook.com/…, profile.php?id=…, tiktok.com/@…),
  @handles, and a handle or display name after facebook/fb/zalo/tiktok/insta/ig/discord/telegram/snap…;
- `[NGÀY SINH]`: an exact birthday after "sinh ngày", "ngày sinh", "sn", "DOB", "sinh ra vào"…
  (a birth *year* alone is kept);
- `[STK]`: bank account and card numbers after "stk", "tk", "số thẻ", "chuyển khoản vào"… or next to a
  bank or wallet name;
- `[SỐ GIẤY TỜ]`: CCCD (12 digits, also alone), and after a trigger: CMND, passport, "mã định danh",
  "mã học sinh", BHYT, birth certificate numbers. Game ids, order codes and other 9-11 digit numbers are kept;
- `[SĐT]`: Vietnamese phones (0xx / +84 / 84, spaces, dots, dashes, "0 912…", "o912…", full-width
  digits, landlines, a number spelt out in words);
- `[ĐỊA CHỈ]`: an address after "địa chỉ", "nhà em ở"…, and street, village and apartment addresses on
  their own ("số 5 ngõ 10 phố Huế", "12 Lê Lợi", "thôn 3 xã Yên Sở", "chung cư X tòa T5 phòng 1208");
  "em ở xã hội này", "ở nhà", "ở trường" are not addresses;
- `[TÊN]`: a name after "tên em là", "e/mk/t tên là", "Tên:", "Họ và tên", "em là Lan" (capitalised),
  after a role word ("chú Hùng", "thầy Nam", "con Ngân"), and a full name starting with a Vietnamese
  surname ("Nguyễn Hoàng Nam");
- `[MẬT KHẨU]`: a password after "mật khẩu", "pass", "password" (with a digit or a symbol);
- `[TRƯỜNG]`: a school after "trường"/"trg", or a level with a name ("THCS Nguyễn Du", "hoc thpt chu van an").
Hotlines (111, 112, 113, 114, 115, 18001567) and ordinary numbers (ages, classes, scores, prices,
years, times, counts, game ids) are kept, and so are words like "trường hợp", "môi trường", "tên lửa".
It is a best effort, rules only, measured on tests/privacy/redaction_corpus.jsonl (docs/privacy.md).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

from bot.nlu import normalize

EMAIL = "[EMAIL]"
PHONE = "[SĐT]"
ID_NUMBER = "[SỐ GIẤY TỜ]"
ADDRESS = "[ĐỊA CHỈ]"
NAME = "[TÊN]"
SCHOOL = "[TRƯỜNG]"
BANK_ACCOUNT = "[STK]"
BIRTHDAY = "[NGÀY SINH]"
SOCIAL = "[TÀI KHOẢN MXH]"
PASSWORD = "[MẬT KHẨU]"
PLACEHOLDERS = (EMAIL, PHONE, ID_NUMBER, ADDRESS, NAME, SCHOOL, BANK_ACCOUNT, BIRTHDAY, SOCIAL, PASSWORD)
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))

Span = tuple[int, int]

# ------------------------------------------------------------------------------------ the view
# Full-width ASCII (U+FF01-FF5E) -> ASCII, and the ideographic space: same length, so offsets hold.
_WIDE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Spellings the redactor needs beyond the NLU's teencode table.
_ALIASES = {
    "trg": "trường",
    "tn": "tên",
    "cc": "cc",
    "hem": "hem",
    "snhat": "sinh nhật",
    "sinhnhat": "sinh nhật",
    "đ/c": "địa chỉ",
}
# A phone number typed with a letter o for 0 or l/I for 1 ("o912345678", "09l2345678").
_LOOKALIKE = re.compile(r"(?=(?:[^\d]*\d){2})[0-9oOlI]{3,}")


@functools.lru_cache(maxsize=20000)
def _view_word(word: str) -> str:
    """One syllable as the rules read it: cleaned, teencode expanded, squeezed; case kept when unchanged."""
    clean = normalize._clean(word)  # noqa: SLF001 - the normaliser's own cleaning (marks, format chars)
    if clean.isdigit():
        return clean  # numbers are read as written ("0" is "không" in teencode, not in a phone number)
    if _LOOKALIKE.fullmatch(clean):
        return clean.translate(str.maketrans("oOlI", "0011"))
    if any(ch.isdigit() for ch in clean) or (clean.isupper() and (len(clean) == 1 or clean.isascii())):
        return clean  # codes and acronyms ("HH4A", "GVCN", "Gen Z"): spelt, not said
    low = clean.lower()
    table = normalize.teencode()
    norm = _ALIASES.get(low) or table.get(low)
    if norm is None:
        # The NLU's squeezing ("sợợợ" -> "sợ", "teen" -> "ten"): the rules are written for its output
        # ("gg" -> "g", "passport" -> "pasport").
        squeezed = normalize.squeeze(low)
        norm = table.get(squeezed, squeezed)
    if norm == low:
        return clean
    return norm[:1].upper() + norm[1:] if clean[:1].isupper() else norm


def _fold(text: str) -> str:
    """Lowercase without diacritics (đ -> d), same length as the input."""
    return "".join(_fold_char(ch) for ch in text)


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[0].lower()
    return base if len(base) == 1 else ch


def _opens_sentence(text: str, pos: int) -> bool:
    """Nothing but spaces, or the end of a sentence, before `pos` (reads back over spaces only)."""
    pos -= 1
    while pos >= 0 and text[pos] in " \t":
        pos -= 1
    return pos < 0 or text[pos] in ".!?\n…:;,"


def _mask(length: int) -> str:
    return "[" + "_" * (length - 2) + "]" if length >= 2 else "_"


class _View:
    """The normalised text the rules read (`text`, and `folded` of the same length), the spans found so
    far (masked in both, so that later rules skip them), and the way back to the original."""

    def __init__(self, original: str, found: list[tuple[int, int, str]]) -> None:
        self.original = original
        source = list(original)
        for start, end, _ in found:  # already replaced in the original: masked, never read again
            source[start:end] = _mask(end - start)
        for match in _PLACEHOLDER_RE.finditer(original):  # placeholders of an earlier redaction
            source[match.start() : match.end()] = _mask(match.end() - match.start())
        masked = "".join(source)
        hidden = [ch != orig for ch, orig in zip(masked, original)]
        chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        pos = 0
        for start, end in normalize._spans(masked):  # noqa: SLF001 - the normaliser's syllables
            self._copy(chars, masked, pos, start)
            raw = masked[start:end]
            if len(raw) == 1 and raw.isupper() and _opens_sentence(masked, start):
                # A capital letter opening a sentence is teen spelling ("E tên là Lan", "T là Khoa");
                # elsewhere it is a code or an initial ("Gen Z", "Trần Thị B").
                raw = raw.lower()
                word = _view_word(raw).capitalize()
            else:
                word = _view_word(raw) or raw
            chars.append(word)
            self.starts += [start] * len(word)
            self.ends += [end] * len(word)
            pos = end
        self._copy(chars, masked, pos, len(masked))
        self.starts.append(len(original))
        self.ends.append(len(original))
        self.text = "".join(chars)
        self.folded = _fold(self.text)
        self.hidden = bytearray(hidden[i] for i in self.starts[:-1])
        self.found = list(found)

    def _copy(self, chars: list[str], text: str, start: int, end: int) -> None:
        chars.append(text[start:end])
        self.starts += range(start, end)
        self.ends += range(start + 1, end + 1)

    def replace(self, spans: Iterable[Span], placeholder: str) -> None:
        """Record view spans as personal data and mask them for the next rules."""
        taken = []
        for start, end in sorted(spans):
            while end > start and self.text[end - 1] in " ,.;:":
                end -= 1
            if end <= start or (taken and start < taken[-1][1]) or self.masked(start):
                continue
            taken.append((start, end))
        if not taken:
            return
        text, folded = list(self.text), list(self.folded)
        for start, end in taken:
            text[start:end] = folded[start:end] = _mask(end - start)
            self.hidden[start:end] = b"\x01" * (end - start)
            self.found.append((self.starts[start], self.ends[end - 1], placeholder))
        self.text, self.folded = "".join(text), "".join(folded)

    def masked(self, pos: int) -> bool:
        return pos < len(self.hidden) and bool(self.hidden[pos])

    def render(self) -> str:
        out, last = [], 0
        for start, end, placeholder in sorted(self.found):
            if start < last:
                continue
            out.append(self.original[last:start])
            out.append(placeholder)
            last = end
        out.append(self.original[last:])
        return "".join(out)


# ------------------------------------------------------------------------ orthographic rules
# Run on the original text (same length, full-width made ASCII): links, emails and handles are spelt,
# not said, and teencode must not touch them ("t.me", "m.facebook.com").
_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]*\w\s?(?:@|\((?:a|at)\)|\[(?:a|at)\])\s?[\w-]+(?:\s?\.\s?[a-z]{2,}\b|\.[\w-]+)+",
    re.IGNORECASE,
)
_SOCIAL_DOMAINS = (
    r"(?:facebook|fb|instagram|tiktok|zalo|twitter|x|threads|youtube|snapchat|t)\.(?:com|me|net|vn)"
    r"|fb\.me|m\.me"
)
_PUBLIC_PATHS = {
    "help",
    "explore",
    "watch",
    "search",
    "policy",
    "policies",
    "privacy",
    "login",
    "legal",
    "settings",
    "hashtag",
    "about",
    "terms",
    "tag",
    "music",
    "results",
    "feed",
    "shorts",
    "reel",
    "reels",
    "trending",
    "discover",
    "foryou",
    "business",
    "safety",
    "community-standards",
}
_PROFILE_URL_RE = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:[\w-]+\.)*(?:" + _SOCIAL_DOMAINS + r")/(?P<path>[^\s,;!?)\]]+)"
    r"|(?<![\w./-])(?:[\w./-]*/)?profile\.php\?id=\d+",
    re.IGNORECASE,
)
_HANDLE_RE = re.compile(r"(?<![\w.@/])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")


def _orthographic(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []

    def add(start: int, end: int, placeholder: str) -> None:
        while end > start and text[end - 1] in ".,/":
            end -= 1
        if not any(a < end and start < b for a, b, _ in found):
            found.append((start, end, placeholder))

    lower = text.lower()
    for match in _PROFILE_URL_RE.finditer(text) if "/" in text or "profile.php" in lower else ():
        path = match.group("path")
        if path is not None:
            first = re.split(r"[/?#]", path.lower(), maxsplit=1)[0]
            if first in _PUBLIC_PATHS or not first.strip("./"):
                continue
        add(match.start(), match.end(), SOCIAL)
    for match in _EMAIL_RE.finditer(text) if "@" in text or "(a" in lower or "[a" in lower else ():
        add(match.start(), match.end(), EMAIL)
    for match in _HANDLE_RE.finditer(text):
        add(match.start(), match.end(), SOCIAL)
    return found


# ------------------------------------------------------------------------------- numbers
_SEP = r"[\s.\-]?"
# Mobile: 0 + 9 digits; landline: 02x + 8 digits; +84/84 instead of 0; "0 912 345 678" too.
_PHONE_RE = re.compile(
    r"(?<![\w+.,/])(?:\(?\+?84\)?" + _SEP + r"\(?0?\)?" + _SEP + r"|\(?0\)?" + _SEP + r")"
    r"(?:\(?\d\)?" + _SEP + r"){8,10}\d(?![\w%])(?![.,]\d)"
)
_MONEY_AFTER = r"(?!\s*(?:đ|d\b|đồng|dong|vnd|vnđ|k\b|tr\b|triệu|trieu|nghin|nghìn|ngan|usd|\$))"
# CCCD alone: 12 digits (optionally grouped), never money, never a game or order number.
_CCCD_RE = re.compile(
    r"(?<![\w.,])(?:\d{12}|\d{3}[\s.]\d{3}[\s.]\d{3}[\s.]\d{3}|\d{4}[\s.]\d{4}[\s.]\d{4})(?![\w.,]*\d)"
    + _MONEY_AFTER,
    re.IGNORECASE,
)
_NOT_ID_BEFORE = re.compile(
    r"(?:game|uid|id|ma|code|don|don hang|order|van don|level|lv|rank|diem|server|sv|phong|so bao danh|sbd)"
    r"(?:\s+[a-z]+){0,3}\s*:?\s*$"
)
_DIGIT_WORDS = r"(?:khong|linh|mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin)"
# A phone number read out in words: at least 9 digits in words, starting with "không" (0) or 84.
_SPOKEN_PHONE_RE = re.compile(r"\b(?:khong|tam tu)(?:[\s,.\-]+" + _DIGIT_WORDS + r"\b){8,11}")

_SUBJECT = (
    r"(?:em|con|minh|to|toi|tui|tao|chau|be|ban ay|ban do|no|nguoi do|me|bo|ba|anh ay|chi ay|co ay|ban em"
    r"|me em|bo em|me con|bo con)\b"
)
# Words between a trigger and its value: "stk của mẹ em là: …".
_FILLER = (
    r"(?:\s*(?:,|:|\b(?:cua|em|con|minh|to|toi|tui|tao|me|bo|ba|chi|anh|be|chau|la|so|nhan|day|nha|nhe)\b))*"
)

_DATE = (
    r"(?:19|20)\d{2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{1,2}(?!\d)"
    r"|\d{1,2}\s*[/.\-]\s*\d{1,2}(?:\s*[/.\-]\s*(?:19|20)?\d{2})?(?!\d)(?:\s+nam\s+(?:19|20)\d{2})?"
    r"|\d{1,2}\s+thang\s+\d{1,2}(?:\s*(?:,\s*)?nam\s+\d{2,4})?"
)
_BIRTHDAY_RE = re.compile(
    r"(?<!hoc )\b(?:ngay sinh(?: nhat)?|sinh ngay|sinh nhat|sinh ra(?: vao)?(?: ngay)?|sinh|sn|dob|d\.o\.b)"
    r"(?:\s+(?:cua\s+)?" + _SUBJECT + r")?"
    r"(?:\s+(?:la|vao|ngay|hom))*\s*:?\s*(?P<v>" + _DATE + r")"
    r"|\bsinh nam (?P<v2>(?:19|20)\d{2},? ngay (?:" + _DATE + r"))"
)

_BANKS = (
    r"(?:[a-z]*bank|vcb|bidv|agribank|acb|mb|tpb|vib|shb|scb|ocb|msb|hdbank|vpb|tcb|momo|zalopay|"
    r"viettel ?money|vi momo|ngan hang(?: [a-z]+){1,2})"
)
_ACCOUNT_NUMBER = r"\d(?:[\s.\-]?\d){5,18}(?![\w])"
_BANK_RE = re.compile(
    r"\b(?:stk|so tk|so tai khoan|tai khoan(?: ngan hang)?|tk|so the|the (?:visa|atm|master|tin dung|ngan hang)"
    r"|chuyen khoan(?: vao)?|ck vao)"
    r"(?:\s+(?:" + _BANKS + r"|cua|em|con|minh|to|toi|tui|me|bo|ba|chi|anh|nhan|vao|so|la)\b|\s*:){0,5}"
    r"\s*:?\s*(?P<v>" + _ACCOUNT_NUMBER + r")"
    r"|(?P<v2>" + _ACCOUNT_NUMBER + r")(?=\s*(?:\(\s*)?" + _BANKS + r"\b)"
    r"|\b"
    + _BANKS
    + r"(?:\s+(?:cua|em|con|minh|toi|me|bo|chi|anh)\b){0,3}\s*:?\s*(?P<v3>"
    + _ACCOUNT_NUMBER
    + r")"
)
_ID_TRIGGERS = (
    r"(?:cccd|cmnd|cmt|can cuoc(?: cong dan)?|chung minh(?: nhan dan| thu)?|(?:so |ma )?(?:so )?dinh danh(?: ca nhan)?"
    r"|ho chieu|pas+port|giay to|ma (?:so )?(?:hoc sinh|hs|bhyt|bao hiem(?: y te)?|so thue)|(?:so |ma so )?bhyt"
    r"|giay khai sinh|khai sinh|mst)"
)
_ID_AFTER_RE = re.compile(
    r"\b" + _ID_TRIGGERS + _FILLER + r"\s*(?P<v>\d(?:[\s.\-]?\d){8,14}(?!\w)|[a-z]{1,2}\d{7,14}\b"
    r"|\d{1,4}/(?:19|20)\d{2}(?:\s+quyen(?: so)?\s+\d+)?)"
)


def _is_hotline(value: str) -> bool:
    return re.sub(r"\D", "", value) in {"111", "112", "113", "114", "115", "18001567"}


def _looks_like_phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return len(digits) == 10 and digits.startswith("0")


def _groups(view: _View, pattern: re.Pattern[str], keep: Callable[[str], bool] | None = None) -> list[Span]:
    spans = []
    for match in pattern.finditer(view.folded):
        for name in ("v", "v2", "v3"):
            if name in match.re.groupindex and match.group(name) is not None:
                start, end = match.span(name)
                if keep is None or not keep(view.text[start:end]):
                    spans.append((start, end))
    return spans


def _numbers(view: _View) -> None:
    view.replace(_groups(view, _BIRTHDAY_RE), BIRTHDAY)
    view.replace(_groups(view, _ID_AFTER_RE), ID_NUMBER)
    view.replace(_groups(view, _BANK_RE, keep=_is_hotline), BANK_ACCOUNT)
    spans = []
    for match in _CCCD_RE.finditer(view.folded):
        before = view.folded[max(0, match.start() - 40) : match.start()]
        if not _looks_like_phone(match.group(0)) and not _NOT_ID_BEFORE.search(before):
            spans.append(match.span())
    view.replace(spans, ID_NUMBER)
    view.replace((m.span() for m in _PHONE_RE.finditer(view.folded) if not _is_hotline(m.group(0))), PHONE)
    view.replace((m.span() for m in _SPOKEN_PHONE_RE.finditer(view.folded)), PHONE)


# ----------------------------------------------------------------------------- word spans
_WORD_RE = re.compile(r"[^\W\d_]+")
# A name ends at punctuation, after 4 words, or at one of these words (compared lowercased, with and
# without diacritics; "thi" is left out: it is also "Thị").
_STOP = set(
    "và va ở o học hoc năm nam tuổi tuoi lớp lop nhà nha nhé nhe ạ a đây day đó do rồi roi thì mà ma "
    "nhưng nhung còn con cũng cung đang dang bị bi em mình minh tớ to tôi toi tui nó no bạn ban người nguoi "
    "có co không khong ko k hả ha nè ne ơi oi đi di thôi thoi với voi vs của cua là la gì gi này nay "
    "vậy vay thế the ấy ay gần gan cạnh canh lửa lua thật that hay sống song ạh mà tao mày may á ý y "
    "ạ đấy day nhá nha hen nhỉ nhi luôn luon thôi giup giúp ko".split()
)
# Capitalised words that still end a name ("Tên em là Lan Em sợ lắm" is unlikely, "Lan Và" neither).
_CAP_STOP = set(
    "em mình tôi toi tớ tui và va nhưng nhung mà ở học hoc lớp lop nhà nha con tao "
    # apps and brands children name with a capital: never a person ("kết bạn Zalo với cháu")
    "zalo facebook fb tiktok instagram insta messenger telegram discord roblox minecraft youtube google gmail "
    "shopee lazada netflix iphone samsung chatgpt bot kpop game".split()
)
# Capitalised words that are not personal names: places and public figures children talk about.
_PUBLIC = {
    _fold(name)
    for name in (
        "Hà Nội",
        "Hồ Chí Minh",
        "Bác Hồ",
        "Hồ Gươm",
        "Thái Lan",
        "Thái Bình",
        "Thái Nguyên",
        "Hà Giang",
        "Hà Tĩnh",
        "Hà Nam",
        "Cao Bằng",
        "Lâm Đồng",
        "Phan Thiết",
        "Đà Nẵng",
        "Đà Lạt",
        "Sài Gòn",
        "Việt Nam",
        "Hạ Long",
        "Hội An",
        "Nguyễn Du",
        "Trường Sơn",
        "Gen Z",
        "Tiếng Anh",
        "Anh Văn",
        "Ngô Bảo Châu",
        "Võ Nguyên Giáp",
        "Sơn Tùng",
        "Mỹ Tâm",
        "Đen Vâu",
    )
}


def _name_end(text: str, start: int, max_words: int = 4, capitalised: bool | None = None) -> int:
    """End of a name of 1-4 words starting at `start`; `start` itself when no name follows.

    A capitalised name ("Nguyễn Thị Mai") runs while words are capitalised; a name written in
    lowercase ("nguyen thi mai") runs to a stop word or punctuation.
    """
    pos, words = start, 0
    for match in _WORD_RE.finditer(text, start):
        gap = text[pos : match.start()]
        if gap.strip() or "\n" in gap or (words and not gap):
            break  # punctuation between words (or a word glued to a digit): the name ended
        word = match.group(0)
        lower = word.lower()
        if capitalised is None:
            capitalised = word[0].isupper()
        if capitalised:
            if not word[0].isupper() or lower in _CAP_STOP:
                break
        elif lower in _STOP or _fold(lower) in _STOP:
            break
        pos = match.end()
        words += 1
        if words == max_words:
            break
    return pos


_VOWELS = set("aeiouyAEIOUY")


def _capitalised_at(view: _View, pos: int) -> bool:
    """A capitalised word at `pos` that may be a name (not "Em", not an acronym such as "GVCN", "BTS")."""
    match = _WORD_RE.match(view.text, pos)
    if not match:
        return False
    word = match.group(0)
    acronym = word.isupper() and (
        len(word) == 2 or (len(word) > 2 and not _VOWELS & set(_fold(word).upper()))
    )
    return word[0].isupper() and word.lower() not in _CAP_STOP and not acronym


def _public_at(view: _View, start: int, end: int) -> bool:
    """True when the words at start..end are a public name, maybe after one word ("Hà Nội", "Bác Hồ",
    "đường Trường Sơn"), not when they only contain one ("Anh Hai Sài Gòn")."""
    words = view.folded[start:end].split()
    heads = (" ".join(words) + " ", " ".join(words[1:]) + " ")
    return any(head.startswith(name + " ") for head in heads for name in _PUBLIC)


# ------------------------------------------------------------------------------- addresses
_ADDRESS_TRIGGER = re.compile(
    r"(?<!\[)\b(?:dia chi(?: (?:cua )?(?:em|con|minh|to|toi|tao|nha(?: (?:em|con|minh|to|toi))?))?(?: la\b| o\b)?:?"
    r"|duoc\s*:|noi sinh\s*:?|que quan\s*:?"
    r"|nha (?:em|con|minh|to|toi|tui|chau|tao|ong ta|ba ta|no)(?: dang)? (?:o|tai)(?: so)?|so nha)\s*"
)
# "em ở / sống ở" is an address only when a street, village or flat follows ("em ở xã hội này" is not).
_LIVE_TRIGGER = re.compile(r"\b(?:em|con|minh|to|toi|tui|chau|tao) (?:dang )?(?:song|o) (?:o |tai )?(?=\w)")
# An address runs to the end of the clause, or to the next personal detail or feeling ("…, em sợ lắm").
_CLAUSE_END = re.compile(
    r"[\n;!?]|\.(?:\s|$)|,\s*(?:va|nhung|ma|con|em|minh|to|toi|tao|ten|sdt|so dt|so dien|truong|hoc|lop|nam|den|cuu|giup|nha co|di)\b"
    r"|\s(?:va|nhung|ma)\s|\s(?:em|minh|to|toi|tao) (?:hoc|ten|bi|so|muon|can|dang)\b"
    r"|\s(?:luc|hom|khi|thi|nhe|nha|oi|roi|lam|qua|chan|buon|dau|nao|de|voi|gi|khong|ko|so(?! \d| nha))\b"
)
_APARTMENT = (
    r"(?:chung cu|can ho|can|toa nha|toa|block|phong|tang|lo|kdt|khu do thi|tap the|nha tro|ktx|ky tuc xa)"
)
# A street address on its own: a house number before a street word, a lane / hamlet with a number, a flat.
_STREET_START = re.compile(
    r"\b(?:(?:so |so nha )?\d+[a-z]?(?:/\d+[a-z]?)*,?\s+(?:ngo|ngach|hem|kiet|duong|pho)\s+(?P<street>\w)"
    r"|(?:so nha|ngo|ngach|hem|kiet|thon|xom|khu pho|to dan pho|khom|ap)\s+\d+[a-z]?\b"
    r"|to \d+[a-z]?(?= (?:phuong|khu|xa|thon|cum|tt|thi tran|p\b))"
    r"|(?:can ho|toa nha|toa|block|phong|p\.?)\s*[a-z]{0,3}\d+[a-z]?\d*(?:[./]\d+)?\b(?! (?:tuoi|gio|phut|lan|ngay|nguoi|diem|tieng|thang|nam)\b)"
    r"|lo [a-z]{1,3}\d+[a-z]?\b"
    r"|so \d+[a-z]?(?:/\d+[a-z]?)* (?=\w))"
)
# Words that start an address only with a name after them ("xã Yên Sở", not "xã hội").
_PLACE_START = re.compile(
    r"(?<!\w)(?P<w>thon|xom|ap|xa|phuong|thi tran|duong|pho|ban|lang|buon|chung cu|khu do thi|kdt|toa|cc|tap the|nha tro)\s+(?=\w)"
)
# With diacritics, the place word must be spelt so ("xã", not "xa"/"xả"); "bản", "làng", "buôn" only so.
_PLACE_WORDS = set(
    "thôn,xóm,ấp,xã,phường,thị trấn,đường,phố,bản,làng,buôn,chung cư,khu đô thị,kđt,tòa,cc,tập thể,nhà trọ".split(
        ","
    )
)
_ONLY_ACCENTED = {"ban", "lang", "buon"}
_HOUSE_START = re.compile(r"(?<![\w.,:/])\d+[a-z]?(?:/\d+[a-z]?)*\s+(?=\w)")
_NOT_STREET = {
    "thang",
    "van",
    "toan",
    "anh",
    "tieng",
    "mon",
    "diem",
    "lop",
    "ngay",
    "nam",
    "tuoi",
    "level",
    "gio",
    "phut",
}
_ADDRESS_WORDS = set(
    "so nha ngo ngach hem kiet duong pho thon xom ap xa phuong quan huyen thi tran tinh thanh tp khu to dan "
    "khom p q tt ban lang chung cu can ho toa block phong tang lo kdt do tap the tro cc".split()
)
# Address words that do not make an address by themselves ("số 3 là số em thích").
_WEAK_WORDS = set("so nha p q to can ho phong tang lo toa block the tap tro do khu dan thanh tinh".split())
_NOT_PLACE = set("hoi nay do kia ay nha minh lam qua xa nao gi day thi la co khong ko nhieu".split())
_ADDRESS_TOKEN = re.compile(r"[^\W_]+(?:[/.][^\W_]+)*")
_CODE = re.compile(r"[a-z]{0,3}\d+[a-z]?\d*(?:[/.][a-z]?\d+[a-z]?)*")


def _street_end(view: _View, start: int) -> int:
    """End of a street address starting at `start`: numbers, address words and names, separated by
    spaces or commas; `start` itself if it is not an address ("12 Lan" has no street word or name)."""
    text, folded = view.text, view.folded
    pos, prev, lower_run, saw_word, tokens, values = start, "", 0, False, 0, 0
    for match in _ADDRESS_TOKEN.finditer(text, start):
        gap = text[pos : match.start()]
        if (gap.strip() and (pos == start or gap.strip() not in (",", "-"))) or "\n" in gap:
            if not (prev == "kw" and gap == "." and folded[pos - 1 : pos] in ("p", "q")):
                break
        if text[match.start() - 1 : match.start()] in ("[", "_"):
            break  # a placeholder
        word, low = match.group(0), folded[match.start() : match.end()]
        if low in _ADDRESS_WORDS and not (word[0].isupper() and prev in ("kw", "name") and "," not in gap):
            kind, saw_word = "kw", saw_word or low not in _WEAK_WORDS
        elif _CODE.fullmatch(low):
            if prev == "num" or (prev == "name" and "," not in gap and tokens > 2 and low.isdigit()):
                break
            kind = "num"
        elif word[0].isupper() and word.lower() not in _CAP_STOP:
            kind, saw_word = "name", True
        elif "," in gap:
            break  # "…, ba t đánh t": after a comma only address words, numbers and names go on
        elif (
            prev == "kw" or (prev == "num" and saw_word) or (prev == "name" and 0 < lower_run < 3)
        ) and not (word.lower() in _STOP or low in _STOP or low in _CLAUSE_WORDS or low in _NOT_PLACE):
            kind = "name"
        else:
            break
        lower_run = lower_run + 1 if kind == "name" and not word[0].isupper() else 0
        prev, pos, tokens, values = kind, match.end(), tokens + 1, values + (kind != "kw")
    return pos if saw_word and values else start


_CLAUSE_WORDS = set("lam qua chan buon so met roi nhe nha a oi den cuu giup co khong".split())


def _lives_at_address(view: _View, pos: int) -> bool:
    """After "em ở": a number, or an address word then a number or a name ("ở ngõ 5", "ở xã Tân Lập");
    not "ở Hà Đông" (a district), "ở quán net", "ở xã hội này"."""
    if _digit_at(view.text, pos):
        return True
    first = _ADDRESS_TOKEN.match(view.folded, pos)
    if not first or first.group(0) not in _ADDRESS_WORDS:
        return False
    nxt = re.compile(
        r"\s*(?:(?:" + "|".join(sorted(_ADDRESS_WORDS, key=len, reverse=True)) + r")\s+)*"
    ).match(view.folded, first.end())
    after = nxt.end() if nxt else first.end()
    return (
        _digit_at(view.text, after) or _capitalised_at(view, after) or bool(_CODE.match(view.folded, after))
    )


def _looks_like_address(view: _View, start: int, end: int) -> bool:
    """A number, a capitalised name or a place word followed by a name: "ở đâu", "phường nào" are not."""
    if any(ch.isdigit() for ch in view.text[start:end]):
        return True
    words = list(_WORD_RE.finditer(view.text, start, end))
    if any(_capitalised_at(view, w.start()) for w in words):
        return True
    folded = [view.folded[w.start() : w.end()] for w in words]
    return any(w in _ADDRESS_WORDS and w not in _WEAK_WORDS for w in folded[:-1]) and folded[-1] not in _STOP


_COMMA_WORD = re.compile(r",\s*(?P<w>[^\W\d_]+)")


def _clause_end(view: _View, start: int) -> int:
    """Where the clause of an address ends; a capitalised word is part of the address ("xã Yên Sở"),
    a lowercase word after a comma that is not an address word is not ("…, thằng Hai hay rình em")."""
    pos, end = start, len(view.folded)
    while True:
        match = _CLAUSE_END.search(view.folded, max(pos - 1, start - 1, 0))
        if match is None:
            break
        word = match.group(0).strip(" ,")
        spelt = view.text[match.end() - len(word) : match.end()]
        if word[:1].isalpha() and (spelt[:1].isupper() or spelt.lower() == "nhà"):
            pos = match.end()  # "xã Yên Sở", "…, nhà C3": part of the address ("nha" alone is "nhé")
            continue
        end = match.start()
        break
    for comma in _COMMA_WORD.finditer(view.folded, start, end):
        if view.text[comma.start("w")].islower() and comma.group("w") not in _ADDRESS_WORDS:
            return comma.start()
    return end


def _addresses(view: _View) -> None:
    folded = view.folded
    spans, last = [], 0
    for match in _ADDRESS_TRIGGER.finditer(folded):
        start = match.end()
        if start < last or view.masked(start):
            continue
        end = _clause_end(view, start)
        if end > start and _looks_like_address(view, start, end):
            spans.append((start, end))
        last = end  # a later trigger in this clause reads a part of it: taken already, or no address either
    view.replace(spans, ADDRESS)

    folded, text = view.folded, view.text
    starts = [
        m.start()
        for m in _STREET_START.finditer(folded)
        # "12 ngõ 5 …", "12 đường Lê Lợi", not "1 đường link", "1 đường dây lừa đảo"
        if m.group("street") is None
        or _digit_at(text, m.start("street"))
        or _capitalised_at(view, m.start("street"))
    ]
    starts += [m.start() for m in _PLACE_START.finditer(folded) if _place_word(view, m)]
    starts += [m.end() for m in _LIVE_TRIGGER.finditer(folded) if _lives_at_address(view, m.end())]
    starts += [
        m.start()
        for m in _HOUSE_START.finditer(folded)
        if _capitalised_at(view, m.end())
        and _WORD_RE.match(folded, m.end()).group(0) not in _NOT_STREET  # type: ignore[union-attr]
        and not folded[max(0, m.start() - 4) : m.start()].endswith(("lop ", "sbd "))
        and _capitalised_at(view, _next_word(text, m.end()))
    ]
    spans, last = [], 0
    for start in sorted(set(starts)):
        if start < last or view.masked(start):
            continue
        end = _street_end(view, start)
        if end > start and not _public_at(view, start, end):
            spans.append((start, end))
            last = end
    view.replace(spans, ADDRESS)


def _place_word(view: _View, match: re.Match[str]) -> bool:
    """ "xã Yên Sở", "thon Phu Loc", "cc HH Linh Đàm": a place word spelt as such, then a name or number."""
    word = view.text[match.start("w") : match.end("w")]
    if word.isascii():
        if match.group("w") in _ONLY_ACCENTED:
            return False
    elif word.lower() not in _PLACE_WORDS:
        return False
    if match.group("w") == "cc":
        nxt = _WORD_RE.match(view.text, match.end())
        return bool(nxt) and nxt.group(0).isupper() and len(nxt.group(0)) <= 4
    return _capitalised_at(view, match.end()) or _digit_at(view.text, match.end())


def _digit_at(text: str, pos: int) -> bool:
    return pos < len(text) and text[pos].isdigit()


def _next_word(text: str, pos: int) -> int:
    match = _WORD_RE.match(text, pos)
    if not match:
        return len(text)
    nxt = re.compile(r"\s+").match(text, match.end())
    return nxt.end() if nxt else len(text)


# ------------------------------------------------------------------------------------ names
# Strong triggers: a name follows, capitalised or not.
_NAME_TRIGGER = re.compile(
    r"\b(?:ten(?: that| day du)? (?:cua )?" + _SUBJECT + r"(?: ay)?(?: la\b)?\s*:?"
    r"|(?:em|con|minh|to|toi|tui|tao|chau|be|no|ay|do) ten(?: that| day du| goi)?(?: la\b)?\s*:?"
    r"|ho (?:va )?ten(?: (?:cua )?" + _SUBJECT + r")?(?: la\b)?\s*:?|ten\s*:|name\s*:|full name\s*:?"
    r"|chu (?:tk|tai khoan|the)\s*:?|ten (?:zalo|facebook|fb|nick|acc|tk)(?: (?:cua )?"
    + _SUBJECT
    + r")?(?: la\b|:)?)\s*"
)
# Weak triggers: only a capitalised name follows ("em là Lan", "bố em là Bùi Văn Tâm", "tên Tran Thi B").
_INTRO_TRIGGER = re.compile(
    r"\b(?:(?:"
    + _SUBJECT
    + r"|co|thay|chu|bac|anh|chi|ong|ba|di)(?: (?:em|con|minh|to|toi|tui))?(?: (?:that|that ra|chinh))? la"
    r"|ten|nao ten|ai ten|goi (?:\w+ )?la|biet danh(?: (?:cua )?"
    + _SUBJECT
    + r")?(?: la)?\s*:?|nickname\s*:?)\s+"
)
# Role words before a third party's name ("chú Hùng", "thầy Nam", "con Ngân"); with diacritics they must be
# spelt so ("đi Vũng Tàu" is not "dì"), without diacritics any folded match counts.
_ROLES = set(
    "chú cô thầy bác anh chị ông bà dì dượng cậu mợ thím bạn bé con thằng nhỏ đứa cháu hs gvcn ny".split()
)
_ROLES_FOLDED = {_fold(word) for word in _ROLES} - {"co", "ba", "di", "ban", "be", "con", "nho", "dua"}
# Second words of a compound role ("anh họ Tài", "bạn thân Như", "con bé Thảo").
_ROLE_TAILS = set("họ trai gái bé nhỏ thân kế nội ngoại giáo yêu hai cả út".split())
_SURNAMES = set(
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh Trương Lâm Đoàn Lương "
    "Tạ Cao Kiều Tô Mạc Chu Triệu Quách Lưu Đào Vương Lại Tăng Thân Phùng Diệp Hứa Khúc Mai Hà Đàm Quan".split()
)
# Lowercase surnames that are rarely ordinary words ("ho", "do", "dang", "lam" are: họ, đó, đang, làm).
# Lowercase, unaccented full names only with surnames that are rarely words ("doan van" is "đoạn văn",
# "phan" is "phần", "dinh" is "định", "vu" is "vụ").
_SURNAMES_FOLDED_LOWER = set("nguyen tran pham hoang huynh".split())
_MIDDLE = set(
    "van thi duc ngoc minh hoang gia thanh quoc thu bao anh huu xuan kim khanh tuan thuy phuong hong quang".split()
)
# Words that end a lowercase full name even though they could be a given name.
_NAME_BREAK = set("va la o bi hay dang no oi a nhe nha voi vs cua lop hoc tuoi".split())


def _is_role(word: str) -> bool:
    low = word.lower()
    return low in _ROLES or (word.isascii() and low in _ROLES_FOLDED)


def _name_spans(view: _View, trigger: re.Pattern[str], capitalised_only: bool) -> list[Span]:
    spans, last = [], 0
    text = view.text
    for match in trigger.finditer(view.folded):
        start = match.end()
        if start < last or view.masked(start) or start >= len(text):
            continue
        # A name in lowercase only after "là" or ":" ("tên em là lan"); "tên bố mẹ", "tên mình lên google" are not.
        lowercase_ok = not capitalised_only and re.search(r"(?:\bla|:)\s*$", match.group(0)) is not None
        if not lowercase_ok and not _capitalised_at(view, start):
            continue
        end = _name_end(text, start)
        if end > start and not _public_at(view, start, end):
            spans.append((start, end))
            last = end
    return spans


def _role_spans(view: _View) -> list[Span]:
    spans, text, folded = [], view.text, view.folded
    words = list(_WORD_RE.finditer(text))
    for i, match in enumerate(words[:-1]):
        if not _is_role(match.group(0)) or view.masked(match.start()):
            continue
        if (
            match.group(0)[0].isupper()
            and match.start() > 0
            and text[match.start() - 2 : match.start()] not in (", ", ". ")
        ):
            continue  # a capitalised role word mid-sentence is a name itself ("Anh Tuấn"): the surname rule decides
        if re.search(r"(?:tieng|mon|hoc|lop \d+\w*)\s+$", folded[max(0, match.start() - 12) : match.start()]):
            continue  # "tiếng Anh", "lớp 10 Anh"
        before, nxt = match, words[i + 1]
        if nxt.group(0) in _ROLE_TAILS and i + 2 < len(words):  # lowercase only: "thằng Hai" is a name
            before, nxt = nxt, words[i + 2]
        if (
            text[before.end() : nxt.start()].strip()
            or view.masked(nxt.start())
            or not _capitalised_at(view, nxt.start())
        ):
            continue
        end = _name_end(text, nxt.start(), max_words=3, capitalised=True)
        if end > nxt.start() and not _public_at(view, match.start(), end):
            spans.append((nxt.start(), end))
    return spans


def _full_name_spans(view: _View) -> list[Span]:
    """Capitalised names that start with a Vietnamese surname (3-4 words), and lowercase ones with a
    common middle name ("nguyen hoang nam")."""
    spans: list[Span] = []
    text = view.text
    words = list(_WORD_RE.finditer(text))
    for i, match in enumerate(words):
        word, start = match.group(0), match.start()
        if view.masked(start) or (spans and start < spans[-1][1]):
            continue
        if word[0].isupper() and (
            word.capitalize() in _SURNAMES or (word.isascii() and word.lower() in _SURNAMES_FOLDED_LOWER)
        ):
            end = _name_end(text, start, capitalised=True)
            if len(text[start:end].split()) >= 3 and not _public_at(view, start, end):
                spans.append((start, end))
        elif word.islower() and word.isascii() and word in _SURNAMES_FOLDED_LOWER and i + 2 < len(words):
            run = [words[i]]
            for nxt in words[i + 1 : i + 4]:
                if (
                    text[run[-1].end() : nxt.start()] != " "
                    or not nxt.group(0).isascii()
                    or not nxt.group(0).islower()
                ):
                    break
                if len(run) >= 2 and nxt.group(0) in _NAME_BREAK:
                    break
                run.append(nxt)
            if len(run) >= 3 and run[1].group(0) in _MIDDLE and run[2].group(0) not in _NAME_BREAK:
                spans.append((start, run[-1].end()))
    return spans


# ----------------------------------------------------------------------------------- social
_PLATFORM_RE = re.compile(
    r"(?<![\w])(?:facebook|face|fb|nick(?: fb| facebook| zalo)?|insta(?:gram)?|ig|tiktok|tik tok|zalo|telegram|tele"
    r"|discord|snap(?:chat)?|twitter|threads|skype|wechat|kakao|line|gmail|e-?mail|mail|acc g|acc google"
    r"|tai khoan (?:google|g|gmail|tiktok|facebook|fb|zalo|insta|ig))\b"
    r"(?:\s+(?:cua|em|con|minh|to|toi|tui|tao|no|nick|id|ten|tai khoan|acc|nhe|nha|moi|cu|la|ban|add|ket ban)\b|\s*:)*\s*"
)
_HANDLE_TOKEN = re.compile(r"[A-Za-z0-9][\w.#-]*[\w]")
_COUNT = re.compile(r"\d+(?:[.,]\d+)?(?:k|m|tr|tỷ)?", re.IGNORECASE)  # "10k follow" is a count, not a handle


def _social_spans(view: _View) -> tuple[list[Span], list[Span]]:
    """(handles, emails): a handle or display name after a platform word."""
    social, emails, text, folded = [], [], view.text, view.folded
    for match in _PLATFORM_RE.finditer(folded):
        start = match.end()
        if view.masked(start) or start >= len(text):
            continue
        token = _HANDLE_TOKEN.match(text, start)
        is_mail = re.match(r"(?:gmail|e-?mail|mail|acc g|tai khoan g)", match.group(0)) is not None
        if (
            token
            and re.search(r"[\d._#]", token.group(0))
            and text[start].isascii()
            and not _COUNT.fullmatch(token.group(0))
        ):
            (emails if is_mail else social).append(token.span())
        elif _capitalised_at(view, start) and not is_mail:
            end = _display_name_end(text, start)
            if end > start and not _public_at(view, start, end):
                social.append((start, end))
    return social, emails


_DISPLAY_TOKEN = re.compile(r"[^\s,;!?]+")


_PASSWORD_RE = re.compile(
    r"\b(?:mat khau|pass(?:word)?|pw)\b"
    r"(?:\s+(?:cua|em|con|minh|to|toi|tui|tao|no|moi|cu|la|fb|facebook|zalo|gmail|game|ff|acc|tk|tai khoan|wifi"
    r"|insta|ig|tiktok|roblox)\b|\s*:)*\s*(?=\S)"
)
_SECRET_TOKEN = re.compile(r"[^\s,;!?]{4,}")


def _password_spans(view: _View) -> list[Span]:
    """A password after "mật khẩu", "pass", "password": a token of 4+ characters with a digit or a symbol
    ("mật khẩu của e là lan2010"); not "pass lại acc 200k", "mật khẩu là gì"."""
    spans = []
    for match in _PASSWORD_RE.finditer(view.folded):
        token = _SECRET_TOKEN.match(view.text, match.end())
        if token is None or view.masked(match.end()) or _COUNT.fullmatch(token.group(0)):
            continue
        if re.search(r"[\d_@#$%^&*!.-]", token.group(0)):
            spans.append(token.span())
    return spans


def _display_name_end(text: str, start: int) -> int:
    """A display name runs to the end of the clause, at most 6 words ("Linh Cute 2k10", "Vy Vy (Thảo Vy)")."""
    end = start
    for count, match in enumerate(_DISPLAY_TOKEN.finditer(text, start)):
        word = match.group(0)
        if count == 6 or text[end : match.start()].strip() or "\n" in text[end : match.start()]:
            break
        if word[0].islower() and _fold(word.lower()).strip(".") in _STOP:
            break
        end = match.end()
    return end


# ---------------------------------------------------------------------------------- schools
# "trường" followed by one of these is not a school; nor is it after "môi", "thị", "quảng"...
_SCHOOL_TRIGGER = re.compile(
    r"\btruong(?<!moi truong)(?<!thi truong)(?<!quang truong)(?<!chien truong)(?<!hien truong)(?<!lap truong)"
    r"(?<!thao truong)(?<!phi truong)(?<!nong truong)(?<!cong truong)(?<!ngu truong)(?<!dau truong)(?<!ly truong)"
    r"(?<!duong truong)\s+(?:la\s+|em\s+la\s+|cua em\s+|minh\s+la\s+)?"
    r"(?!(?:hop|thanh|son|sa|ky|sinh|ca|ton|phai|quay|doan|giang|chinh|tho|thi|canh|do)\b)"
)
_LEVEL = (
    r"(?:thcs|thpt|ptth|ptcs|pt|th|tieu hoc|trung hoc co so|trung hoc pho thong|trung hoc|mam non|mau giao|"
    r"chuyen|quoc te|dai hoc|cao dang|cap [123]|c[123]|lien cap|dan lap|tu thuc|ban tru|ptdtnt|ptdtbt|ptdt|"
    r"dan toc noi tru|noi tru|hoc)"
)
_SCHOOL_LEVELS = re.compile(_LEVEL + r"(?:\s+(?:va|&)\s+(?:thcs|thpt|th))?\s+")
# A level without "trường": only an acronym or a capitalised name after it ("THCS Nguyễn Du", "c3 Phan…").
_BARE_LEVEL = re.compile(
    r"(?<![\w])(?:thcs|thpt|ptth|th|tieu hoc|mam non|cap [123]|c[123]|ptdtnt|ptdtbt)\s+(?=\w)"
)


def _school_end(view: _View, name_start: int, lowercase_ok: bool) -> int:
    text = view.text
    if not _capitalised_at(view, name_start) and not lowercase_ok:
        return name_start
    end = _name_end(text, name_start)
    # "THPT chuyên Hà Nội - Amsterdam"
    dash = re.compile(r"\s+-\s+(?=[A-ZĐ])").match(text, end)
    if dash and end > name_start:
        end = _name_end(text, dash.end())
    return end


def _schools(view: _View) -> None:
    folded = view.folded
    spans, last = [], 0
    for match in _SCHOOL_TRIGGER.finditer(folded):
        start = match.end()
        if start < last or view.masked(start):
            continue
        level, pos = None, start
        while True:  # "trường tiểu học và THCS", "trường THPT chuyên Lê Hồng Phong"
            more = _SCHOOL_LEVELS.match(folded, pos)
            if not more:
                break
            level, pos = more, more.end()
        if level is not None and level.group(0).strip() == "hoc" and not _capitalised_at(view, pos):
            continue  # "trường học" is a school only with a capitalised name after it
        end = _school_end(view, pos, lowercase_ok=level is not None)
        if end > pos:
            spans.append((start, end))
            last = end
    view.replace(spans, SCHOOL)
    spans, last = [], 0
    for match in _BARE_LEVEL.finditer(view.folded):
        start = match.start()
        if start < last or view.masked(start):
            continue
        acronym = view.text[start : match.end()].strip()
        lowercase_ok = acronym.lower() in ("thcs", "thpt", "ptth")
        if acronym in ("th", "Th"):
            continue  # lowercase "th" is a shorthand; only "TH" is a level
        pos = match.end()
        more = _SCHOOL_LEVELS.match(view.folded, pos)  # "THPT chuyên …"
        if more and more.group(0).strip() == "chuyen":
            pos = more.end()
        end = _school_end(view, pos, lowercase_ok)  # "THPT chuyên Hà Nội - Amsterdam" is a school
        if end > pos:
            spans.append((start, end))
            last = end
    view.replace(spans, SCHOOL)


# ------------------------------------------------------------------------------------ redact
def redact(text: str | None) -> str:
    """`text` with personal data replaced by placeholders; None gives ""."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    wide = text.translate(_WIDE)
    view = _View(wide, _orthographic(wide))
    _numbers(view)
    view.replace(_password_spans(view), PASSWORD)
    social, emails = _social_spans(view)
    view.replace(emails, EMAIL)
    view.replace(social, SOCIAL)
    _schools(view)
    _addresses(view)
    view.replace(_name_spans(view, _NAME_TRIGGER, capitalised_only=False), NAME)
    view.replace(_name_spans(view, _INTRO_TRIGGER, capitalised_only=True), NAME)
    view.replace(_role_spans(view), NAME)
    view.replace(_full_name_spans(view), NAME)
    view.original = text  # the output keeps the message as written (full-width digits inside spans go)
    return view.render()
