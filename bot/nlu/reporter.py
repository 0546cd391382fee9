"""Who describes the harm: the child, or an adult reporting for a child (SPEC slot `reporter`).

A parent, grandparent or teacher writes about "con tôi", "cháu nhà mình", "học sinh lớp tôi", or
says who they are ("tôi là giáo viên"). The intent follows the harm, not the speaker, so this only
chooses the reply's voice (domain.yml variations on `reporter`). When nothing marks an adult, the
writer is taken for a child: a child must never get a reply written for someone else.
Pure Python, no Rasa; matched on the folded text (teencode expanded, no diacritics).
"""

from __future__ import annotations

import re

from bot.nlu.normalize import normalize_folded

# An adult's own pronouns next to a child of theirs: "con tôi", "con gái mình", "bé nhà em", "cháu ngoại tôi".
_MINE = r"(toi|tui|chung toi|minh|em|anh|chi|nha toi|nha minh|nha em|nha tui|nha chi|nha anh)"
_CHILD_OF = (
    r"(con|con gai|con trai|con lon|con ut|con ca|dua con|dua nho|be|be gai|be trai|chau|chau gai|chau trai"
    r"|chau noi|chau ngoai|thang cu|thang be|con be|cu)"
)
_ADULT = re.compile(
    "|".join(
        [
            # "con tôi", "con gái của tôi", "bé nhà mình", "cháu ngoại nhà tôi"
            rf"\b{_CHILD_OF}( (lon|nho|ut|ca|thu hai|thu ba|dau|nha))?( cua)? {_MINE}\b",
            # a young parent's "con em" followed by what the child does or suffers
            r"\bcon em (nha |no |dang |bi |moi |nam nay |hoc |lop |\d+ tuoi|chau )",
            # a teacher's pupils: "học sinh của tôi", "học sinh lớp tôi / lớp cô / lớp mình chủ nhiệm"
            rf"\b(hoc sinh|hoc tro|hs|em hoc sinh|mot em)( nam| nu)?( cua| trong)?( lop)? {_MINE}\b",
            r"\b(lop|truong) (toi|minh|co|thay|em) (chu nhiem|dang day|day)\b",
            r"\b(mot|1|co mot|co 1) (em )?(hoc sinh|hoc tro)\b",
            # who they say they are
            r"\b(toi|minh|em|tui) (la|lam) (me|bo|ba|phu huynh|giao vien|co giao|thay giao|co chu nhiem|thay chu nhiem"
            r"|ba noi|ba ngoai|ong noi|ong ngoai|ong|ba|di|co|chu|bac|cau|mo|thim|anh trai|chi gai|hang xom|bao mau)"
            r" (cua|chu nhiem|day|o|mot|hai|ba|\d)",
            r"\b(toi|minh|em|tui) la (phu huynh|giao vien|co giao|thay giao|bao mau)\b",
            r"\b(toi|minh|tui) la (me|bo|ba|phu huynh|giao vien|co giao|thay giao|ong|ba noi|ba ngoai|bac|chu|co|di|cau|mo)"
            r"( cua (chau|be|em|hai|ba|mot))?\s*[,.:;!]",
            r"\b(toi|minh|em|tui) (la|lam) (chu nhiem|huan luyen vien|hlv|quan ly|chu quan|chu nha|tong phu trach)\b",
            r"\b(co giao|thay giao|giao vien|phu huynh|me chau|bo chau|ba chau) day (a|ạ)\b",
            rf"\bhoc sinh lop \d+\w?( cua)? {_MINE}\b",
            r"\b(lop|truong|doi) toi\b",
            # a pupil who tells the writer: "học sinh kể với tôi", "một em tâm sự với cô"
            r"\b(hoc sinh|hoc tro|hs|mot em|em hoc sinh)( \w+){0,3} (ke|tam su|noi|thu nhan|bao) (voi|cho) (toi|co|thay|minh)\b",
            r"\b(ong ba|ba|ong|ba ngoai|ba noi) (trong|cham|nuoi|giu) (chau|be)\b",
            r"\b(phu huynh|giao vien|co giao|thay giao|bao mau) (day|chu nhiem|cua) (lop|truong|hoc sinh|chau|be|em)\b",
            r"\b(me|bo|ba|cha) (cua )?(chau|be|em|hoc sinh) (day|a|xin|muon|can)\b",
            r"\b(i am|i'm) (a |the )?(mother|father|mom|dad|parent|teacher)\b",
            r"\bmy (son|daughter|child|kid|student|pupil)\b",
        ]
    )
)


def reporter_of(text: str) -> str:
    """ "adult" when the writer reports for a child they care for or teach, else "child"."""
    return "adult" if _ADULT.search(f" {normalize_folded(text or '')} ") else "child"
