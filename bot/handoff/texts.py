"""What the handoff says, to the child ("mình" / "bạn") and to the counsellors. Every child text names 111."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from bot.handoff.store import Case, utcnow

# --- to the child -------------------------------------------------------------------------
CASE_CREATED_URGENT = (
    "Mình đã báo ngay cho tư vấn viên, họ sẽ nhắn bạn tại đây sớm nhất có thể. "
    "Trong lúc chờ, nếu bạn đang gặp nguy hiểm, gọi ngay 115 (cấp cứu) hoặc 111 (miễn phí, 24/7)."
)
CASE_CREATED = (
    "Mình đã báo cho tư vấn viên. Khi có người nhận, họ sẽ nhắn bạn ngay tại đây. "
    "Nếu cần nói chuyện ngay, bạn gọi 111 (miễn phí, 24/7) nhé."
)
CASE_ALREADY_WAITING = (
    "Tư vấn viên đã được báo rồi, bạn chờ một chút nhé. Cần ngay thì gọi 111 (miễn phí, 24/7)."
)
CASE_ALREADY_CLAIMED = "Tư vấn viên đang ở đây với bạn, bạn cứ nhắn nhé. Cần gấp thì gọi 111 (miễn phí, 24/7)."
NO_COUNSELLOR = (
    "Lúc này chưa có tư vấn viên trực tuyến, mình xin lỗi. Bạn gọi 111 (miễn phí, 24/7) để nói chuyện "
    "với người thật nhé; nếu đang gặp nguy hiểm, gọi 115 hoặc 113."
)
STORE_DOWN = "Mình chưa báo được cho tư vấn viên. Bạn gọi 111 (miễn phí, 24/7) để nói chuyện với người thật nhé."
TIMEOUT = (
    "Mình xin lỗi, các tư vấn viên đang bận nên chưa ai nhận được. Mình vẫn đang nhắc họ. "
    "Nếu bạn cần nói chuyện ngay, gọi 111 (miễn phí, 24/7) nhé."
)
CANCELLED = "Ok, mình đã hủy yêu cầu. Khi nào cần, bạn cứ nhắn mình hoặc gọi 111 (miễn phí, 24/7)."
NOTHING_TO_CANCEL = "Hiện bạn không có yêu cầu nào đang chờ. Cần giúp, bạn cứ nhắn mình hoặc gọi 111."
CLAIMED = "Một tư vấn viên đã nhận lời nói chuyện với bạn. Bạn cứ nhắn ở đây nhé."
COUNSELLOR_PREFIX = "👤 Tư vấn viên: "

# --- to the counsellors -------------------------------------------------------------------
CLAIM_BUTTON = "Nhận ca"
CLOSE_BUTTON = "Đóng ca"
NOT_ALLOWED = "Bạn không có quyền xử lý ca này."
PRIORITY_LABEL = {"urgent": "🔴 KHẨN CẤP", "high": "🟠 Cao", "normal": "🟢 Thường"}


def alert_text(case: Case, kind: str = "alert", now: Optional[dt.datetime] = None) -> str:
    head = {
        "alert": "Ca mới",
        "realert": "Nhắc lại: chưa ai nhận",
        "overdue": "⚠️ QUÁ HẠN: chưa ai nhận",
        "urgent": "🔴 Trẻ vừa nói có ý định tự hại",
    }.get(kind, "Ca mới")
    lines = [
        f"[Ca #{case.id}] {head}",
        f"Mức: {PRIORITY_LABEL.get(case.priority, case.priority)}",
        f"Loại: {case.risk_category or '-'}",
        f"Kênh: {case.channel}",
        f"Chờ: {case.waiting_minutes(now or utcnow())} phút",
    ]
    if case.summary:
        lines += ["Tóm tắt (đã ẩn thông tin cá nhân):", case.summary]
    lines.append(f"Trả lời (reply) tin này để nhắn cho trẻ; /dong {case.id} để đóng ca.")
    return "\n".join(lines)


def directory_lines(case: Case, area: Optional[str] = None) -> list[str]:
    """Local contacts for the case's kind of harm (bot/directory.py); none when the directory has none."""
    from bot.directory import alert_lines

    lines = alert_lines(case.risk_category, area)
    return ["Nơi giúp tại địa phương:", *lines] if lines else []


def claimed_text(case: Case, who: str) -> str:
    return f"[Ca #{case.id}] ✅ Đã được nhận bởi {who}.\nMức: {PRIORITY_LABEL.get(case.priority, case.priority)}"


def closed_text(case: Case, who: str) -> str:
    return f"[Ca #{case.id}] Đã đóng bởi {who}."


def cancelled_text(case: Case) -> str:
    return f"[Ca #{case.id}] Trẻ đã hủy yêu cầu trước khi có người nhận."


def deleted_text(case: Case) -> str:
    return f"[Ca #{case.id}] Trẻ đã yêu cầu xóa dữ liệu; ca đã đóng và nội dung đã được xóa."


def relay_text(case_id: int, text: str) -> str:
    return f"[Ca #{case_id}] {text}"
