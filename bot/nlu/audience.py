"""Who is asking: a child about themself, or a parent about a child (SPEC: parent_guide is the latter).

Both ways: a parent_guide guess in a child's first person is ask_tip; an ask_tip guess from an adult
speaking of their own child or pupil (bot/nlu/reporter.py) is parent_guide.

A bag-of-words classifier hears "giới hạn thời gian dùng điện thoại" and answers parent_guide even
when a child writes "em muốn tự giới hạn thời gian". This rule settles it from the words the writer
uses: a parent_guide guess with no child or family in it, written in a child's first person
("em", "mình", "tớ"...), is a child asking a tip. Pure Python, no Rasa.
"""

from __future__ import annotations

import re

from bot.nlu.normalize import fold, normalize_folded
from bot.nlu.reporter import reporter_of

# Someone the parent is asking about, or the family: "con", "bé", "cháu", "trẻ", "học sinh", "bố mẹ"...
_ABOUT_A_CHILD = re.compile(
    r"\b(con|be|chau|tre|tre em|tre con|hoc sinh|hoc tro|hs|cac em|tui nho|bon tre|bon nho|nho nha|lop|ca lop"
    r"|bo me|cha me|phu huynh|gia dinh|nha minh co|kid|kids|child|children|son|daughter)\b"
)
# A child speaking of themself. "tôi" is left out: children rarely say it, parents often do.
# ("mình" but not "xác minh", "thông minh", "chứng minh", "minh bạch", "minh họa")
_CHILD_FIRST_PERSON = re.compile(
    r"\b(em|e|mk|mik|to|tui|t|tao|(?<!xac )(?<!thong )(?<!chung )minh(?! bach| hoa))\b"
)


def _folded(text: str) -> str:
    plain = re.sub(r"[^a-z0-9]+", " ", fold(text or "").lower())
    return f" {plain} {normalize_folded(text or '')} "


def settle(text: str, intent: str | None) -> str | None:
    """The intent to use instead of `intent`, or None to keep it."""
    if intent == "ask_tip":
        # and the other way: an adult asking about their own child or pupil ("con tôi 8 tuổi, ...",
        # "học sinh của tôi") wants guidance for that child (SPEC), answered to an adult
        return "parent_guide" if reporter_of(text) == "adult" else None
    if intent != "parent_guide":
        return None
    folded = _folded(text)
    if _ABOUT_A_CHILD.search(folded) or not _CHILD_FIRST_PERSON.search(folded):
        return None
    return "ask_tip"
