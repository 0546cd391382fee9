"""Facts a child-protection reviewer checked (issue 18): each number has a source and a date, and the
bot states what the sources say. `scripts/validate_content.py` is what `make validate` runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.content import answers
from bot.content.library import library, load

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import validate_content  # noqa: E402

lib = library()


def test_every_number_in_the_content_has_a_source_and_a_date() -> None:
    assert validate_content.validate(ROOT / "content") == []


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def _edit(directory: Path, name: str, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load((directory / name).read_text(encoding="utf-8"))
    change(data)
    (directory / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_number_without_a_fact_is_reported(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    _edit(
        content,
        "tips.yml",
        lambda d: d["topics"][0]["bands"].update({"6-10": "Trẻ 9 tuổi nên ngủ 10 giờ mỗi đêm."}),
    )
    problems = validate_content.validate(content)
    assert any("tips.yml privacy" in p and "the number 9 " in p for p in problems)
    assert any("tips.yml privacy" in p and "the number 10 " in p for p in problems)


def test_a_fact_without_source_or_date_is_reported(tmp_path: Path) -> None:
    content = _copy(tmp_path)

    def strip(data: dict) -> None:
        youtube = next(a for a in data["apps"] if a["id"] == "youtube")
        youtube["facts"][0].pop("source")
        youtube["facts"][0]["checked_on"] = "tháng trước"

    _edit(content, "apps.yml", strip)
    problems = validate_content.validate(content)
    assert any("apps.yml youtube" in p and "no source" in p for p in problems)
    assert any("apps.yml youtube" in p and "checked_on" in p for p in problems)


def test_a_minimum_age_needs_its_fact(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    _edit(content, "apps.yml", lambda d: next(a for a in d["apps"] if a["id"] == "discord").pop("facts"))
    assert any("apps.yml discord" in p and "the number 15 " in p for p in validate_content.validate(content))


def test_the_script_exits_non_zero_on_a_problem(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    ok = subprocess.run([sys.executable, str(ROOT / "scripts/validate_content.py"), str(ROOT / "content")])
    assert ok.returncode == 0
    _edit(content, "parents.yml", lambda d: d["topics"][0].pop("facts"))
    bad = subprocess.run(
        [sys.executable, str(ROOT / "scripts/validate_content.py"), str(content)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "parents.yml family_link" in bad.stdout
    assert load(content).guide("family_link") is not None  # the loader ignores `facts`


def test_the_checked_facts() -> None:
    # Google's own age table: Vietnam 15 (support.google.com/accounts/answer/1350409)
    assert lib.app("youtube").min_age == 15
    assert "15 tuổi" in lib.guide("family_link").text and "15" in lib.guide("youtube").text
    assert lib.app("discord").min_age == 15
    # Telegram's terms set 16 only for EU/UK citizens: no Vietnamese minimum age is claimed
    telegram = lib.app("telegram")
    assert telegram.min_age is None and "EU" in telegram.min_age_note
    assert "Theo điều khoản của Telegram" not in answers.app_guide(telegram, 12, answers.PARENT).text
    assert "web chat" in " ".join(telegram.settings)
    # Apple dropped 12+ and 17+ in 2025
    assert not any("12+" in a.rating or "17+" in a.rating for a in lib.apps)
    assert "18 tuổi" in lib.tip("livestream").bands["11-14"]


def test_no_contradiction_for_apps_without_a_minimum_age() -> None:
    zalo = answers.app_guide(lib.app("zalo"), 8, answers.PARENT).text
    assert "không đặt tuổi tối thiểu trong điều khoản" not in zalo
    assert "kiểm tra điều khoản hiện hành" in zalo


@pytest.mark.parametrize("app_id", ["roblox", "zalo", "free_fire", "lien_quan", "minecraft", "telegram"])
def test_advice_for_younger_children_shows_for_apps_without_a_minimum_age(app_id: str) -> None:
    app = lib.app(app_id)
    assert app.min_age is None
    assert app.younger in answers.app_guide(app, 8, answers.PARENT).text
    assert app.younger not in answers.app_guide(app, 16, answers.PARENT).text


@pytest.mark.parametrize("tip", lib.tips, ids=lambda t: t.id)
def test_words_for_the_youngest_band(tip) -> None:
    text = tip.bands["6-10"]
    assert "http" not in text and "nền tảng" not in text and "24/7" not in text


NEW_TOPICS = ["deepfake_nudes", "sextortion", "livestream", "gambling", "fake_kidnap", "upsetting_content"]


@pytest.mark.parametrize("topic", NEW_TOPICS)
def test_new_topics_name_111_in_every_band(topic: str) -> None:
    tip = lib.tip(topic)
    assert tip is not None and all("111" in tip.bands[b] for b in tip.bands)


def test_sextortion_is_not_written_as_a_girls_only_harm() -> None:
    tip = lib.tip("sextortion")
    assert all("bạn không có lỗi" in tip.bands[b].lower() for b in tip.bands)
    assert "con trai" in tip.bands["11-14"].lower() and "con trai" in tip.bands["15-17"].lower()
    assert "không gặp rắc rối với pháp luật" in tip.bands["15-17"]


@pytest.mark.parametrize(
    "text,topic",
    [
        ("em bi doa tung anh neu khong chuyen tien", "sextortion"),
        ("ban em dung app lot do ghep anh nong cua em", "deepfake_nudes"),
        ("lam sao de len live tiktok", "livestream"),
        ("quay gacha co phai co bac khong", "gambling"),
        ("em lo xem video sex tu nhien hien ra", "upsetting_content"),
    ],
)
def test_free_text_finds_the_new_topics(text: str, topic: str) -> None:
    assert answers.find_tip(lib, None, text).id == topic
