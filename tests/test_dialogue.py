"""The served bot keeps the safety contract of SPEC.md, end to end over REST."""

import subprocess
import uuid

import pytest

from tests.support.servers import BIN, ROOT, http_json, say, start_bot, tracker_slots


def _text(replies):
    return " ".join(r.get("text") or "" for r in replies)


def _sender():
    return "test-" + uuid.uuid4().hex[:10]


@pytest.mark.parametrize(
    "message, level, category",
    [
        ("e muon chet", "imminent", "disclose_self_harm"),
        ("có người dọa tung ảnh của em", "high", "disclose_sexual_exploitation"),
        (
            "ong chu tren roblox hen gap em o cong truong va dan dung ke voi bo me",
            "high",
            "disclose_grooming",
        ),
        ("tối qua bố say rượu lại đánh em bầm tím cả lưng", "high", "disclose_abuse_offline"),
        ("tụi trong lớp lập group chửi em là đồ béo", "medium", "disclose_cyberbullying"),
        ("acc ff cua e bi hack mat het skin roi", "medium", "disclose_scam"),
        ("dạo này em buồn lắm, chẳng ai hiểu em", "low", "express_distress"),
    ],
)
def test_every_risk_level_gets_its_reply_and_slots(rasa_server, message, level, category):
    sender = _sender()
    text = _text(say(rasa_server.url, sender, message))
    slots = tracker_slots(rasa_server.url, sender)
    assert slots["risk_level"] == level
    assert slots["risk_category"] == category
    assert "111" in text


def test_risk_level_never_goes_down_in_a_conversation(rasa_server):
    sender = _sender()
    say(rasa_server.url, sender, "minh khong muon song nua")
    say(rasa_server.url, sender, "cảm ơn bạn")
    say(rasa_server.url, sender, "bạn ơi acc game của mình bị hack rồi")
    slots = tracker_slots(rasa_server.url, sender)
    assert slots["risk_level"] == "imminent"
    assert slots["risk_category"] == "disclose_scam"


def test_disclosure_in_the_middle_of_other_talk(rasa_server):
    sender = _sender()
    say(rasa_server.url, sender, "chào bot")
    say(rasa_server.url, sender, "làm sao đặt mật khẩu mạnh")
    text = _text(say(rasa_server.url, sender, "mà có người lạ đòi em gửi ảnh nóng không thì tung clip"))
    assert "111" in text
    assert tracker_slots(rasa_server.url, sender)["risk_level"] == "high"


def test_non_risk_message_keeps_level_none(rasa_server):
    sender = _sender()
    say(rasa_server.url, sender, "cười chết mất với clip này")
    assert tracker_slots(rasa_server.url, sender)["risk_level"] == "none"


def test_conversation_survives_a_restart(trained_model, tmp_path):
    workdir = tmp_path / "restart"
    sender = _sender()
    bot = start_bot(trained_model, workdir, with_actions=False)
    try:
        say(bot.url, sender, "tụi nó đăng ảnh chế của em lên nhóm lớp")
    finally:
        bot.stop()
    bot = start_bot(trained_model, workdir, with_actions=False)
    try:
        assert tracker_slots(bot.url, sender)["risk_category"] == "disclose_cyberbullying"
    finally:
        bot.stop()


def test_hotline_without_action_server(trained_model, tmp_path):
    """The safety replies live in domain.yml: 111 still reaches the child."""
    bot = start_bot(trained_model, tmp_path / "no-actions", with_actions=False)
    try:
        sender = _sender()
        assert "111" in _text(say(bot.url, sender, "e muon chet"))
        assert tracker_slots(bot.url, sender)["risk_level"] == "imminent"
        assert "111" in _text(say(bot.url, _sender(), "nó dọa gửi ảnh khỏa thân của em cho cả lớp"))
    finally:
        bot.stop()


