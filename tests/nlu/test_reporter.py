"""Who describes the harm (bot/nlu/reporter.py): the reply's voice depends on it."""

import pytest

from bot.nlu.reporter import reporter_of


@pytest.mark.parametrize(
    "text",
    [
        "con tôi bị người lạ dọa tung ảnh",
        "Con gái mình 13 tuổi bị bạn trai cũ đe dọa",
        "bé nhà em dạo này hay khóc một mình",
        "con trai toi de lai la thu xin loi roi tat may",
        "cháu ngoại tôi nói không muốn sống nữa",
        "Tôi là giáo viên chủ nhiệm lớp 7, có một em học sinh kể bị đánh",
        "hoc sinh lop toi dang status muon bien mat",
        "co mot em hoc sinh cua minh bi lua mat tien",
        "con em nó bảo không muốn đi học vì bị bạn đánh",
        "toi la me cua chau, chau bi nguoi la xin anh",
        "my son is being bullied online",
        "nếu học sinh kể với tôi là em bị bắt nạt thì tôi nên làm gì",
    ],
)
def test_adults_reporting_for_a_child(text):
    assert reporter_of(text) == "adult"


@pytest.mark.parametrize(
    "text",
    [
        "em bị bạn cùng lớp chửi",
        "mk bị hack nick fb",
        "cô giáo em đánh em",
        "bạn em bị dọa tung ảnh",
        "mẹ em đánh em",
        "e là hs lớp 8, e bị bắt nạt",
        "mình là con út trong nhà, ba mẹ hay cãi nhau",
        "anh tôi đánh tôi",
        "cháu bị chú hàng xóm sờ vào người",
        "con mèo của mình chết rồi buồn quá",
        "",
    ],
)
def test_children_and_unknown_writers_are_children(text):
    assert reporter_of(text) == "child"
