"""The monthly report: a synthetic month of events, every number of summary.csv checked."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
import sqlalchemy as sa

from bot.reports import events, monthly

D = lambda day: dt.date(2026, 11, day)  # noqa: E731


def synthetic_month() -> list[dict]:
    rows: list[dict] = []

    def add(n: int, **kw) -> None:
        rows.extend(dict(kw) for _ in range(n))

    # 23 disclosures
    add(
        6,
        day=D(2),
        kind="disclosure",
        category="disclose_cyberbullying",
        level="medium",
        age_band="11-14",
        reporter="child",
        channel="telegram",
    )
    add(
        2,
        day=D(16),
        kind="disclosure",
        category="disclose_cyberbullying",
        level="medium",
        age_band="11-14",
        reporter="child",
        channel="rest",
    )
    add(
        4,
        day=D(9),
        kind="disclosure",
        category="disclose_self_harm",
        level="imminent",
        age_band="15-17",
        reporter="child",
        channel="telegram",
    )
    add(
        1,
        day=D(10),
        kind="disclosure",
        category="disclose_self_harm",
        level="imminent",
        age_band="15-17",
        reporter="adult",
        channel="socketio",
    )
    add(3, day=D(30), kind="disclosure", category="disclose_scam", level="medium", channel="telegram")
    add(
        7,
        day=D(25),
        kind="disclosure",
        category="express_distress",
        level="low",
        age_band="11-14",
        channel="telegram",
    )
    # cases: 9 opened, 8 claimed, 7 closed
    add(5, day=D(9), kind="case_created", category="disclose_self_harm", level="imminent", channel="telegram")
    add(2, day=D(3), kind="case_created", category="disclose_cyberbullying", level="high", channel="telegram")
    add(2, day=D(26), kind="case_created", category="express_distress", level="low", channel="telegram")
    for minutes in (1, 2, 3, 4, 5, 6, 8, 20):
        add(1, day=D(12), kind="case_claimed", minutes=minutes)
    add(6, day=D(13), kind="case_closed", channel="telegram")
    add(1, day=D(13), kind="case_closed", outcome="cancelled_by_child", channel="telegram")
    add(3, day=D(13), kind="case_outcome", outcome="supported_safe", reporter="child")
    add(2, day=D(13), kind="case_outcome", outcome="referred", reporter="teacher")
    add(1, day=D(13), kind="case_outcome", reporter="parent")  # outcome skipped: still missing
    add(5, day=D(14), kind="referral", referral="police_113")
    add(1, day=D(14), kind="referral", referral="health")
    # teaching
    add(6, day=D(5), kind="tip", topic="privacy", age_band="11-14", role="child")
    add(2, day=D(6), kind="tip", topic="passwords", age_band="6-10", role="parent")
    for score in (3, 4, 5, 5, 2):
        add(1, day=D(7), kind="quiz", age_band="11-14", score=score, total=5)
    add(1, day=D(7), kind="quiz", age_band="6-10", score=4, total=6)
    add(5, day=D(20), kind="feedback", answer="helpful")
    add(1, day=D(21), kind="feedback", answer="not_helpful")
    return rows


#: Every non-zero published value; every other row must be "0" (or the target).
EXPECTED = {
    ("disclosures", "by_category_week", "disclose_cyberbullying", "01-07"): "6",
    ("disclosures", "by_category_week", "disclose_cyberbullying", "15-21"): "< 5",
    ("disclosures", "by_category_week", "disclose_self_harm", "08-14"): "5",
    ("disclosures", "by_category_week", "disclose_scam", "29-30"): "< 5",
    ("disclosures", "by_category_week", "express_distress", "22-28"): "7",
    ("disclosures", "by_level_week", "medium", "01-07"): "6",
    ("disclosures", "by_level_week", "medium", "15-21"): "< 5",
    ("disclosures", "by_level_week", "medium", "29-30"): "< 5",
    ("disclosures", "by_level_week", "imminent", "08-14"): "5",
    ("disclosures", "by_level_week", "low", "22-28"): "7",
    ("disclosures", "by_category", "disclose_cyberbullying", "all"): "8",
    ("disclosures", "by_category", "disclose_self_harm", "all"): "5",
    ("disclosures", "by_category", "disclose_scam", "all"): "< 5",
    ("disclosures", "by_category", "express_distress", "all"): "7",
    ("disclosures", "by_reporter", "child", "all"): "22",
    ("disclosures", "by_reporter", "adult", "all"): "< 5",
    ("disclosures", "by_age_band", "11-14", "all"): "15",
    ("disclosures", "by_age_band", "15-17", "all"): "5",
    ("disclosures", "by_age_band", "unknown", "all"): "< 5",
    ("disclosures", "total", "all", "all"): "23",
    ("cases", "opened", "all", "all"): "9",
    ("cases", "opened_by_level", "imminent", "all"): "5",
    ("cases", "opened_by_level", "high", "all"): "< 5",
    ("cases", "opened_by_level", "other", "all"): "< 5",
    ("cases", "claimed", "all", "all"): "8",
    ("cases", "closed", "all", "all"): "7",
    ("cases", "closed_by_outcome", "cancelled_by_child", "all"): "< 5",
    ("cases", "closed_by_outcome", "supported_safe", "all"): "< 5",
    ("cases", "closed_by_outcome", "referred", "all"): "< 5",
    ("cases", "closed_by_outcome", "missing_outcome", "all"): "< 5",  # 6 closed by counsellors - 5 outcomes
    ("time_to_claim", "cases_measured", "all", "all"): "8",
    ("time_to_claim", "median_min", "all", "all"): "4.5",
    ("time_to_claim", "p90_min", "all", "all"): "20",  # nearest rank: ceil(8 * 0.9) = 8th value
    ("time_to_claim", "target_min", "all", "all"): "5",
    ("time_to_claim", "within_target", "all", "all"): "5",
    ("time_to_claim", "within_target_pct", "all", "all"): "62",  # 5/8 = 62.5, rounded half to even
    ("referrals", "by_target", "police_113", "all"): "5",
    ("referrals", "by_target", "health", "all"): "< 5",
    ("teaching", "tips_by_topic_band", "privacy", "11-14"): "6",
    ("teaching", "tips_by_topic_band", "passwords", "6-10"): "< 5",
    ("teaching", "tips_by_role", "child", "all"): "6",
    ("teaching", "tips_by_role", "parent", "all"): "< 5",
    ("teaching", "tips_total", "all", "all"): "8",
    ("quiz", "completed", "11-14", "all"): "5",
    ("quiz", "mean_score_pct", "11-14", "all"): "76",  # (60 + 80 + 100 + 100 + 40) / 5
    ("quiz", "completed", "6-10", "all"): "< 5",
    ("quiz", "completed", "all", "all"): "6",
    ("feedback", "did_it_help", "helpful", "all"): "5",
    ("feedback", "did_it_help", "not_helpful", "all"): "< 5",
    ("feedback", "helpful_pct", "all", "all"): "83",
}
#: Statistics over fewer than 5 answers are not published.
SUPPRESSED = {("quiz", "mean_score_pct", "6-10", "all"), ("quiz", "mean_score_pct", "15-17", "all")}


@pytest.fixture()
def engine(tmp_path):
    return sa.create_engine(f"sqlite:///{tmp_path / 'events.db'}", future=True)


def test_every_number_of_the_csv(engine, tmp_path):
    rows = synthetic_month()
    # the month next door must not count
    rows += [
        dict(day=dt.date(2026, 10, 31), kind="disclosure", category="disclose_scam", level="medium"),
        dict(day=dt.date(2026, 12, 1), kind="tip", topic="privacy", age_band="11-14"),
    ]
    events.add_many(rows, engine=engine)
    folder = monthly.write(events.month_events("2026-11", engine=engine), "2026-11", tmp_path / "reports", 5)
    with (folder / "summary.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == monthly.COLUMNS
        published = list(reader)
    seen = set()
    for row in published:
        key = (row["section"], row["metric"], row["group"], row["subgroup"])
        assert key not in seen, f"duplicate row {key}"
        seen.add(key)
        assert row["plan_target"].startswith("KH 830:"), key
        expected = EXPECTED.get(key, monthly.SUPPRESSED if key in SUPPRESSED else "0")
        assert row["value"] == expected, key
    assert set(EXPECTED) <= seen and SUPPRESSED <= seen
    # 7 categories x 5 weeks, 4 levels x 5 weeks, and every fixed list is present even at zero
    assert sum(1 for k in seen if k[1] == "by_category_week") == 35
    assert sum(1 for k in seen if k[1] == "by_level_week") == 20
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and "<script" not in page and "http" not in page
    assert (
        "Trong tháng 11/2026" in page
        and "23 lượt" in page
        and "4.5 phút" in page
        and "@page { size: A4" in page
    )


def test_small_months_suppress_statistics(tmp_path):
    rows = [
        dict(
            day=D(3),
            kind="case_claimed",
            minutes=2.0,
            **{k: None for k in events.FIELDS},
            score=None,
            total=None,
        )
    ]
    figs = monthly.figures(rows, "2026-11", 5)
    assert monthly.value(figs, "time_to_claim", "cases_measured") == "< 5"
    assert monthly.value(figs, "time_to_claim", "median_min") == monthly.SUPPRESSED
    assert "quá ít" in monthly.headline(figs, "2026-11")


def test_record_refuses_text_and_ids(engine, caplog):
    assert events.record("tip", day=D(1), engine=engine, topic="privacy", age_band="11-14")
    assert not events.record("tip", engine=engine, topic="em bị bạn bè chửi")  # free text: refused
    assert not events.record("disclosure", engine=engine, sender_id="12345")  # no sender id column
    assert not events.record("chat", engine=engine)
    assert "not recorded" in caplog.text
    assert len(events.month_events("2026-11", engine=engine)) == 1
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("report_events")}
    assert not columns & {"sender_id", "text", "case_id", "summary"}


def test_weeks_of_a_month():
    assert monthly.weeks("2026-11") == ["01-07", "08-14", "15-21", "22-28", "29-30"]
    assert monthly.weeks("2026-02") == ["01-07", "08-14", "15-21", "22-28"]
