"""What the bot says when it teaches: replies with buttons, in the child's or the parent's voice.

Pure functions of the content (`library.py`), the message and what the bot remembers (age band,
role, quiz position); the actions (`actions/content.py`) only read slots and send the result.
To a child the bot says "mình"/"bạn"; to a parent "anh/chị" (SPEC.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.content.library import BANDS, App, Library, Question, Tip
from bot.content.match import asks_about_app, band_of, best, find_age, haystack

CHILD, PARENT, TEACHER = "child", "parent", "teacher"
BAND_LABEL = {"6-10": "6-10 tuổi", "11-14": "11-14 tuổi", "15-17": "15-17 tuổi"}


@dataclass
class Reply:
    text: str
    buttons: list[dict] = field(default_factory=list)


def payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def button(title: str, intent: str, **entities: str) -> dict:
    return {"title": title, "payload": payload(intent, **entities)}


# --- age band and role ---------------------------------------------------------------------
def ask_band(reason: str = "") -> Reply:
    text = "Bạn bao nhiêu tuổi? Mình sẽ chọn cách nói hợp với bạn nhất."
    if reason:
        text = f"{reason} {text}"
    return Reply(text, [button(BAND_LABEL[b], "tell_age", age_band=b) for b in BANDS])


def band_from(entity: str | None, text: str) -> str | None:
    if entity in BANDS:
        return entity
    return band_of(find_age(text))


def band_saved(band: str) -> str:
    return f'Mình nhớ rồi: bạn {BAND_LABEL[band]}. Muốn đổi, bạn nhắn "đổi tuổi" nhé.'


def ask_role() -> Reply:
    return Reply(
        "Mình nên nói chuyện với bạn thế nào nhỉ?",
        [
            button("Mình là học sinh", "tell_role", role=CHILD),
            button("Tôi là phụ huynh", "tell_role", role=PARENT),
            button("Tôi là thầy cô", "tell_role", role=TEACHER),
        ],
    )


def role_saved(role: str, lib: Library) -> Reply:
    if role == TEACHER:
        menu = teacher_menu(lib)
        return Reply("Chào thầy/cô! " + menu.text, menu.buttons)
    if role == PARENT:
        menu = parent_menu(lib)
        return Reply("Chào anh/chị! " + menu.text, menu.buttons)
    return Reply("Chào bạn! Mình sẽ chỉ bạn mẹo dùng mạng an toàn hợp với tuổi của bạn.", main_menu().buttons)


def main_menu() -> Reply:
    return Reply(
        "Bạn muốn làm gì?",
        [
            button("Mẹo an toàn trên mạng", "ask_tip"),
            button("Làm quiz kỹ năng số", "start_quiz"),
            button("Dành cho phụ huynh", "parent_guide"),
            button("Gặp tư vấn viên", "request_counsellor"),
        ],
    )


# --- tips for children ---------------------------------------------------------------------
def tip_menu(lib: Library, band: str | None) -> Reply:
    head = "Bạn muốn tìm hiểu chủ đề nào?"
    if band:
        head = f"Bạn muốn tìm hiểu chủ đề nào? (mình đang nói cho tuổi {BAND_LABEL[band]})"
    return Reply(head, [button(t.title, "ask_tip", topic=t.id) for t in lib.tips])


def find_tip(lib: Library, entity: str | None, text: str) -> Tip | None:
    return lib.tip(entity) or best(text, lib.tips, lambda t: t.keywords)


def tip(tip_: Tip, band: str, role: str | None) -> Reply:
    text = f"{tip_.title}\n{tip_.bands[band]}"
    if role == PARENT:
        text = (
            f"{tip_.title}: anh/chị có thể nói với con ({BAND_LABEL[band]}) như thế này:\n{tip_.bands[band]}"
        )
    elif role == TEACHER:
        text = f"{tip_.title}: thầy/cô có thể nói với học sinh ({BAND_LABEL[band]}) như thế này:\n{tip_.bands[band]}"
    return Reply(text, [button("Chủ đề khác", "ask_tip"), button("Làm quiz", "start_quiz")])


# --- the app guide -------------------------------------------------------------------------
def find_app(lib: Library, entity: str | None, text: str) -> App | None:
    return lib.app(entity) or best(text, lib.apps, lambda a: a.aliases)


def app_menu(lib: Library) -> Reply:
    return Reply(
        "Anh/chị muốn xem ứng dụng hay trò chơi nào?",
        [button(a.name, "parent_guide", app=a.id) for a in lib.apps],
    )


def _age_line(app: App, age: int | None, role: str | None) -> str:
    if app.min_age is None:  # the note says what the terms say (or that we could not verify them)
        return app.min_age_note or f"{app.name}: kiểm tra điều khoản hiện hành về tuổi tối thiểu."
    rule = f"Theo điều khoản của {app.name}, người dùng phải từ {app.min_age} tuổi trở lên."
    if age is None:
        return f"{rule} {app.min_age_note}".strip()
    if role == PARENT:
        verdict = (
            f"Con {age} tuổi là chưa đủ tuổi để dùng {app.name}."
            if age < app.min_age
            else f"Con {age} tuổi đã đủ tuổi tối thiểu; anh/chị nên cùng con cài đặt an toàn trước khi dùng."
        )
    else:
        verdict = (
            f"Bạn {age} tuổi là chưa đủ tuổi dùng {app.name}; bạn hỏi bố mẹ cách khác an toàn hơn nhé."
            if age < app.min_age
            else f"Bạn {age} tuổi đã đủ tuổi; nhớ cài đặt an toàn như dưới đây nhé."
        )
    return f"{rule} {verdict}"


# With no minimum age in the terms (Roblox, Zalo, Garena games), "younger" is advice for children under 13,
# the age most apps start at; without it the advice for young children would never show.
YOUNGER_WITHOUT_MIN_AGE = 13


def is_younger(app: App, age: int | None) -> bool:
    if age is None:
        return False
    return age < (app.min_age if app.min_age is not None else YOUNGER_WITHOUT_MIN_AGE)


CHILD_APP_ADVICE = (
    "Nếu dùng, bạn để tài khoản ở chế độ riêng tư, chỉ nhận tin nhắn của người quen, và nhờ bố mẹ cùng cài "
    "đặt an toàn. Thấy điều gì làm bạn sợ hay khó chịu, chặn, báo cáo và kể với người lớn, hoặc gọi 111 "
    "(miễn phí, 24/7)."
)


def app_guide(app: App, age: int | None, role: str | None) -> Reply:
    if role != PARENT:  # the guide's settings are written for parents: a child gets the short version
        text = f"{app.name}\n{_age_line(app, age, role)}\n{CHILD_APP_ADVICE}"
        return Reply(
            text,
            [button("Cách chặn, báo cáo", "ask_tip", topic="report_block"), button("Chủ đề khác", "ask_tip")],
        )
    lines = [f"{app.name}", _age_line(app, age, role)]
    if app.rating:
        lines.append(f"Xếp hạng độ tuổi: {app.rating}")
    lines.append("Rủi ro cần biết:")
    lines += [f"• {r}" for r in app.risks]
    lines.append("Cài đặt an toàn:")
    lines += [f"• {s}" for s in app.settings]
    if app.younger and is_younger(app, age):
        lines.append(app.younger)
    if app.sources:
        lines.append("Nguồn: " + "; ".join(s.split(" – ")[0] for s in app.sources))
    return Reply("\n".join(lines), [button("Ứng dụng khác", "parent_guide", app="all")])


# --- guidance for parents ------------------------------------------------------------------
def parent_menu(lib: Library) -> Reply:
    buttons = [button(g.title, "parent_guide", topic=g.id) for g in lib.guides]
    buttons.append(button("Ứng dụng & trò chơi theo tuổi", "parent_guide", app="all"))
    return Reply("Anh/chị muốn tìm hiểu điều gì để bảo vệ con?", buttons)


def parent_answer(lib: Library, topic: str | None, app_id: str | None, text: str) -> Reply:
    """An app question (with the child's age if given), a guide topic, or the menu."""
    if app_id == "all":
        return app_menu(lib)
    app = find_app(lib, app_id, text)
    guide = lib.guide(topic) or best(text, lib.guides, lambda g: g.keywords)
    if app is not None and (guide is None or app_id or asks_about_app(text)):
        return app_guide(app, find_age(text), PARENT)
    if guide is None:
        return parent_menu(lib)
    text_ = guide.text
    if guide.sources:
        text_ += "\nNguồn: " + "; ".join(s.split(" – ")[0] for s in guide.sources)
    return Reply(
        text_,
        [button("Chủ đề khác", "parent_guide"), button("Ứng dụng & trò chơi", "parent_guide", app="all")],
    )


# --- the teacher's kit (content/teachers.yml) ------------------------------------------------------
def teacher_menu(lib: Library) -> Reply:
    buttons = [button(g.title, "parent_guide", topic=g.id) for g in lib.teacher_guides]
    buttons += [
        button(f"Giáo án {BAND_LABEL[b]}", "parent_guide", topic="lesson", age_band=b)
        for b in BANDS
        if b in lib.lessons
    ]
    return Reply("Thầy/cô cần gì để giữ học sinh an toàn trên mạng?", buttons)


def lesson_pack(lib: Library, band: str) -> Reply:
    """A 15-minute and a 45-minute plan for a band, built from the tips and the quiz of that band."""
    plans = lib.lessons.get(band) or {}
    short = [t for t in (lib.tip(i) for i in plans.get("short", ())) if t is not None]
    long = [t for t in (lib.tip(i) for i in plans.get("long", ())) if t is not None]
    quiz = questions(lib, band)
    # the quick quiz asks first about the lesson's own topics
    topics = {t.id for t in short + long}
    few = sorted(quiz, key=lambda q: q.topic not in topics)[:3]
    lines = [f"Giáo án an toàn trên mạng cho học sinh {BAND_LABEL[band]}", "", "Tiết 15 phút:"]
    if short:
        lines.append(
            f'1. (5 phút) Cùng cả lớp đọc mẹo "{short[0].title}" (bấm nút bên dưới để xem lời mẹo cho tuổi này), rồi hỏi: "Nếu gặp chuyện này, em làm gì?"'
        )
    lines += [
        f"2. (7 phút) Đố nhanh {len(few)} câu trắc nghiệm: "
        + " ".join(f"({n}) {q.question}" for n, q in enumerate(few, 1)),
        "3. (3 phút) Nhắc: gặp chuyện làm em sợ hay buồn, kể với người lớn em tin hoặc gọi 111 (miễn phí, 24/7).",
        "",
        "Tiết 45 phút:",
        "1. (5 phút) Khởi động: mỗi em kể một ứng dụng hay dùng và một điều em thích ở đó.",
        "2. (15 phút) Chia nhóm, mỗi nhóm một mẹo: "
        + ", ".join(f'"{t.title}"' for t in long)
        + "; nhóm đóng vai một tình huống rồi nói cách xử lý.",
        f'3. (15 phút) Cả lớp làm bộ trắc nghiệm {len(quiz)} câu (trên bot: nhắn "làm quiz", hoặc thầy/cô đọc to), giải thích từng đáp án.',
        '4. (5 phút) "Em kể với ai?": mỗi em viết tên 3 người lớn em tin; dán áp phích 111 trong lớp.',
        "5. (5 phút) Tổng kết: bị hại trên mạng không phải lỗi của em; kể ra là dũng cảm; 111 miễn phí, 24/7.",
        "",
        'Nếu trong giờ học có em kể chuyện bị hại: xem mục "Khi học sinh kể chuyện".',
    ]
    buttons = [button(t.title, "ask_tip", topic=t.id) for t in long or short]
    buttons.append(button("Khi học sinh kể chuyện", "parent_guide", topic="teacher_disclosure"))
    return Reply("\n".join(lines), buttons)


def teacher_answer(lib: Library, topic: str | None, band: str | None, text: str) -> Reply:
    """A teacher's guide, a lesson pack (band from the button or the message), or the teacher's menu."""
    if topic == "lesson" or (topic is None and _asks_lesson(text)):
        band = band if band in BANDS else band_of(find_age(text))
        if band is None:
            return Reply(
                "Thầy/cô dạy học sinh ở độ tuổi nào?",
                [
                    button(f"Giáo án {BAND_LABEL[b]}", "parent_guide", topic="lesson", age_band=b)
                    for b in BANDS
                ],
            )
        return lesson_pack(lib, band)
    guide = lib.teacher_guide(topic) or (
        best(text, lib.teacher_guides, lambda g: g.keywords) if topic is None else None
    )
    if guide is None:
        return teacher_menu(lib)
    return Reply(guide.text, teacher_menu(lib).buttons)


_LESSON_WORDS = (
    "giao an",
    "tiet hoc",
    "bai giang",
    "hoat dong",
    "45 phut",
    "15 phut",
    "len lop",
    "day hoc sinh",
)


def _asks_lesson(text: str) -> bool:
    hay = haystack(text)
    return any(f" {w} " in hay for w in _LESSON_WORDS)


# --- the quiz ------------------------------------------------------------------------------
def questions(lib: Library, band: str) -> tuple[Question, ...]:
    return lib.quiz.get(band, ())


def quiz_question(lib: Library, band: str, index: int) -> Reply:
    items = questions(lib, band)
    q = items[index]
    return Reply(
        f"Câu {index + 1}/{len(items)}: {q.question}",
        [button(option, "quiz_answer", choice=str(n)) for n, option in enumerate(q.options, start=1)],
    )


def parse_choice(entity: str | None, text: str, options: int) -> int | None:
    """1-based choice from a button ("2"), a letter ("b", "đáp án b") or a number ("câu 2")."""
    raw = (entity or "").strip() or (text or "").strip()
    folded = "".join(ch for ch in raw.lower() if ch.isalnum() or ch == " ").split()
    for word in reversed(folded):
        if word.isdigit() and 1 <= int(word) <= options:
            return int(word)
        if len(word) == 1 and "a" <= word <= "d" and ord(word) - 96 <= options:
            return ord(word) - 96
    return None


def quiz_feedback(lib: Library, band: str, index: int, choice: int) -> tuple[bool, str]:
    q = questions(lib, band)[index]
    if choice == q.answer:
        return True, f"✅ Chính xác! {q.explain}"
    return False, f"Chưa đúng rồi. Đáp án là: {q.options[q.answer - 1]}.\n{q.explain}"


def quiz_score(score: int, total: int) -> Reply:
    if score == total:
        cheer = "Tuyệt vời, bạn đúng hết! Bạn là chuyên gia an toàn mạng rồi đó."
    elif score * 2 >= total:
        cheer = "Giỏi lắm! Xem lại vài mẹo nữa là bạn nắm chắc hết."
    else:
        cheer = "Không sao đâu, ai cũng học từ từ mà. Xem mẹo rồi thử lại nhé!"
    return Reply(
        f"Xong rồi! Bạn đúng {score}/{total} câu. {cheer}",
        [button("Làm lại", "start_quiz"), button("Xem mẹo an toàn", "ask_tip")],
    )
