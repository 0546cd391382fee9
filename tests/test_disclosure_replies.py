"""Every disclosure reply, rendered as Rasa renders it, for each age band and for an adult (issue 18).

Rasa picks a matching conditional variation first (reporter, age_band), else one of the unconditional ones,
so each combination is rendered many times to see every variation it can get. No model, no server.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
NLG = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
DISCLOSURES = [
    "utter_self_harm",
    "utter_sexual_exploitation",
    "utter_grooming",
    "utter_abuse_offline",
    "utter_cyberbullying",
    "utter_scam",
    "utter_distress",
    "utter_ask_self_harm_directly",
    "utter_self_harm_not_now",
]
BANDS = ["6-10", "11-14", "15-17"]
URL = re.compile(r"https?://|www\.|\.org\b|\.vn\b|\.com\b")


def tracker(reporter: str, band: str | None) -> DialogueStateTracker:
    t = DialogueStateTracker.from_events("t", [SlotSet("reporter", reporter)], DOMAIN.slots)
    if band:
        t.update(SlotSet("age_band", band))
    return t


async def variants(response: str, reporter: str, band: str | None) -> list[str]:
    """Every text Rasa can send for this response in this state (random choice: sample until stable)."""
    t = tracker(reporter, band)
    seen = set()
    for _ in range(40):
        seen.add((await NLG.generate(response, t, "rest"))["text"])
    return sorted(seen)


def is_adult_voice(text: str) -> bool:
    return "anh/chị" in text.lower()


@pytest.mark.parametrize("response", DISCLOSURES)
@pytest.mark.parametrize("band", BANDS + [None])
async def test_a_child_gets_the_child_voice_and_111(response: str, band: str | None) -> None:
    for text in await variants(response, "child", band):
        assert "111" in text
        assert not is_adult_voice(text), text
        assert "bạn" in text.lower()  # the child is "bạn"; the bot, when it names itself, "mình"
        if band == "6-10":  # a 7-year-old: no links, no jargon, no "24/7"
            assert not URL.search(text) and "nền tảng" not in text and "24/7" not in text, text
            assert "lúc nào cũng có người nghe máy" in text


@pytest.mark.parametrize("response", DISCLOSURES)
@pytest.mark.parametrize("band", BANDS + [None])
async def test_an_adult_always_gets_the_adult_variant(response: str, band: str | None) -> None:
    texts = await variants(response, "adult", band)
    assert len(texts) == 1  # never a child's band variant, whatever age_band says
    assert "111" in texts[0] and is_adult_voice(texts[0])


@pytest.mark.parametrize("response", DISCLOSURES[:7])
@pytest.mark.parametrize("band", BANDS)
async def test_each_band_has_its_own_words(response: str, band: str) -> None:
    texts = await variants(response, "child", band)
    general = set(await variants(response, "child", None))
    assert len(texts) == 1 and texts[0] not in general


def test_every_band_variant_also_requires_a_child_reporter() -> None:
    for name, variations in DOMAIN.responses.items():
        for v in variations:
            names = {c["name"] for c in v.get("condition") or []}
            if "age_band" in names:
                assert "reporter" in names and any(
                    c["name"] == "reporter" and c["value"] == "child" for c in v["condition"]
                ), name
            if v.get("text") and name in DISCLOSURES:
                assert "111" in v["text"], name


@pytest.mark.parametrize("band", BANDS + [None])
async def test_sextortion_reply_says_what_the_child_needs_to_hear(band: str | None) -> None:
    for text in await variants("utter_sexual_exploitation", "child", band):
        assert "không có lỗi" in text
        if band != "6-10":
            assert "không gặp rắc rối với pháp luật" in text or "người làm vậy mới là người sai" in text
            assert "chụp màn hình lời đe dọa" in text.lower() and "chính bức ảnh" in text
    older = (await variants("utter_sexual_exploitation", "child", "15-17"))[0]
    assert "con trai" in older and "sẽ qua" in older and "có tham gia" in older


@pytest.mark.parametrize("band", BANDS + [None])
async def test_grooming_reply_never_promises_secrecy(band: str | None) -> None:
    for text in await variants("utter_grooming", "child", band):
        assert "không có lỗi" in text
        assert "giữ bí mật cho bạn" not in text
        if band != "6-10":
            assert "có thể cần báo cho người có trách nhiệm bảo vệ bạn" in text
        else:
            assert "bí mật không nên giữ" in text


@pytest.mark.parametrize("band", BANDS + [None])
async def test_self_harm_reply_asks_whether_the_child_is_safe(band: str | None) -> None:
    for text in await variants("utter_self_harm", "child", band):
        assert "an toàn" in text and "làm đau mình" not in text


def test_every_disclosure_button_leads_somewhere() -> None:
    import json

    from bot.content.library import library

    topics = {t.id for t in library().tips}
    for name in DISCLOSURES:
        for v in DOMAIN.responses[name]:
            for b in v.get("buttons") or []:
                match = re.fullmatch(r"/(\w+)(\{.*\})?", b["payload"])
                assert match and match.group(1) in DOMAIN.intents, b
                entities = json.loads(match.group(2) or "{}")
                assert set(entities) <= {"topic"} and entities.get("topic", "privacy") in topics, b
