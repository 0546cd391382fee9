"""The anonymous monthly report for the district: figures from `report_events`, as CSV and one HTML file.

`figures(events, month, target_min)` returns the rows of `summary.csv`; `write(...)` writes
`reports/<month>/summary.csv` and `reports/<month>/index.html` (charts embedded as base64 PNG,
A4 print styles). Every count from 1 to 4 is shown as "< 5" and statistics over fewer than 5
cases as "suppressed", so that no child can be singled out. Each row names the plan target
(Quyết định 830/QĐ-TTg, the district's 2021-2025 plan) it reports on.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import statistics
from collections.abc import Iterable
from pathlib import Path

from bot.risk import DISCLOSURE_PRIORITY, LEVELS

SMALL = 5
SMALL_MARK = "< 5"
SUPPRESSED = "suppressed"
COLUMNS = ["section", "metric", "group", "subgroup", "value", "plan_target"]

BANDS = ["6-10", "11-14", "15-17", "unknown"]
REPORTERS = ["child", "adult"]
RISK_LEVELS = [lv for lv in LEVELS if lv != "none"]
#: Case outcomes and referral targets (issue 15 part 1 codes); "missing_outcome" = closed without one.
OUTCOMES = [
    "supported_safe",
    "referred",
    "stopped_answering",
    "not_a_case",
    "cancelled_by_child",
    "missing_outcome",
]
REFERRALS = ["111", "police_113", "health", "social_protection", "school", "platform_takedown"]

TARGETS = {
    "support": "KH 830: 100% trẻ em bị xâm hại, gặp nguy cơ trên mạng được tiếp nhận và hỗ trợ",
    "contact": "KH 830: mỗi bước xử lý có đầu mối tiếp nhận; ca được nhận trong thời hạn",
    "referral": "KH 830: phối hợp liên ngành (111, công an, y tế, bảo trợ xã hội, nhà trường) trong hỗ trợ trẻ",
    "skills": "KH 830: trẻ em, cha mẹ, giáo viên được trang bị kiến thức, kỹ năng an toàn trên mạng",
    "quality": "KH 830: chất lượng hỗ trợ trẻ em (ý kiến của trẻ sau khi được tư vấn)",
}

CATEGORY_LABEL = {
    "disclose_self_harm": "Ý định tự hại",
    "disclose_sexual_exploitation": "Xâm hại, bóc lột tình dục trên mạng",
    "disclose_grooming": "Dụ dỗ, làm quen để lợi dụng",
    "disclose_abuse_offline": "Bạo lực, xâm hại ngoài đời",
    "disclose_cyberbullying": "Bắt nạt trên mạng",
    "disclose_scam": "Lừa đảo, mất tài khoản",
    "express_distress": "Buồn bã, lo âu",
}
LEVEL_LABEL = {"low": "Thấp", "medium": "Trung bình", "high": "Cao", "imminent": "Khẩn cấp"}
OUTCOME_LABEL = {
    "supported_safe": "Đã hỗ trợ, hiện an toàn",
    "referred": "Đã chuyển tuyến",
    "stopped_answering": "Trẻ ngừng trả lời",
    "not_a_case": "Không phải ca thật",
    "cancelled_by_child": "Trẻ tự hủy yêu cầu",
    "missing_outcome": "Chưa ghi kết quả",
}
REFERRAL_LABEL = {
    "111": "Tổng đài 111",
    "police_113": "Công an (113)",
    "health": "Y tế",
    "social_protection": "Bảo trợ xã hội",
    "school": "Nhà trường",
    "platform_takedown": "Gỡ nội dung trên nền tảng",
}


def weeks(month: str) -> list[str]:
    """Week labels of a month: days 1-7, 8-14, 15-21, 22-28, 29-end."""
    import calendar

    year, mon = (int(x) for x in month.split("-"))
    last = calendar.monthrange(year, mon)[1]
    return [
        f"{start:02d}-{last if start == 29 else start + 6:02d}"
        for start in (1, 8, 15, 22, 29)
        if start <= last
    ]


def week_of(day_number: int) -> int:
    return min((day_number - 1) // 7, 4)


def shown(count: int) -> str:
    """A count as published: 0, "< 5" for 1-4, else the number."""
    return SMALL_MARK if 0 < count < SMALL else str(count)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that really occurred, easy to explain."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def figures(events: Iterable[dict], month: str, target_min: float) -> list[dict[str, str]]:
    """The rows of summary.csv (COLUMNS), in report order."""
    events = list(events)
    rows: list[dict[str, str]] = []

    def add(section: str, metric: str, group: str, subgroup: str, value: str, target: str) -> None:
        rows.append(
            dict(
                section=section,
                metric=metric,
                group=group,
                subgroup=subgroup,
                value=value,
                plan_target=TARGETS[target],
            )
        )

    def of(kind: str) -> list[dict]:
        return [e for e in events if e["kind"] == kind]

    def count(rows: list[dict], field: str, value: str, default: str | None = None) -> str:
        """How many rows have `value` in `field` (an empty field counts as `default`), small cells hidden."""
        return shown(sum(1 for e in rows if (e[field] or default) == value))

    wk = weeks(month)
    disclosures = of("disclosure")
    for cat in DISCLOSURE_PRIORITY:
        for i, label in enumerate(wk):
            n = sum(1 for e in disclosures if e["category"] == cat and week_of(e["day"].day) == i)
            add("disclosures", "by_category_week", cat, label, shown(n), "support")
    for level in RISK_LEVELS:
        for i, label in enumerate(wk):
            n = sum(1 for e in disclosures if e["level"] == level and week_of(e["day"].day) == i)
            add("disclosures", "by_level_week", level, label, shown(n), "support")
    for cat in DISCLOSURE_PRIORITY:
        add(
            "disclosures",
            "by_category",
            cat,
            "all",
            count(disclosures, "category", cat),
            "support",
        )
    for who in REPORTERS:
        add(
            "disclosures",
            "by_reporter",
            who,
            "all",
            count(disclosures, "reporter", who, default="child"),
            "support",
        )
    for band in BANDS:
        add(
            "disclosures",
            "by_age_band",
            band,
            "all",
            count(disclosures, "age_band", band, default="unknown"),
            "support",
        )
    add("disclosures", "total", "all", "all", shown(len(disclosures)), "support")

    opened, claimed, closed = of("case_created"), of("case_claimed"), of("case_closed")
    add("cases", "opened", "all", "all", shown(len(opened)), "contact")
    for level in ("imminent", "high"):
        add(
            "cases",
            "opened_by_level",
            level,
            "all",
            count(opened, "level", level),
            "contact",
        )
    add(
        "cases",
        "opened_by_level",
        "other",
        "all",
        shown(sum(1 for e in opened if e["level"] not in ("imminent", "high"))),
        "contact",
    )
    add("cases", "claimed", "all", "all", shown(len(claimed)), "contact")
    add("cases", "closed", "all", "all", shown(len(closed)), "contact")
    # Outcomes come from the counsellor (case_outcome); a case closed without one counts as missing.
    recorded = [e for e in of("case_outcome") if e["outcome"]]
    by_counsellor = sum(1 for e in closed if not e["outcome"])
    for outcome in OUTCOMES:
        if outcome == "missing_outcome":
            n = max(0, by_counsellor - len(recorded))
        elif outcome == "cancelled_by_child":
            n = sum(1 for e in closed if e["outcome"] == outcome)
        else:
            n = sum(1 for e in recorded if e["outcome"] == outcome)
        add("cases", "closed_by_outcome", outcome, "all", shown(n), "support")

    minutes = [e["minutes"] for e in claimed if e["minutes"] is not None]
    enough = len(minutes) >= SMALL
    add("time_to_claim", "cases_measured", "all", "all", shown(len(minutes)), "contact")
    add(
        "time_to_claim",
        "median_min",
        "all",
        "all",
        _num(statistics.median(minutes)) if enough else SUPPRESSED,
        "contact",
    )
    add(
        "time_to_claim",
        "p90_min",
        "all",
        "all",
        _num(percentile(minutes, 90)) if enough else SUPPRESSED,
        "contact",
    )
    add("time_to_claim", "target_min", "all", "all", _num(target_min), "contact")
    within = sum(1 for m in minutes if m <= target_min)
    add("time_to_claim", "within_target", "all", "all", shown(within), "contact")
    add(
        "time_to_claim",
        "within_target_pct",
        "all",
        "all",
        _num(round(100 * within / len(minutes))) if enough else SUPPRESSED,
        "contact",
    )

    referrals = of("referral")
    for target in REFERRALS:
        add(
            "referrals",
            "by_target",
            target,
            "all",
            count(referrals, "referral", target),
            "referral",
        )

    tips = of("tip")
    topics = sorted({e["topic"] for e in tips if e["topic"]})
    for topic in topics:
        for band in BANDS:
            n = sum(1 for e in tips if e["topic"] == topic and (e["age_band"] or "unknown") == band)
            add("teaching", "tips_by_topic_band", topic, band, shown(n), "skills")
    for role in ("child", "parent", "teacher"):
        add(
            "teaching",
            "tips_by_role",
            role,
            "all",
            count(tips, "role", role, default="child"),
            "skills",
        )
    add("teaching", "tips_total", "all", "all", shown(len(tips)), "skills")

    quizzes = of("quiz")
    for band in BANDS[:3]:
        done = [e for e in quizzes if e["age_band"] == band]
        add("quiz", "completed", band, "all", shown(len(done)), "skills")
        pct = [100 * e["score"] / e["total"] for e in done if e["total"]]
        add(
            "quiz",
            "mean_score_pct",
            band,
            "all",
            _num(round(statistics.mean(pct))) if len(pct) >= SMALL else SUPPRESSED,
            "skills",
        )
    add("quiz", "completed", "all", "all", shown(len(quizzes)), "skills")

    answers = of("feedback")
    helpful = sum(1 for e in answers if e["answer"] == "helpful")
    add("feedback", "did_it_help", "helpful", "all", shown(helpful), "quality")
    add("feedback", "did_it_help", "not_helpful", "all", shown(len(answers) - helpful), "quality")
    add(
        "feedback",
        "helpful_pct",
        "all",
        "all",
        _num(round(100 * helpful / len(answers))) if len(answers) >= SMALL else SUPPRESSED,
        "quality",
    )
    return rows


def value(
    rows: list[dict[str, str]], section: str, metric: str, group: str = "all", subgroup: str = "all"
) -> str:
    for r in rows:
        if (r["section"], r["metric"], r["group"], r["subgroup"]) == (section, metric, group, subgroup):
            return r["value"]
    raise KeyError((section, metric, group, subgroup))


def headline(rows: list[dict[str, str]], month: str) -> str:
    """A Vietnamese paragraph an official can paste into the district's periodic report."""
    year, mon = month.split("-")
    v = lambda *key: value(rows, *key)  # noqa: E731
    high = sum(
        int(r["value"])
        for r in rows
        if r["metric"] == "by_level_week" and r["group"] in ("high", "imminent") and r["value"].isdigit()
    )
    median = v("time_to_claim", "median_min")
    claim = (
        f"thời gian từ khi trẻ yêu cầu đến khi có tư vấn viên nhận ca là {median} phút (trung vị; 90% số ca trong "
        f"{v('time_to_claim', 'p90_min')} phút), so với mục tiêu {v('time_to_claim', 'target_min')} phút"
        if median != SUPPRESSED
        else "số ca được nhận quá ít để tính thời gian nhận ca"
    )
    return (
        f"Trong tháng {int(mon)}/{year}, trợ lý an toàn trên mạng dành cho trẻ em đã tiếp nhận {v('disclosures', 'total')} "
        f"lượt trẻ em hoặc người lớn kể về nguy cơ, xâm hại (trong đó ít nhất {shown(high)} lượt ở mức cao hoặc khẩn cấp). "
        f"{v('cases', 'opened')} ca được chuyển đến tư vấn viên, {v('cases', 'claimed')} ca được nhận và {v('cases', 'closed')} ca "
        f"đã đóng; {claim}. Về nâng cao kỹ năng, có {v('teaching', 'tips_total')} lượt xem mẹo an toàn và "
        f"{v('quiz', 'completed')} bài trắc nghiệm kỹ năng số được hoàn thành. Số liệu là ẩn danh; các ô dưới 5 được ghi "
        f'"< 5" để không nhận diện được trẻ.'
    )


