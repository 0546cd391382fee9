"""The redactor replaces personal data and keeps hotlines and ordinary numbers."""
from __future__ import annotations

import pytest

from bot.privacy.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("số em là 0912 345 678 nhé", "số em là [SĐT] nhé"),
        ("sdt 0912.345.678", "sdt [SĐT]"),
        ("goi cho em 0912-345-678", "goi cho em [SĐT]"),
        ("+84 912 345 678", "[SĐT]"),
        ("84912345678 la so me em", "[SĐT] la so me em"),
        ("nhà em 0243 123 4567", "nhà em [SĐT]"),
        ("mail em: be.lan+1@gmail.com", "mail em: [EMAIL]"),
        ("cccd 001203004567", "cccd [SỐ GIẤY TỜ]"),
        ("cmnd 123456789", "cmnd [SỐ GIẤY TỜ]"),
        ("tên em là Lan", "tên em là [TÊN]"),
        ("Tên em là Nguyễn Thị Mai, em sợ lắm", "Tên em là [TÊN], em sợ lắm"),
        ("ten con la nguyen van an va no 12 tuoi", "ten con la [TÊN] va no 12 tuoi"),
        ("em tên là Hoa", "em tên là [TÊN]"),
        ("ho ten: Tran Van B", "ho ten: [TÊN]"),
        ("nha em o 12 ngo 5 Tran Phu, Ha Noi. em so lam", "nha em o [ĐỊA CHỈ]. em so lam"),
        ("địa chỉ: 45 Lê Lợi, quận 1", "địa chỉ: [ĐỊA CHỈ]"),
        ("em học trường THCS Nguyễn Du", "em học trường [TRƯỜNG]"),
        ("em hoc truong Le Loi o quan 3", "em hoc truong [TRƯỜNG] o quan 3"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "gọi 111 hoặc 113, 115, 114",
        "em 13 tuổi học lớp 7",
        "nó đòi 500000 đồng",
        "nó bắt em nạp 200k thẻ",
        "trường em có người bắt nạt",
        "trong trường hợp này thì sao",
        "năm 2024 em bị lừa 3 lần",
    ],
)
def test_hotlines_and_ordinary_text_are_kept(text: str) -> None:
    assert redact(text) == text


def test_several_kinds_in_one_message() -> None:
    out = redact("Tên em là Mai, sđt 0987654321, mail mai@yahoo.com, gọi 111 giúp em")
    assert out == "Tên em là [TÊN], sđt [SĐT], mail [EMAIL], gọi 111 giúp em"


def test_empty() -> None:
    assert redact(None) == ""
    assert redact("") == ""
