"""The teaching actions with real rasa_sdk trackers: a child of each band, a parent, the quiz."""

from __future__ import annotations

import re

import pytest

from bot.content.library import BANDS, library
from tests.support.conversation import Conversation

lib = library()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def payloads(messages: list[dict]) -> list[str]:
    return [b["payload"] for m in messages for b in (m.get("buttons") or [])]


@pytest.mark.parametrize("band", BANDS)
async def test_a_child_of_each_band_gets_every_topic_at_their_age(band) -> None:
    chat = Conversation()
    asked = await chat.say("ask_tip", "làm sao đặt mật khẩu cho an toàn")
    assert "bao nhiêu tuổi" in texts(asked)
    assert f'/tell_age{{"age_band": "{band}"}}' in payloads(asked)
    answered = await chat.say("tell_age", age_band=band)  # the pending tip comes right after the band
    assert texts(answered) == lib.tip("passwords").title + "\n" + lib.tip("passwords").bands[band]
    assert chat.slots["age_band"] == band and chat.slots["pending"] is None
    for tip in lib.tips:  # from the menu buttons, every topic in the band's words
        assert texts(await chat.say("ask_tip", topic=tip.id)) == f"{tip.title}\n{tip.bands[band]}"


@pytest.mark.parametrize(
    "text,age,topic",
    [
        ("em 8 tuoi, neu nguoi la ib hoi dia chi nha thi sao", "6-10", "strangers"),
        ("mk hoc lop 7, lam sao biet tin gia tren tiktok", "11-14", "fake_news"),
        ("e 16t, chia se vi tri tren snap map co sao ko", "15-17", "location"),
    ],
)
async def test_free_text_gives_the_band_and_the_topic_at_once(text, age, topic) -> None:
    chat = Conversation()
    assert texts(await chat.say("ask_tip", text)).endswith(lib.tip(topic).bands[age])
    assert chat.slots["age_band"] == age


async def test_the_child_can_change_the_band() -> None:
    chat = Conversation()
    await chat.say("tell_age", "em 9 tuổi")
    assert chat.slots["age_band"] == "6-10"
    assert "bao nhiêu tuổi" in texts(await chat.say("change_age", "em nhập sai tuổi rồi"))
    assert chat.slots["age_band"] is None
    assert "11-14" in texts(await chat.say("tell_age", "mình học lớp 8"))
    assert texts(await chat.say("ask_tip", topic="images")).endswith(lib.tip("images").bands["11-14"])


async def test_a_parent_asking_about_an_app_gets_the_real_minimum_age() -> None:
    chat = Conversation()
    reply = texts(await chat.say("parent_guide", "con tôi 10 tuổi chơi TikTok được không?"))
    assert "13 tuổi" in reply and "chưa đủ tuổi" in reply and "anh/chị" in reply
    assert lib.app("tiktok").younger in reply
    assert chat.slots["role"] == "parent"
    older = texts(await chat.say("parent_guide", "con 15 tuổi dùng tiktok được không"))
    assert "đã đủ tuổi" in older and lib.app("tiktok").younger not in older


async def test_a_parent_reaches_every_guide_and_every_app() -> None:
    chat = Conversation()
    menu = await chat.say("parent_guide", "tôi muốn học cách bảo vệ con trên mạng")
    assert '/parent_guide{"app": "all"}' in payloads(menu)
    for guide in lib.guides:
        assert texts(await chat.say("parent_guide", topic=guide.id)).startswith(guide.text)
    apps = await chat.say("parent_guide", app="all")
    assert len(payloads(apps)) == len(lib.apps)
    for app in lib.apps:
        assert texts(await chat.say("parent_guide", app=app.id)).startswith(app.name)


@pytest.mark.parametrize(
    "text,guide",
    [
        ("cach cai family link cho dt cua con", "family_link"),
        ("chan web nguoi lon bang wifi nha minh the nao", "router_dns"),
        ("dau hieu nao cho thay con bi bat nat tren mang", "signs_bullying"),
        ("làm sao để nói chuyện với con về an toàn trên mạng", "talk_with_child"),
    ],
)
async def test_parent_free_text_finds_the_guide(text, guide) -> None:
    assert texts(await Conversation().say("parent_guide", text)).startswith(lib.guide(guide).text)


async def test_a_parent_asking_a_tip_is_spoken_to_as_a_parent() -> None:
    chat = Conversation()
    await chat.say("tell_role", "tôi là phụ huynh")
    await chat.say("tell_age", age_band="6-10")
    reply = texts(await chat.say("ask_tip", topic="privacy"))
    assert "anh/chị có thể nói với con" in reply and reply.endswith(lib.tip("privacy").bands["6-10"])


async def test_the_role_question_and_a_child_role() -> None:
    chat = Conversation()
    said = await chat.say("tell_role", "em là học sinh")
    assert chat.slots["role"] == "child" and "bao nhiêu tuổi" in texts(said)


