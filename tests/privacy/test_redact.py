"""The redactor replaces personal data and keeps hotlines and ordinary numbers (fast, no model)."""

from __future__ import annotations

import time

import pytest

from bot.privacy.redact import redact

REPLACED = [
    # --- phones: mobile, +84 / 84, dots, spaces, dashes, landlines, in words ---------------------
    ("số em là 0912 345 678 nhé", "số em là [SĐT] nhé"),
    ("sdt 0912.345.678", "sdt [SĐT]"),
    ("goi cho em 0912-345-678", "goi cho em [SĐT]"),
    ("+84 912 345 678", "[SĐT]"),
    ("84912345678 la so me em", "[SĐT] la so me em"),
    ("nhà em 0243 123 4567", "nhà em [SĐT]"),
    ("số của mẹ em là +84 912 345 678", "số của mẹ em là [SĐT]"),
    ("zalo em 84912345678", "zalo em [SĐT]"),
    ("gọi em qua 0912.345.678 nha", "gọi em qua [SĐT] nha"),
    ("sđt: 091 234 5678", "sđt: [SĐT]"),
    ("số bố em 0912-345-678.", "số bố em [SĐT]."),
    ("em dùng số 0987654321", "em dùng số [SĐT]"),
    ("số bàn nhà em 024 3825 1234", "số bàn nhà em [SĐT]"),
    ("máy bàn (024) 3825 1234", "máy bàn [SĐT]"),
    ("so em 0386123456 a", "so em [SĐT] a"),
    ("sđt +84912345678", "sđt [SĐT]"),
    ("số em là không chín một hai ba bốn năm sáu bảy tám", "số em là [SĐT]"),
    ("so em la khong chin mot hai ba bon nam sau bay tam nhe", "so em la [SĐT] nhe"),
    # --- emails -------------------------------------------------------------------------------
    ("mail em: be.lan+1@gmail.com", "mail em: [EMAIL]"),
    ("email của con là nguyenvanan2012@yahoo.com.vn", "email của con là [EMAIL]"),
    ("gửi vào lan_123@outlook.com giúp em", "gửi vào [EMAIL] giúp em"),
    ("em la tuan.anh@hocmai.vn", "em la [EMAIL]"),
    # --- CCCD / CMND --------------------------------------------------------------------------
    ("cccd 001203004567", "cccd [SỐ GIẤY TỜ]"),
    ("cmnd 123456789", "cmnd [SỐ GIẤY TỜ]"),
    ("căn cước của mẹ em 001 203 004 567", "căn cước của mẹ em [SỐ GIẤY TỜ]"),
    ("số cccd: 0012 0300 4567", "số cccd: [SỐ GIẤY TỜ]"),
    ("chứng minh thư của bố em là 031234567", "chứng minh thư của bố em là [SỐ GIẤY TỜ]"),
    # --- bank accounts ------------------------------------------------------------------------
    ("stk 0123456789 vietcombank", "stk [STK] vietcombank"),
    ("số tài khoản 19033456789012 techcombank", "số tài khoản [STK] techcombank"),
    ("so tai khoan cua em la 0123456789", "so tai khoan cua em la [STK]"),
    ("nó bắt em chuyển vào stk: 1234 5678 9012", "nó bắt em chuyển vào stk: [STK]"),
    ("tài khoản ngân hàng của mẹ em 0451000123456", "tài khoản ngân hàng của mẹ em [STK]"),
    ("stk mbbank 0987654321 nha", "stk mbbank [STK] nha"),
    ("chuyển 200k vào 123456789 vietinbank", "chuyển 200k vào [STK] vietinbank"),
    ("tk 0011004455667", "tk [STK]"),
    # --- birthdays ----------------------------------------------------------------------------
    ("em sinh ngày 12/03/2012", "em sinh ngày [NGÀY SINH]"),
    ("sn 12-3-2012", "sn [NGÀY SINH]"),
    ("ngày sinh 1/1/2013", "ngày sinh [NGÀY SINH]"),
    ("ngày sinh: 05.09.2011 ạ", "ngày sinh: [NGÀY SINH] ạ"),
    ("sinh nhật em là 20/10", "sinh nhật em là [NGÀY SINH]"),
    ("con sinh ngày 3 tháng 4 năm 2014", "con sinh ngày [NGÀY SINH]"),
    ("em sinh 12/3/2012 ở Hà Nội", "em sinh [NGÀY SINH] ở Hà Nội"),
    ("sinh ngay 7-8-2010", "sinh ngay [NGÀY SINH]"),
    # --- addresses ----------------------------------------------------------------------------
    ("nha em o 12 ngo 5 Tran Phu, Ha Noi. em so lam", "nha em o [ĐỊA CHỈ]. em so lam"),
    ("địa chỉ: 45 Lê Lợi, quận 1", "địa chỉ: [ĐỊA CHỈ]"),
    ("nhà em ở 12 Lê Lợi", "nhà em ở [ĐỊA CHỈ]"),
    ("số 5 ngõ 10 phố Huế", "[ĐỊA CHỈ]"),
    ("em ở số 5 ngõ 10 phố Huế, em sợ lắm", "em ở [ĐỊA CHỈ], em sợ lắm"),
    ("nhà con ở thôn 3 xã Yên Sở", "nhà con ở [ĐỊA CHỈ]"),
    ("thôn 3 xã Tân Lập em bị bố đánh", "[ĐỊA CHỈ] em bị bố đánh"),
    ("nó đến 25 Nguyễn Trãi tìm em", "nó đến [ĐỊA CHỈ] tìm em"),
    ("em ở hẻm 42 đường Cách Mạng Tháng Tám", "em ở [ĐỊA CHỈ]"),
    ("dia chi nha em la 7 ngach 3 ngo 12 kim ma", "dia chi nha em la [ĐỊA CHỈ]"),
    ("nha minh o xom 2 thon dong, con so lam", "nha minh o [ĐỊA CHỈ], con so lam"),
    ("số nhà 18 phố Hàng Bông", "số nhà [ĐỊA CHỈ]"),
    ("em sống ở ấp 4 xã Long Hòa", "em sống ở [ĐỊA CHỈ]"),
    ("ngõ 10 phố Huế có người lạ", "[ĐỊA CHỈ] có người lạ"),
    # --- names --------------------------------------------------------------------------------
    ("tên em là Lan", "tên em là [TÊN]"),
    ("Tên em là Nguyễn Thị Mai, em sợ lắm", "Tên em là [TÊN], em sợ lắm"),
    ("ten con la nguyen van an va no 12 tuoi", "ten con la [TÊN] va no 12 tuoi"),
    ("em tên là Hoa", "em tên là [TÊN]"),
    ("ho ten: Tran Van B", "ho ten: [TÊN]"),
    ("mình tên Minh Anh, 13 tuổi", "mình tên [TÊN], 13 tuổi"),
    ("con tôi tên Bình học lớp 6", "con tôi tên [TÊN] học lớp 6"),
    ("con tôi tên là Nguyễn Văn Nam", "con tôi tên là [TÊN]"),
    ("tên con là Trần Bảo Ngọc", "tên con là [TÊN]"),
    ("ten em la lan", "ten em la [TÊN]"),
    ("em ten la tuan anh nhe", "em ten la [TÊN] nhe"),
    ("tên em là Nam", "tên em là [TÊN]"),
    ("bạn ấy tên là Hùng", "bạn ấy tên là [TÊN]"),
    ("tên thật của em là Phương", "tên thật của em là [TÊN]"),
    # --- schools ------------------------------------------------------------------------------
    ("em học trường THCS Nguyễn Du", "em học trường [TRƯỜNG]"),
    ("em hoc truong Le Loi o quan 3", "em hoc truong [TRƯỜNG] o quan 3"),
    ("con học trường tiểu học Kim Đồng", "con học trường [TRƯỜNG]"),
    ("truong thcs nguyen du", "truong [TRƯỜNG]"),
    ("em học ở trường THPT Chu Văn An, lớp 10", "em học ở trường [TRƯỜNG], lớp 10"),
    ("Trường Tiểu học Lê Văn Tám có người lạ", "Trường [TRƯỜNG] có người lạ"),
    ("trường mầm non Hoa Sen", "trường [TRƯỜNG]"),
    ("em hoc truong tieu hoc kim dong", "em hoc truong [TRƯỜNG]"),
    # --- several in one message ---------------------------------------------------------------
    (
        "Tên em là Mai, sđt 0987654321, mail mai@yahoo.com, gọi 111 giúp em",
        "Tên em là [TÊN], sđt [SĐT], mail [EMAIL], gọi 111 giúp em",
    ),
    (
        "em tên Lan, 12 tuổi, học trường THCS Nguyễn Du, nhà ở 12 Lê Lợi",
        "em tên [TÊN], 12 tuổi, học trường [TRƯỜNG], nhà ở [ĐỊA CHỈ]",
    ),
    (
        "nhà em ở 12 Lê Lợi, tên em là Lan",
        "nhà em ở [ĐỊA CHỈ], tên em là [TÊN]",
    ),
]

