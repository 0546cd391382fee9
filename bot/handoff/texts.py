"""What the handoff says, to the child ("mình" / "bạn") and to the counsellors. Every child text names 111."""

from __future__ import annotations

import datetime as dt

from bot.handoff.store import Case, utcnow

# --- to the child -------------------------------------------------------------------------
CASE_CREATED_URGENT = (
    "Mình đã báo ngay cho tư vấn viên, họ sẽ nhắn bạn tại đây sớm nhất có thể. "
    "Trong lúc chờ tư vấn viên nhắn lại, hãy ở cạnh một người lớn bạn tin. Nếu bạn đang gặp nguy hiểm, "
    "gọi ngay 115 (cấp cứu); muốn nói chuyện với người thật ngay, gọi 111 (miễn phí, 24/7)."
)
CASE_CREATED = (
    "Mình đã báo cho tư vấn viên. Khi có người nhận, họ sẽ nhắn bạn ngay tại đây. "
    "Nếu cần nói chuyện ngay, bạn gọi 111 (miễn phí, 24/7) nhé."
)
CASE_ALREADY_WAITING = (
    "Tư vấn viên đã được báo rồi, bạn chờ một chút nhé. Cần ngay thì gọi 111 (miễn phí, 24/7)."
)
CASE_ALREADY_CLAIMED = (
    "Tư vấn viên đang ở đây với bạn, bạn cứ nhắn nhé. Cần gấp thì gọi 111 (miễn phí, 24/7)."
)
NO_COUNSELLOR = (
    "Lúc này chưa có tư vấn viên trực tuyến, mình xin lỗi. Bạn gọi 111 (miễn phí, 24/7) để nói chuyện "
    "với người thật nhé; nếu đang gặp nguy hiểm, gọi 115 hoặc 113."
)
STORE_DOWN = (
    "Mình chưa báo được cho tư vấn viên. Bạn gọi 111 (miễn phí, 24/7) để nói chuyện với người thật nhé."
)
TIMEOUT = (
    "Mình xin lỗi, các tư vấn viên đang bận nên chưa ai nhận được. Mình vẫn đang nhắc họ. "
    "Nếu bạn cần nói chuyện ngay, gọi 111 (miễn phí, 24/7) nhé."
)
CANCELLED = "Ok, mình đã hủy yêu cầu. Khi nào cần, bạn cứ nhắn mình hoặc gọi 111 (miễn phí, 24/7)."
NOTHING_TO_CANCEL = "Hiện bạn không có yêu cầu nào đang chờ. Cần giúp, bạn cứ nhắn mình hoặc gọi 111."
CLAIMED = "Một tư vấn viên đã nhận lời nói chuyện với bạn. Bạn cứ nhắn ở đây nhé."
COUNSELLOR_SILENT = (
    "Tư vấn viên của bạn có thể đang bận nên chưa trả lời được, mình xin lỗi. Mình đã nhắc các tư vấn viên khác. "
    "Nếu bạn cần nói chuyện ngay, gọi 111 (miễn phí, 24/7) nhé; đang gặp nguy hiểm, gọi 113 hoặc 115."
)
COUNSELLOR_PREFIX = "👤 Tư vấn viên: "

# --- to an adult reporting for a child (slot reporter = adult): "anh/chị", and what to do now --------
_FOR_ADULT = {
    CASE_CREATED_URGENT: (
        "Mình đã báo ngay cho tư vấn viên, họ sẽ nhắn anh/chị tại đây sớm nhất có thể. Trong lúc chờ, "
        "anh/chị ở bên cháu, đừng để cháu một mình. Nếu tính mạng cháu đang gặp nguy hiểm, gọi ngay 115 "
        "hoặc 113; cần tư vấn ngay, gọi 111 (miễn phí, 24/7)."
    ),
    CASE_CREATED: (
        "Mình đã báo cho tư vấn viên; khi có người nhận, họ sẽ nhắn anh/chị tại đây. "
        "Cần tư vấn ngay, anh/chị gọi 111 (miễn phí, 24/7)."
    ),
    CASE_ALREADY_WAITING: "Tư vấn viên đã được báo, anh/chị chờ một chút nhé. Cần ngay, gọi 111 (miễn phí, 24/7).",
    NO_COUNSELLOR: (
        "Lúc này chưa có tư vấn viên trực tuyến, xin lỗi anh/chị. Anh/chị gọi 111 (miễn phí, 24/7) để được "
        "tư vấn ngay; nếu tính mạng cháu đang gặp nguy hiểm, gọi 115 hoặc 113."
    ),
    STORE_DOWN: "Mình chưa báo được cho tư vấn viên. Anh/chị gọi 111 (miễn phí, 24/7) để được tư vấn ngay.",
}