# --- output -----------------------------------------------------------------------------------
def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _count(text: str) -> int:
    """A published count for a chart: suppressed cells are drawn as 0 (the table says "< 5")."""
    return int(text) if text.isdigit() else 0


def _png(fig) -> str:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def charts(rows: list[dict[str, str]], month: str) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    wk = weeks(month)
    fig, ax = plt.subplots(figsize=(7.2, 3.0))
    bottom = [0] * len(wk)
    for cat in DISCLOSURE_PRIORITY:
        counts = [_count(value(rows, "disclosures", "by_category_week", cat, w)) for w in wk]
        ax.bar([f"Ngày {w}" for w in wk], counts, bottom=bottom, label=CATEGORY_LABEL[cat])
        bottom = [b + c for b, c in zip(bottom, counts)]
    ax.set_ylabel("Lượt kể")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    ax.set_title("Lượt kể về nguy cơ theo tuần (ô < 5 không vẽ)", fontsize=9)
    out["disclosures"] = _png(fig)

    fig, ax = plt.subplots(figsize=(7.2, 2.4))
    labels = ["Mở", "Được nhận", "Đã đóng"]
    ax.barh(
        labels[::-1],
        [_count(value(rows, "cases", m)) for m in ("opened", "claimed", "closed")][::-1],
        color="#2f6f8f",
    )
    ax.set_title("Ca chuyển tư vấn viên", fontsize=9)
    out["cases"] = _png(fig)

    topic_rows = [r for r in rows if r["metric"] == "tips_by_topic_band"]
    if topic_rows:
        topics = sorted({r["group"] for r in topic_rows})
        fig, ax = plt.subplots(figsize=(7.2, 0.35 * len(topics) + 1.0))
        left = [0] * len(topics)
        for band in BANDS:
            counts = [_count(value(rows, "teaching", "tips_by_topic_band", t, band)) for t in topics]
            ax.barh(topics, counts, left=left, label="chưa rõ tuổi" if band == "unknown" else f"{band} tuổi")
            left = [a + b for a, b in zip(left, counts)]
        ax.legend(fontsize=7)
        ax.set_title("Lượt xem mẹo theo chủ đề và độ tuổi (ô < 5 không vẽ)", fontsize=9)
        out["teaching"] = _png(fig)
    return out


CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #111; max-width: 180mm; margin: 0 auto; }
h1 { font-size: 16pt; margin-bottom: 2mm; } h2 { font-size: 12.5pt; margin: 6mm 0 1mm; border-bottom: 1px solid #999; }
.headline { background: #f2f6f8; border-left: 4px solid #2f6f8f; padding: 3mm; }
.target { font-style: italic; color: #333; margin: 1mm 0 2mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; font-size: 9pt; }
th, td { border: 1px solid #bbb; padding: 1mm 2mm; text-align: left; } td.n { text-align: right; }
img { max-width: 100%; } section { break-inside: avoid; page-break-inside: avoid; }
.note { font-size: 8.5pt; color: #444; }
"""


def _cell(text: str) -> str:
    return "ẩn (dưới 5 ca)" if text == SUPPRESSED else text


def _table(head: list[str], body: list[list[str]]) -> str:
    body = [[_cell(c) for c in row] for row in body]
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{html.escape(c)}</td>' if i else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in body
    )
    return f"<table><tr>{th}</tr>{trs}</table>"


def render_html(rows: list[dict[str, str]], month: str) -> str:
    year, mon = month.split("-")
    img = charts(rows, month)
    v = lambda *key: value(rows, *key)  # noqa: E731
    wk = weeks(month)

    def section(title: str, target: str, body: str) -> str:
        return f'<section><h2>{html.escape(title)}</h2><p class="target">Ứng với mục tiêu — {html.escape(TARGETS[target])}</p>{body}</section>'

    parts = [
        section(
            "1. Lượt kể về nguy cơ, xâm hại",
            "support",
            f'<img alt="Lượt kể theo tuần" src="{img["disclosures"]}">'
            + _table(
                ["Loại", *[f"Ngày {w}" for w in wk], "Cả tháng"],
                [
                    [
                        CATEGORY_LABEL[c],
                        *[v("disclosures", "by_category_week", c, w) for w in wk],
                        v("disclosures", "by_category", c),
                    ]
                    for c in DISCLOSURE_PRIORITY
                ],
            )
            + _table(
                ["Mức nguy cơ", *[f"Ngày {w}" for w in wk]],
                [
                    [LEVEL_LABEL[lv], *[v("disclosures", "by_level_week", lv, w) for w in wk]]
                    for lv in RISK_LEVELS
                ],
            )
            + _table(
                ["Người kể", "Lượt"],
                [
                    ["Trẻ em", v("disclosures", "by_reporter", "child")],
                    ["Người lớn (cha mẹ, thầy cô...)", v("disclosures", "by_reporter", "adult")],
                ],
            )
            + _table(
                ["Độ tuổi", "Lượt"],
                [[b if b != "unknown" else "Chưa rõ", v("disclosures", "by_age_band", b)] for b in BANDS],
            ),
        ),
        section(
            "2. Ca chuyển tư vấn viên và kết quả",
            "contact",
            f'<img alt="Ca" src="{img["cases"]}">'
            + _table(
                ["Chỉ số", "Số ca"],
                [
                    ["Ca mở", v("cases", "opened")],
                    ["  trong đó khẩn cấp", v("cases", "opened_by_level", "imminent")],
                    ["  trong đó mức cao", v("cases", "opened_by_level", "high")],
                    ["Ca được nhận", v("cases", "claimed")],
                    ["Ca đã đóng", v("cases", "closed")],
                ],
            )
            + _table(
                ["Kết quả khi đóng ca", "Số ca"],
                [[OUTCOME_LABEL[o], v("cases", "closed_by_outcome", o)] for o in OUTCOMES],
            ),
        ),
        section(
            "3. Thời gian nhận ca",
            "contact",
            _table(
                ["Chỉ số", "Giá trị"],
                [
                    ["Số ca đo được", v("time_to_claim", "cases_measured")],
                    ["Trung vị (phút)", v("time_to_claim", "median_min")],
                    ["90% số ca trong (phút)", v("time_to_claim", "p90_min")],
                    ["Mục tiêu (phút)", v("time_to_claim", "target_min")],
                    ["Số ca nhận trong mục tiêu", v("time_to_claim", "within_target")],
                    ["Tỉ lệ nhận trong mục tiêu (%)", v("time_to_claim", "within_target_pct")],
                ],
            ),
        ),
        section(
            "4. Chuyển tuyến",
            "referral",
            '<p class="note">Tư vấn viên ghi nơi chuyển tuyến khi đóng ca.</p>'
            + _table(
                ["Nơi chuyển đến", "Lượt"],
                [[REFERRAL_LABEL[t], v("referrals", "by_target", t)] for t in REFERRALS],
            ),
        ),
        section(
            "5. Nâng cao kỹ năng: mẹo an toàn và trắc nghiệm",
            "skills",
            (f'<img alt="Mẹo theo chủ đề" src="{img["teaching"]}">' if "teaching" in img else "")
            + _table(
                ["Người xem", "Lượt"],
                [
                    ["Trẻ em", v("teaching", "tips_by_role", "child")],
                    ["Cha mẹ", v("teaching", "tips_by_role", "parent")],
                    ["Giáo viên", v("teaching", "tips_by_role", "teacher")],
                ],
            )
            + _table(
                ["Độ tuổi", "Bài trắc nghiệm hoàn thành", "Điểm trung bình (%)"],
                [[b, v("quiz", "completed", b), v("quiz", "mean_score_pct", b)] for b in BANDS[:3]],
            ),
        ),
        section(
            "6. Ý kiến của trẻ sau tư vấn",
            "quality",
            _table(
                ['"Cuộc trò chuyện có giúp được bạn không?"', "Lượt"],
                [
                    ["Có", v("feedback", "did_it_help", "helpful")],
                    ["Chưa", v("feedback", "did_it_help", "not_helpful")],
                    ['Tỉ lệ "có" (%)', v("feedback", "helpful_pct")],
                ],
            ),
        ),
    ]
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Báo cáo tháng {int(mon)}/{year}</title>'
        f"<style>{CSS}</style></head><body>"
        f"<h1>Báo cáo ẩn danh tháng {int(mon)}/{year}: trợ lý bảo vệ trẻ em trên mạng</h1>"
        f'<p class="note">Số liệu ẩn danh, ghi lại khi sự việc xảy ra (không chứa tên, số điện thoại hay nội dung tin nhắn). '
        f'Ô có từ 1 đến 4 lượt ghi "&lt; 5"; chỉ số tính trên dưới 5 ca không được công bố ("ẩn"). Ngày tính theo giờ Việt Nam.</p>'
        f'<p class="headline">{html.escape(headline(rows, month))}</p>' + "".join(parts) + "</body></html>"
    )


def write(events: Iterable[dict], month: str, out_dir: Path, target_min: float) -> Path:
    """Write summary.csv and index.html into out_dir/<month>/; returns that folder."""
    rows = figures(events, month, target_min)
    folder = Path(out_dir) / month
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(rows, folder / "summary.csv")
    (folder / "index.html").write_text(render_html(rows, month), encoding="utf-8")
    return folder


def parse_month(text: str | None) -> str:
    import datetime as dt

    dt.date.fromisoformat(f"{text}-01")  # raises ValueError on a bad month
    return str(text)
