"""Find what a free-text message is about: a tip or guide topic, an app, an age, a role.

Deterministic keyword matching on the folded text (no diacritics, teencode expanded), so
"cach dat pass cho acc ff" and "cách đặt mật khẩu" find the same topic. Keywords live in the
content files, next to the texts they lead to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TypeVar

from bot.nlu.normalize import fold, normalize_folded

T = TypeVar("T")

_AGE = re.compile(r"\b(\d{1,2})\s*(?:tuoi|t)\b")
_GRADE = re.compile(r"\blop\s*(\d{1,2})\b")
_BARE = re.compile(r"^\s*(\d{1,2})\s*$")
_PARENT = re.compile(
    r"\b(phu huynh|bo me cua|(?:bo|me|ba|ma|cha|ong|ba noi|ba ngoai) cua"
    r"|con (?:toi|tui|nha (?:toi|em|minh))|be nha|chau nha|la (?:bo|me|ba|ma|cha) (?:cua|be|chau))\b"
)


def haystack(text: str) -> str:
    """The message folded two ways (as typed, and with teencode expanded), padded for whole words."""
    plain = re.sub(r"[^a-z0-9]+", " ", fold(text or "").lower()).strip()
    expanded = re.sub(r"[^a-z0-9]+", " ", normalize_folded(text or "")).strip()
    return f" {plain} | {expanded} "


def _hits(hay: str, keywords: Iterable[str]) -> int:
    """Matched keywords, weighted by length in words (a 3-word phrase says more than one word)."""
    return sum(len(k.split()) for k in keywords if k and f" {k} " in hay)


def best(text: str, items: Sequence[T], keywords_of) -> T | None:  # type: ignore[no-untyped-def]
    """The item whose keywords the text matches most (None when nothing matches)."""
    hay = haystack(text)
    scored = [(_hits(hay, keywords_of(item)), -index, item) for index, item in enumerate(items)]
    score, _, item = max(scored, key=lambda s: (s[0], s[1]), default=(0, 0, None))
    return item if score > 0 else None


_ABOUT_APP = re.compile(
    r"\b(tuoi|phu hop|an toan|nguy hiem|rui ro|(?:duoc|dc|đc) (?:khong|ko|k|chua)|co nen|nen cho|cho con (?:choi|dung|xem)"
    r"|la gi|la app gi)\b"
)


def asks_about_app(text: str) -> bool:
    """The question is about an app itself (its age, its risks), not a task done in it."""
    return bool(_ABOUT_APP.search(haystack(text)))


def find_age(text: str) -> int | None:
    """An age stated in the message: "12 tuổi", "e 15t", "lớp 7" (-> 12), or a bare "13"."""
    hay = re.sub(r"[^a-z0-9]+", " ", fold(text or "").lower())
    for pattern, offset in ((_AGE, 0), (_GRADE, 5)):
        match = pattern.search(hay)
        if match:
            age = int(match.group(1)) + offset
            return age if 3 <= age <= 19 else None
    match = _BARE.match(hay)
    if match and 5 <= int(match.group(1)) <= 18:
        return int(match.group(1))
    return None


def band_of(age: int | None) -> str | None:
    if age is None:
        return None
    if age <= 10:
        return "6-10"
    return "11-14" if age <= 14 else "15-17"


def says_parent(text: str) -> bool:
    """The writer presents themself as a parent or carer ("tôi là phụ huynh", "con tôi"); teachers: says_teacher
    (a child also writes "cô giáo bảo em...", so a teacher needs a first-person marker)."""
    return bool(_PARENT.search(haystack(text)))


_CHILD = re.compile(
    r"\b(hoc sinh|hs|hoc tro|tre em|sinh vien|lop \d+|\d+ tuoi|(?:em|minh|to|tui|con|chau) la (?:con|be|tre|hoc))\b"
)


# First-person markers only: a child also says "cô giáo bảo em...", a teacher says "tôi là cô giáo".
_TEACHER = re.compile(
    r"\b((?:toi|minh|em) la (?:giao vien|gv|gvcn|co giao|thay giao|co chu nhiem|thay chu nhiem|co|thay)"
    r"|(?:co giao|thay giao|giao vien) day|giao vien nhu toi|hoc sinh (?:cua )?(?:toi|minh)|lop (?:cua )?toi"
    r"|toi day|day hoc sinh|giao an|cho ca lop|cho hoc sinh|(?:giao vien|thay co)(?: \w+){0,2} (?:nen|can|phai))\b"
)


def says_teacher(text: str) -> bool:
    """The writer presents themself as a teacher ("tôi là giáo viên", "học sinh của tôi", "giáo án")."""
    return bool(_TEACHER.search(haystack(text)))


def says_child(text: str) -> str | None:
    """ "child" when the writer presents themself as a pupil or a child ("em là học sinh"), else None."""
    return "child" if _CHILD.search(haystack(text)) else None