def for_reporter(text: str, reporter: str | None) -> str:
    """The same notice in an adult's voice when an adult reports for a child (domain.yml does the same)."""
    return _FOR_ADULT.get(text, text) if reporter == "adult" else text


# --- to the counsellors -------------------------------------------------------------------
CLAIM_BUTTON = "Nhận ca"
CLOSE_BUTTON = "Đóng ca"
NOT_ALLOWED = "Bạn không có quyền xử lý ca này."
PRIORITY_LABEL = {"urgent": "🔴 KHẨN CẤP", "high": "🟠 Cao", "normal": "🟢 Thường"}
NOT_CLAIMER = (
    "Ca này đã có tư vấn viên khác nhận: chỉ người nhận ca (hoặc giám sát viên) mới trả lời hoặc đóng ca."
)


#: Telegram refuses a message longer than this, counted in UTF-16 code units (an emoji counts 2).
TELEGRAM_MAX = 4096
ELLIPSIS = "…"

HEADS = {
    "alert": "Ca mới",
    "realert": "Nhắc lại: chưa ai nhận",
    "overdue": "⚠️ QUÁ HẠN: chưa ai nhận",
    "urgent": "🔴 Trẻ vừa nói có ý định tự hại",
    "silent": "⏰ Tư vấn viên chưa trả lời trẻ",
}


def telegram_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int = TELEGRAM_MAX) -> str:
    """`text` cut to `limit` Telegram characters (ending with "…" when cut)."""
    if telegram_len(text) <= limit:
        return text
    out = text[: limit - 1]
    while telegram_len(out) > limit - 1:
        out = out[:-1]
    return out + ELLIPSIS


def trim_summary(summary: str, budget: int, case_id: int) -> str:
    """The summary within `budget` Telegram characters: the newest lines first (the latest disclosure
    matters most); a line too long for what is left is cut. The case API keeps the whole summary."""
    if telegram_len(summary) <= budget:
        return summary
    note = f"(đã rút gọn; toàn bộ trên API: GET /cases/{case_id})"
    left = budget - telegram_len(note) - 1
    kept: list[str] = []
    for line in reversed(summary.split("\n")):
        if left <= 1:
            break
        part = fit(line, left)
        kept.insert(0, part)
        left -= telegram_len(part) + 1
        if part != line:
            break
    return "\n".join([note, *kept])


