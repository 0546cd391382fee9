"""Teaching actions: thin wrappers that read slots and send what `bot.content.answers` composes.

Slots (domain.yml): `age_band` (6-10, 11-14, 15-17), `role` (child/parent/teacher), `pending` (what to
answer once the age band is known: "quiz" or "tip:<id>"), `quiz_band`, `quiz_index`, `quiz_score`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.content import answers
from bot.content.answers import CHILD, PARENT, TEACHER, Reply
from bot.content.library import library
from bot.content.match import asks_about_app, best, find_age, says_child, says_parent, says_teacher
from bot.reports import events as report

Events = list[dict[str, Any]]


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None)


def typed_text(tracker: Tracker) -> str:
    """What the person typed; "" for a button payload such as `/ask_tip{"topic": "privacy"}`."""
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text


def entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value is not None else None


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def answer_tip(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic: str | None, band: str | None
) -> Events:
    """A tip for the band, or the question about the age band (and the tip is kept pending)."""
    lib = library()
    text = typed_text(tracker)
    role = tracker.get_slot("role")
    app = answers.find_app(lib, entity(tracker, "app"), text)
    tip = answers.find_tip(lib, topic, text)
    if app is not None and (tip is None or asks_about_app(text)):
        send(dispatcher, answers.app_guide(app, find_age(text), role or CHILD))
        return []
    if tip is None:
        send(dispatcher, answers.tip_menu(lib, band))
        return []
    if band is None:
        send(dispatcher, answers.ask_band())
        return [SlotSet("pending", f"tip:{tip.id}")]
    send(dispatcher, answers.tip(tip, band, role))
    report.record("tip", topic=tip.id, age_band=band, role=role or CHILD)
    return [SlotSet("pending", None)]


def start_quiz(dispatcher: CollectingDispatcher, tracker: Tracker, band: str | None) -> Events:
    lib = library()
    if band is None:
        send(dispatcher, answers.ask_band("Trước khi làm quiz, cho mình hỏi nhé."))
        return [SlotSet("pending", "quiz")]
    total = len(answers.questions(lib, band))
    index = _int(tracker.get_slot("quiz_index"))
    if tracker.get_slot("quiz_band") == band and 0 < index < total:
        dispatcher.utter_message(text=f"Mình làm tiếp từ câu {index + 1} nhé.")
        score = _int(tracker.get_slot("quiz_score"))
    else:
        dispatcher.utter_message(text=f"Bắt đầu nào! {total} câu hỏi, bạn bấm nút để chọn đáp án nhé.")
        index, score = 0, 0
    send(dispatcher, answers.quiz_question(lib, band, index))
    return [
        SlotSet("pending", None),
        SlotSet("quiz_band", band),
        SlotSet("quiz_index", index),
        SlotSet("quiz_score", score),
    ]


class ActionTip(Action):
    def name(self) -> str:
        return "action_tip"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        text = typed_text(tracker)
        stated = answers.band_from(None, text)  # "em 12 tuổi, ..." also tells the band
        band = stated or tracker.get_slot("age_band")
        events: Events = [SlotSet("age_band", stated)] if stated else []
        if tracker.get_slot("role") is None and (says_teacher(text) or says_parent(text)):
            events.append(SlotSet("role", TEACHER if says_teacher(text) else PARENT))
        return events + answer_tip(dispatcher, tracker, entity(tracker, "topic"), band)


class ActionParentGuide(Action):
    def name(self) -> str:
        return "action_parent_guide"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        lib, text, topic = library(), typed_text(tracker), entity(tracker, "topic")
        teacher = (
            tracker.get_slot("role") == TEACHER
            or says_teacher(text)
            or topic == "lesson"
            or lib.teacher_guide(topic) is not None
        )
        if teacher and not _parent_topic(lib, topic, entity(tracker, "app"), text):
            send(dispatcher, answers.teacher_answer(lib, topic, entity(tracker, "age_band"), text))
            return [SlotSet("role", TEACHER)]
        send(dispatcher, answers.parent_answer(lib, topic, entity(tracker, "app"), text))
        return [SlotSet("role", TEACHER if teacher else PARENT)]


def _parent_topic(lib, topic: str | None, app: str | None, text: str) -> bool:  # type: ignore[no-untyped-def]
    """A teacher asking about a parent guide or an app ("Family Link", "TikTok") gets that guide."""
    if topic == "lesson" or lib.teacher_guide(topic) is not None:
        return False
    if topic or app:
        return True
    teacher_hit = best(text, lib.teacher_guides, lambda g: g.keywords) or answers._asks_lesson(text)
    return (
        not teacher_hit
        and (best(text, lib.guides, lambda g: g.keywords) or answers.find_app(lib, None, text)) is not None
    )


class ActionSetAge(Action):
    """The age band from a button or a message ("em 12 tuổi", "lớp 7"), then what was pending."""

    def name(self) -> str:
        return "action_set_age"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        band = answers.band_from(entity(tracker, "age_band"), typed_text(tracker))
        if band is None:
            send(dispatcher, answers.ask_band())
            return []
        events: Events = [SlotSet("age_band", band)]
        pending = tracker.get_slot("pending") or ""
        if pending == "quiz":
            return events + start_quiz(dispatcher, tracker, band)
        if pending.startswith("tip:"):
            return events + answer_tip(dispatcher, tracker, pending[4:], band)
        if tracker.get_slot("role") == TEACHER:
            send(dispatcher, answers.lesson_pack(library(), band))
            return events
        if tracker.get_slot("role") == PARENT:
            dispatcher.utter_message(text=f"Mình nhớ rồi: con anh/chị {answers.BAND_LABEL[band]}.")
            send(dispatcher, answers.parent_menu(library()))
            return events
        dispatcher.utter_message(text=answers.band_saved(band))
        send(dispatcher, answers.tip_menu(library(), band))
        return events


class ActionChangeAge(Action):
    def name(self) -> str:
        return "action_change_age"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        send(dispatcher, answers.ask_band("Được chứ!"))
        return [SlotSet("age_band", None)]


class ActionSetRole(Action):
    def name(self) -> str:
        return "action_set_role"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        chosen = entity(tracker, "role")
        text = typed_text(tracker)
        if chosen in (CHILD, PARENT, TEACHER):
            role: str | None = chosen
        elif says_teacher(text):
            role = TEACHER
        else:
            role = PARENT if says_parent(text) else says_child(text)
        if role is None:  # "mình là ..." with nothing telling who: one question with two buttons
            send(dispatcher, answers.ask_role())
            return []
        send(dispatcher, answers.role_saved(role, library()))
        if role == CHILD and tracker.get_slot("age_band") is None:
            send(dispatcher, answers.ask_band())
        return [SlotSet("role", role)]


class ActionQuizStart(Action):
    def name(self) -> str:
        return "action_quiz_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        stated = answers.band_from(None, typed_text(tracker))
        events: Events = [SlotSet("age_band", stated)] if stated else []
        return events + start_quiz(dispatcher, tracker, stated or tracker.get_slot("age_band"))


class ActionQuizAnswer(Action):
    def name(self) -> str:
        return "action_quiz_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        lib = library()
        band = tracker.get_slot("quiz_band")
        index = _int(tracker.get_slot("quiz_index"))
        items = answers.questions(lib, band) if band else ()
        if not items or index >= len(items):
            send(
                dispatcher,
                Reply("Bạn muốn làm quiz kỹ năng số không?", [answers.button("Làm quiz", "start_quiz")]),
            )
            return []
        choice = answers.parse_choice(
            entity(tracker, "choice"), typed_text(tracker), len(items[index].options)
        )
        if choice is None:
            dispatcher.utter_message(text="Bạn bấm nút để chọn, hoặc nhắn a, b, c nhé.")
            send(dispatcher, answers.quiz_question(lib, band, index))
            return []
        right, feedback = answers.quiz_feedback(lib, band, index, choice)
        score = _int(tracker.get_slot("quiz_score")) + int(right)
        dispatcher.utter_message(text=feedback)
        if index + 1 < len(items):
            send(dispatcher, answers.quiz_question(lib, band, index + 1))
        else:
            send(dispatcher, answers.quiz_score(score, len(items)))
            report.record("quiz", age_band=band, score=score, total=len(items))
        return [SlotSet("quiz_index", index + 1), SlotSet("quiz_score", score)]
