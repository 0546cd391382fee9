"""The audience rule: a child asking about themself is ask_tip, a parent asking about a child stays parent_guide."""

import pytest

from bot.nlu.audience import settle


@pytest.mark.parametrize(
    "text",
    [
        "em choi game nhieu qua, lam sao tu gioi han",
        "mình muốn tự cài giới hạn thời gian trên iphone",
        "mk hay thuc khuya luot tiktok, co cach nao cai han gio ko",
        "tớ muốn chặn mấy trang web 18+ trên máy của tớ",
        "e muon bat che do han che tren youtube cua e",
    ],
)
def test_a_child_about_themself_is_asking_a_tip(text: str) -> None:
    assert settle(text, "parent_guide") == "ask_tip"


@pytest.mark.parametrize(
    "text",
    [
        "con tôi 10 tuổi chơi TikTok được không?",
        "bé nhà em nghiện điện thoại, làm sao giới hạn",
        "mình là mẹ, muốn cài family link cho cháu",
        "roblox bao nhieu tuoi thi choi dc vay mn",  # no one speaks in the first person: keep it
        "pubg mobile co bat buoc xac minh tuoi ko",  # "xác minh" is not "mình"
        "ứng dụng gia đình thông minh của tiktok là gì",
        "em là giáo viên, lớp em nhiều bạn nghiện game quá",
    ],
)
def test_a_parent_about_a_child_stays_parent_guide(text: str) -> None:
    assert settle(text, "parent_guide") is None


@pytest.mark.parametrize(
    "text",
    [
        "con tôi 8 tuổi, xem video bao lâu mỗi ngày là vừa",
        "bé nhà mình 6 tuổi chơi game gì thì an toàn",
        "học sinh của tôi hay bị lừa mất acc game, dặn các em thế nào",
    ],
)
def test_an_adult_about_their_child_asks_guidance(text: str) -> None:
    assert settle(text, "ask_tip") == "parent_guide"


@pytest.mark.parametrize(
    "text", ["em 12 tuổi, đặt mật khẩu sao cho khó đoán", "mẹ tôi bảo phải đặt mật khẩu mạnh, là sao"]
)
def test_a_child_asking_a_tip_stays_a_tip(text: str) -> None:
    assert settle(text, "ask_tip") is None


@pytest.mark.parametrize("intent", ["disclose_self_harm", "disclose_grooming", "express_distress", None])
def test_other_intents_are_never_touched(intent) -> None:
    assert settle("em muốn tự giới hạn thời gian chơi game", intent) is None
