"""What every child channel says on its own, without Rasa, and the Telegram command table.

One module for the fixed texts of all child channels (Telegram, Zalo, web chat, REST and their front
door, `bot/channels/front_door.py`): the Bot API layer sends some of them itself and imports nothing
above it, so they live here, below the channels. The handoff's texts are in `bot/handoff/texts.py`.

The child is "bạn", the bot is "mình". Every text names 111, because a child may be disclosing
something in a form the bot cannot read (tests/channels/test_telegram_units.py checks each one).
"""

from __future__ import annotations

HOTLINE_LINE = "Gọi 111 (miễn phí, 24/7) nếu bạn cần người giúp ngay."

# Sent when Rasa (or the front door before it) cannot be reached or fails while handling a message.
UNAVAILABLE = (
    "Xin lỗi bạn, mình đang gặp trục trặc nên chưa trả lời được.\n"
    "Nếu bạn cần giúp ngay, hãy gọi 111: Tổng đài quốc gia bảo vệ trẻ em, miễn phí, 24/7.\n"
    "Nếu tính mạng đang gặp nguy hiểm, gọi 115 (cấp cứu) hoặc 113 (công an)."
)

# The front door (bot/channels/front_door.py): an empty message, a message too long, a flood.
EMPTY = "Mình chưa thấy chữ nào trong tin nhắn. Bạn cứ gõ điều bạn muốn nói nhé; cần giúp ngay, gọi 111 (miễn phí, 24/7)."
TOO_LONG = (
    "Tin nhắn của bạn dài quá nên mình chỉ đọc được phần đầu. Bạn chia nhỏ ra giúp mình nhé; "
    "cần nói chuyện ngay, gọi 111 (miễn phí, 24/7)."
)
FLOOD = "Bạn nhắn nhanh quá, mình đọc không kịp. Đợi mình một chút rồi nhắn tiếp nhé; cần giúp ngay, gọi 111 (miễn phí, 24/7)."

# Photos, videos, documents, animations, video notes: never downloaded, never stored. A child who sends a
# screenshot is often sending evidence: thank them and say what to do with it, never scold (issue 18).
MEDIA_PRIVACY = (
    "Cảm ơn bạn đã gửi cho mình. Để giữ kín chuyện của bạn, mình không mở và không lưu ảnh, video hay tệp, "
    "nên mình chưa xem được nội dung này.\n\n"
    "Nếu đây là bằng chứng (ảnh chụp tin nhắn đe dọa, tài khoản làm phiền bạn), bạn làm đúng rồi: cứ giữ "
    "trong máy, kể cho mình bằng chữ chuyện gì đã xảy ra, và đưa cho người lớn bạn tin hoặc tư vấn viên khi "
    "họ cần.\n"
    "Nếu đó là ảnh riêng tư, nhạy cảm, đừng gửi ảnh đó cho ai nữa, kể cả để làm bằng chứng. Ảnh của bạn bị "
    'chia sẻ hay bị dọa tung ra thì bạn không có lỗi: gọi 111 (miễn phí, 24/7). Công cụ "Take It Down" '
    "(takeitdown.ncmec.org) giúp chặn ảnh của người dưới 18 tuổi trên các mạng xã hội có tham gia."
)

STICKER = (
    "Cảm ơn bạn đã gửi sticker! Mình chỉ đọc được tin nhắn chữ thôi. "
    "Bạn muốn kể hay hỏi gì thì cứ nhắn cho mình nhé, có dấu hay không dấu đều được.\n" + HOTLINE_LINE
)

VOICE = (
    "Mình chưa nghe được tin nhắn thoại. Bạn gõ chữ cho mình nhé, không dấu cũng được.\n"
    "Nếu bạn đang gặp nguy hiểm hoặc muốn nói chuyện với người thật ngay, "
    "hãy gọi 111 (miễn phí, 24/7)."
)

LOCATION = (
    "Mình không cần và không lưu vị trí của bạn. Đừng gửi vị trí cho người lạ trên mạng nhé.\n"
    "Nếu bạn đang gặp nguy hiểm, hãy gọi 113 (công an) hoặc 111 (miễn phí, 24/7)."
)

CONTACT = (
    "Mình không lưu số điện thoại hay danh bạ bạn gửi. "
    "Đừng chia sẻ số điện thoại của bạn hay của người khác với người lạ trên mạng nhé.\n"
    "Muốn nói chuyện với người thật, bạn gọi 111 (miễn phí, 24/7)."
)

OTHER = "Mình chỉ đọc được tin nhắn chữ thôi. Bạn nhắn cho mình bằng chữ nhé.\n" + HOTLINE_LINE


def group_pointer(bot_username: str | None) -> str:
    """The only thing the bot says in a group: go to a private chat, or call 111."""
    where = f"t.me/{bot_username}" if bot_username else "tin nhắn riêng (bấm vào tên mình)"
    return (
        "Mình chỉ trò chuyện riêng để giữ kín chuyện của bạn. "
        f"Bạn nhắn riêng cho mình ở {where} nhé.\n" + HOTLINE_LINE
    )


# Telegram command -> Rasa message (an intent payload). Unknown commands get `/help`.
COMMAND_PAYLOADS: dict[str, str] = {
    "start": "/greet",
    "menu": "/greet",
    "help": "/help",
    "111": "/ask_hotline",
    "xoadulieu": "/delete_data",
}
UNKNOWN_COMMAND_PAYLOAD = "/help"

# Registered with setMyCommands, in the order Telegram shows them.
BOT_COMMANDS: list[tuple[str, str]] = [
    ("start", "Bắt đầu và xem menu"),
    ("menu", "Xem menu"),
    ("help", "Mình giúp được bạn những gì"),
    ("111", "Số 111 và các số khẩn cấp"),
    ("xoadulieu", "Xóa dữ liệu của bạn"),
]