KEPT = [
    "gọi 111 hoặc 113, 115, 114",
    "em 13 tuổi học lớp 7",
    "nó đòi 500000 đồng",
    "nó bắt em nạp 200k thẻ",
    "trường em có người bắt nạt",
    "trong trường hợp này thì sao",
    "năm 2024 em bị lừa 3 lần",
    # scores
    "em được 9.5 điểm",
    "điểm 10 môn toán",
    "kiểm tra được 8,5 mà mẹ vẫn mắng",
    # prices
    "nó đòi 50.000đ",
    "nạp 200k là được",
    "mất 1.500.000 đồng rồi",
    "nó bảo chuyển 150000000 đồng",
    "giá 99.000 vnđ",
    # years, ages
    "năm 2024 em lên lớp 8",
    "lớp 7 năm 2023",
    "em 12 tuổi",
    "em sinh năm 2012",
    # hotlines
    "gọi 111 nhé",
    "cứu em 113",
    "115 là cấp cứu",
    "114 là cứu hỏa",
    "tổng đài 18001567",
    "gọi 1800 1567 cũng được",
    # times
    "9h tối nó nhắn em",
    "lúc 21:30 hôm qua",
    "từ 8h đến 10h30",
    # counts and games
    "nó nhắn 3 lần",
    "hơn 100 tin nhắn",
    "em lên level 50 rồi",
    "em có 1000 kim cương",
    "nick em rank 12 sao",
    "em chơi 5 trận liền",
    # "trường" and "tên" as ordinary words
    "môi trường ở lớp không tốt",
    "thị trường game",
    "quảng trường Ba Đình đông lắm",
    "trường học của em rộng",
    "em thích tên lửa",
    "cái tên đó nghe lạ",
    "tên lửa bay cao",
    "em quên mất tên",
    "đường về nhà tối quá",
    "xã hội bây giờ đáng sợ",
    "em ở nhà một mình",
    "ngày 20/11 em tặng hoa cô",
]


@pytest.mark.parametrize(("text", "expected"), REPLACED)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_hotlines_and_ordinary_text_are_kept(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    for text, expected in REPLACED:
        assert redact(expected) == expected, text


def test_enough_cases() -> None:
    assert len(REPLACED) + len(KEPT) >= 80


def test_fast() -> None:
    started = time.perf_counter()
    for _ in range(20):
        for text, _expected in REPLACED:
            redact(text)
    assert time.perf_counter() - started < 2.0


def test_empty() -> None:
    assert redact(None) == ""
    assert redact("") == ""