def test_stories(trained_model, tmp_path):
    """tests/test_stories.yml, with NLU on the real text, must pass without a prediction error."""
    out = subprocess.run(
        [
            str(BIN / "rasa"),
            "test",
            "core",
            "--model",
            trained_model,
            "--stories",
            "tests/test_stories.yml",
            "--e2e",
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path / "results"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else out.stdout[-3000:] + out.stderr[-3000:]
    assert out.returncode == 0, detail


def test_delete_my_data_after_a_yes(rasa_server):
    import sqlite3

    sender = _sender()
    say(rasa_server.url, sender, "tụi nó lập nhóm chửi em suốt")
    assert "xóa" in _text(say(rasa_server.url, sender, "xóa dữ liệu của em đi"))
    db = rasa_server.workdir / "tracker.db"

    def stored_rows():
        with sqlite3.connect(db) as conn:
            return conn.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0]

    assert stored_rows() > 0  # asking alone deletes nothing
    assert "đã xóa" in _text(say(rasa_server.url, sender, "/affirm"))
    assert stored_rows() == 0
    events = http_json(f"{rasa_server.url}/conversations/{sender}/tracker")["events"]
    assert not [e for e in events if e["event"] == "user"]


def test_no_keeps_the_data(rasa_server):
    sender = _sender()
    say(rasa_server.url, sender, "xoa lich su chat")
    assert "không xóa" in _text(say(rasa_server.url, sender, "/deny"))
    assert tracker_slots(rasa_server.url, sender)["risk_level"] == "none"


def test_an_adult_reporting_gets_the_adult_reply_and_stays_adult(rasa_server):
    sender = _sender()
    text = _text(say(rasa_server.url, sender, "con gái tôi 13 tuổi bị một người lạ dọa tung ảnh nóng"))
    slots = tracker_slots(rasa_server.url, sender)
    assert slots["reporter"] == "adult" and slots["risk_level"] == "high"
    assert "anh/chị" in text and "111" in text and "113" in text
    # A next message without a marker of who writes keeps the adult's voice.
    say(rasa_server.url, sender, "tôi rất lo, cháu cứ khóc suốt")
    assert tracker_slots(rasa_server.url, sender)["reporter"] == "adult"


def test_a_child_disclosure_sets_reporter_child(rasa_server):
    sender = _sender()
    text = _text(say(rasa_server.url, sender, "có người dọa tung ảnh của em"))
    assert tracker_slots(rasa_server.url, sender)["reporter"] == "child"
    assert "anh/chị" not in text


def _ran(url, sender, action):
    events = http_json(f"{url}/conversations/{sender}/tracker")["events"]
    return any(e.get("event") == "action" and e.get("name") == action for e in events)


# Weak evidence is what the safety net says when only the model, unsure, saw self-harm; the entity is
# given explicitly here so the dialogue is tested without depending on one model's confidence.
WEAK_SELF_HARM = '/disclose_self_harm{"risk_evidence": "weak"}'


def test_weak_self_harm_evidence_gets_a_direct_question_and_no_urgent_case(rasa_server):
    sender = _sender()
    text = _text(say(rasa_server.url, sender, WEAK_SELF_HARM))
    assert "làm hại bản thân" in text and "111" in text
    assert not _ran(rasa_server.url, sender, "action_create_urgent_case")
    assert tracker_slots(rasa_server.url, sender)["risk_level"] == "imminent"


def test_yes_to_the_direct_question_escalates(rasa_server):
    sender = _sender()
    say(rasa_server.url, sender, WEAK_SELF_HARM)
    text = _text(say(rasa_server.url, sender, "có"))
    assert "115" in text and "111" in text
    assert _ran(rasa_server.url, sender, "action_create_urgent_case")


def test_no_to_the_direct_question_stays_kind(rasa_server):
    sender = _sender()
    say(rasa_server.url, sender, WEAK_SELF_HARM)
    text = _text(say(rasa_server.url, sender, "không"))
    assert "111" in text
    assert not _ran(rasa_server.url, sender, "action_create_urgent_case")


def test_a_confident_self_harm_disclosure_opens_the_urgent_case_at_once(rasa_server):
    sender = _sender()
    say(rasa_server.url, sender, "e muon chet")
    assert _ran(rasa_server.url, sender, "action_create_urgent_case")


def test_a_teacher_conversation_and_the_counts_it_leaves(rasa_server):
    """Issue 15: a teacher is recognised and gets the teacher's kit; a disclosure and a tip are counted
    anonymously in report_events (the case store's database), with no sender id and no text."""
    import sqlite3

    sender = _sender()
    hello = _text(say(rasa_server.url, sender, "chào bạn, tôi là giáo viên chủ nhiệm lớp 7"))
    assert "thầy/cô" in hello
    assert tracker_slots(rasa_server.url, sender)["role"] == "teacher"
    told = _text(
        say(
            rasa_server.url,
            sender,
            "nếu học sinh kể với tôi là em bị xâm hại và dặn đừng nói với ai thì tôi nên làm gì",
        )
    )
    assert "Không hứa giữ bí mật" in told and "111" in told
    pack = _text(say(rasa_server.url, sender, '/parent_guide{"topic": "lesson", "age_band": "11-14"}'))
    assert "Tiết 15 phút" in pack and "Tiết 45 phút" in pack
    hotline = _text(say(rasa_server.url, sender, "/ask_hotline"))  # Telegram's /111
    assert "111" in hotline and "113" in hotline
    child = _sender()
    assert "111" in _text(say(rasa_server.url, child, "tụi trong lớp lập group chửi em là đồ béo"))
    with sqlite3.connect(rasa_server.workdir / "handoff.db") as conn:
        rows = conn.execute(
            "select kind, category, level, reporter from report_events where kind = 'disclosure'"
        ).fetchall()
        columns = [r[1] for r in conn.execute("pragma table_info(report_events)")]
    assert ("disclosure", "disclose_cyberbullying", "medium", "child") in rows
    assert not {"sender_id", "text", "case_id"} & set(columns)