def alert_text(case: Case, kind: str = "alert", now: dt.datetime | None = None) -> str:
    """The alert; always fits one Telegram message (the summary is trimmed, not the facts)."""
    now = now or utcnow()
    lines = [
        f"[Ca #{case.id}] {HEADS.get(kind, HEADS['alert'])}",
        f"Mức: {PRIORITY_LABEL.get(case.priority, case.priority)}",
        f"Loại: {case.risk_category or '-'}",
        f"Kênh: {case.channel}",
    ]
    if kind == "silent" and case.child_waiting_since is not None:
        waited = max(0, int((now - case.child_waiting_since).total_seconds() // 60))
        lines.append(f"Tư vấn viên: {case.counsellor or '-'}; trẻ đã chờ câu trả lời {waited} phút")
    else:
        lines.append(f"Chờ: {case.waiting_minutes(now)} phút")
    footer = f"Trả lời (reply) tin này để nhắn cho trẻ; /dong {case.id} để đóng ca."
    if case.summary:
        head = "Tóm tắt (đã ẩn thông tin cá nhân):"
        budget = TELEGRAM_MAX - telegram_len("\n".join([*lines, head, footer])) - 2
        lines += [head, trim_summary(case.summary, budget, case.id)]
    lines.append(footer)
    return fit("\n".join(lines))


def short_alert_text(case_id: int, priority: str | None, kind: str) -> str:
    """The fallback when Telegram refused the full message for good: no summary, the API has it."""
    label = PRIORITY_LABEL.get(priority or "", priority or "-")
    if kind == "relay":
        return (
            f"[Ca #{case_id}] Trẻ vừa nhắn một tin Telegram không nhận; đọc trên API: GET /cases/{case_id}."
        )
    return (
        f"[Ca #{case_id}] {HEADS.get(kind, HEADS['alert'])}. Mức: {label}. Tin đầy đủ không gửi được; "
        f"xem trên API: GET /cases/{case_id}."
    )


def digest_text(items: list[dict]) -> str:
    """Many alerts as one message: counts per priority and the case numbers, most urgent first."""
    lines = [
        f"[Tổng hợp] {len(items)} cảnh báo gộp lại (nhiều ca cùng lúc hoặc từ cùng một nguồn, có thể là spam).",
        "Nhận ca bằng nút dưới đây hoặc qua API: GET /cases?status=open.",
    ]
    for priority in ("urgent", "high", "normal"):
        ids = sorted({i["case_id"] for i in items if i.get("priority") == priority})
        if ids:
            lines.append(f"{PRIORITY_LABEL[priority]} ({len(ids)}): " + _id_list(ids))
    return fit("\n".join(lines))


DIGEST_IDS_SHOWN = 40  # per end of a long list: the oldest and the newest stay visible


def _id_list(ids: list[int]) -> str:
    """Case numbers; a long list keeps both ends (a real case that arrives last in a flood still shows)
    instead of being cut at Telegram's message length."""
    if len(ids) <= 2 * DIGEST_IDS_SHOWN:
        return ", ".join(f"#{i}" for i in ids)
    head, tail = ids[:DIGEST_IDS_SHOWN], ids[-DIGEST_IDS_SHOWN:]
    hidden = len(ids) - 2 * DIGEST_IDS_SHOWN
    return (
        ", ".join(f"#{i}" for i in head)
        + f" … ({hidden} ca khác, xem API) … "
        + ", ".join(f"#{i}" for i in tail)
    )


def directory_lines(case: Case, area: str | None = None) -> list[str]:
    """Local contacts for the case's kind of harm (bot/directory.py); none when the directory has none."""
    from bot.directory import alert_lines

    lines = alert_lines(case.risk_category, area)
    return ["Nơi giúp tại địa phương:", *lines] if lines else []


def claimed_text(case: Case, who: str) -> str:
    return (
        f"[Ca #{case.id}] ✅ Đã được nhận bởi {who}.\nMức: {PRIORITY_LABEL.get(case.priority, case.priority)}"
    )


def closed_text(case: Case, who: str) -> str:
    return f"[Ca #{case.id}] Đã đóng bởi {who}."


def cancelled_text(case: Case) -> str:
    return f"[Ca #{case.id}] Trẻ đã hủy yêu cầu trước khi có người nhận."


def deleted_text(case: Case) -> str:
    return f"[Ca #{case.id}] Trẻ đã yêu cầu xóa dữ liệu; ca đã đóng và nội dung đã được xóa."


# --- the outcome of a closed case, asked on Telegram (codes: bot/handoff/outcomes.py) -------------
OUTCOME_LABELS = {
    "supported_safe": "Đã hỗ trợ, trẻ an toàn",
    "referred": "Đã chuyển gửi",
    "stopped_answering": "Trẻ không trả lời nữa",
    "not_a_case": "Không phải ca thật",
}
REFERRAL_LABELS = {
    "111": "Tổng đài 111",
    "police_113": "Công an 113",
    "health": "Y tế",
    "social_protection": "Bảo trợ xã hội",
    "school": "Nhà trường",
    "platform_takedown": "Gỡ nội dung trên mạng",
}
REPORTER_LABELS = {
    "child": "Trẻ tự kể",
    "parent": "Cha mẹ",
    "teacher": "Thầy cô",
    "other_adult": "Người lớn khác",
}
OUTCOME_QUESTIONS = {
    "outcome": "Kết quả của ca thế nào?",
    "ref": "Đã chuyển gửi tới đâu? Chọn một hay nhiều nơi (bấm lần nữa để bỏ chọn), rồi bấm Xong.",
    "who": "Ai là người báo ca này?",
}
SKIP_BUTTON = "Bỏ qua"
DONE_BUTTON = "Xong"
CHOSEN_MARK = "✅ "
SKIPPED = "(bỏ qua)"
OUTCOME_SAVED = "Đã ghi kết quả, cảm ơn."
OUTCOME_STALE = "Câu này đã có người trả lời rồi."


OUTCOME_SKIPPED = "Đã bỏ qua: ca vẫn nằm trong danh sách thiếu kết quả."


def outcome_head(case_id: int, recorded: bool, who: str | None = None) -> str:
    """First line of the outcome message: the questions, or that the outcome is recorded (by `who`)."""
    if recorded:
        return f"[Ca #{case_id}] ✅ Đã ghi kết quả" + (f" ({who})." if who else ".")
    return f"[Ca #{case_id}] Ca đã đóng. Ghi lại kết quả nhé: mỗi câu một chạm, câu nào chưa rõ thì bỏ qua."


def outcome_answer_lines(outcome: str | None, referrals: tuple[str, ...], reporter: str | None) -> list[str]:
    """The three answers, in the order they are asked."""
    return [
        f"Kết quả: {OUTCOME_LABELS.get(outcome or '', SKIPPED)}",
        "Chuyển gửi: " + (", ".join(REFERRAL_LABELS[r] for r in referrals) or SKIPPED),
        f"Người báo: {REPORTER_LABELS.get(reporter or '', SKIPPED)}",
    ]


def outcome_skipped_text(case_id: int) -> str:
    return (
        f"[Ca #{case_id}] Chưa ghi kết quả (đã bỏ qua cả ba câu): ca nằm trong danh sách thiếu kết quả. "
        f"Có thể ghi sau qua API: POST /cases/{case_id}/outcome."
    )


def outcome_already(case_id: int) -> str:
    return f"Ca #{case_id} đã được ghi kết quả rồi, không cần ghi lại."


def outcome_not_recorded(case_id: int, reason: str) -> str:
    return f"[Ca #{case_id}] Không ghi được kết quả: {reason}"


def unreachable_text(case_id: int, reason: str) -> str:
    """The counsellor's message could not reach the child now; it is kept on the case."""
    return (
        f"[Ca #{case_id}] ⚠️ Chưa gửi được cho trẻ: {reason} "
        "Tin của bạn đã được ghi vào ca; khi trẻ nhắn lại, hãy trả lời lại tin đó."
    )


ZALO_TOKEN_FAILED = (
    "⚠️ Kênh Zalo: không làm mới được mã truy cập (access token) của OA, nên bot chưa trả lời được trẻ "
    "trên Zalo. Người quản trị cần cấp quyền lại cho ứng dụng trong Zalo (ZALO_ACCESS_TOKEN, "
    "ZALO_REFRESH_TOKEN) rồi khởi động lại bot; tin của trẻ được giữ và sẽ được trả lời sau."
)
#: What an alert or relayed message becomes when Telegram no longer lets the bot delete it (48 hours).
MESSAGE_REMOVED = "[Tin nhắn đã được xóa để bảo vệ dữ liệu của trẻ]"


def relay_text(case_id: int, text: str) -> str:
    return fit(f"[Ca #{case_id}] {text}")