@pytest.mark.parametrize("band", BANDS)
async def test_the_quiz_runs_to_a_score_and_resumes(band) -> None:
    chat = Conversation()
    await chat.say("tell_age", age_band=band)
    first = await chat.say("start_quiz", "làm quiz")
    questions = lib.quiz[band]
    assert f"Câu 1/{len(questions)}" in texts(first)
    assert payloads(first) == [
        f'/quiz_answer{{"choice": "{n}"}}' for n in range(1, len(questions[0].options) + 1)
    ]
    right = 0
    for index, q in enumerate(questions):
        if index == 3:  # leave and come back: the quiz goes on where it stopped
            assert "câu 4" in texts(await chat.say("start_quiz", "làm tiếp quiz"))
        choice = q.answer if index % 2 == 0 else (q.answer % len(q.options)) + 1
        right += choice == q.answer
        said = texts(await chat.say("quiz_answer", choice=str(choice)))
        assert q.explain in said and ("Chính xác" in said) == (choice == q.answer)
    assert f"Bạn đúng {right}/{len(questions)} câu" in said
    assert "Câu 1/" in texts(await chat.say("start_quiz", "làm lại"))  # a finished quiz starts again


async def test_quiz_answers_typed_as_letters_and_unclear_ones() -> None:
    chat = Conversation()
    await chat.say("start_quiz", "em 12 tuổi, cho em làm quiz")
    q = lib.quiz["11-14"][0]
    assert "bấm nút" in texts(await chat.say("quiz_answer", "hmm"))
    letter = "abcd"[q.answer - 1]
    assert "Chính xác" in texts(await chat.say("quiz_answer", f"đáp án {letter}"))
    assert re.search(r"Câu 2/\d+", texts(await Conversation().say("quiz_answer", "a")) or "Câu 2/1") is None


async def test_an_answer_without_a_quiz_offers_one() -> None:
    said = await Conversation().say("quiz_answer", "b")
    assert payloads(said) == ["/start_quiz"]


async def test_an_unclear_role_gets_one_question_with_three_buttons() -> None:
    chat = Conversation()
    said = await chat.say("tell_role", "mình là người dùng mới")
    assert payloads(said) == [
        '/tell_role{"role": "child"}',
        '/tell_role{"role": "parent"}',
        '/tell_role{"role": "teacher"}',
    ]
    assert "role" not in chat.slots
    await chat.say("tell_role", role="parent")
    assert chat.slots["role"] == "parent"


async def test_a_child_asking_about_an_app_is_spoken_to_as_a_child() -> None:
    reply = texts(await Conversation().say("ask_tip", "e 11 tuoi, tiktok may tuoi moi dc dung vay"))
    assert reply.startswith("TikTok") and "13 tuổi" in reply and "Bạn 11 tuổi là chưa đủ tuổi" in reply
    assert "anh/chị" not in reply.lower() and "111" in reply


async def test_a_teacher_is_recognised_and_gets_the_teachers_kit() -> None:
    chat = Conversation()
    hello = await chat.say("tell_role", "chào bot, tôi là cô giáo chủ nhiệm lớp 3")
    assert chat.slots["role"] == "teacher" and texts(hello).startswith("Chào thầy/cô!")
    assert '/parent_guide{"topic": "teacher_disclosure"}' in payloads(hello)
    told = texts(
        await chat.say(
            "parent_guide", "nếu học sinh kể với tôi là em bị bắt nạt và dặn đừng nói với ai thì sao"
        )
    )
    assert "Không hứa giữ bí mật" in told and "Không tra hỏi" in told and "111" in told
    pack = texts(await chat.say("parent_guide", topic="lesson", age_band="6-10"))
    assert "Tiết 15 phút" in pack and "Tiết 45 phút" in pack and lib.tip("strangers").title in pack
    tip = texts(await chat.say("ask_tip", topic="privacy"))  # no band yet: asked first
    tip = texts(await chat.say("tell_age", age_band="11-14"))
    assert tip.startswith(lib.tip("privacy").title + ": thầy/cô có thể nói với học sinh (11-14 tuổi)")
    # a teacher asking about an app or a parents' topic still gets it
    assert "Family Link" in texts(await chat.say("parent_guide", "cách cài google family link"))


async def test_a_teacher_writing_first_in_parent_guide_gets_teacher_answers() -> None:
    chat = Conversation()
    said = texts(
        await chat.say("parent_guide", "xin gợi ý hoạt động 45 phút dạy học sinh lớp 7 về an toàn trên mạng")
    )
    assert chat.slots["role"] == "teacher" and "Giáo án an toàn trên mạng cho học sinh 11-14 tuổi" in said
    signs = texts(await chat.say("parent_guide", "giáo viên cần để ý dấu hiệu gì trong lớp"))
    assert signs == lib.teacher_guide("teacher_signs").text


async def test_a_child_mentioning_a_teacher_is_still_a_child() -> None:
    chat = Conversation()
    await chat.say("ask_tip", "cô giáo bảo em phải đặt mật khẩu khó, đặt sao ạ")
    assert chat.slots.get("role") is None
