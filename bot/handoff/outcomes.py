"""Case outcomes and referrals (issue 15 part 1): coded fields a counsellor records when closing a case.

One row per case in `handoff_outcomes` (the case store's database, its own table so that the case
store's schema is untouched): outcome, referral targets, who reported. Codes only, no free text. The
row holds no sender id and is never touched by "xóa dữ liệu" or retention: they are counts. A closed
case with no row is "missing outcome" (API `GET /cases?missing_outcome=1`, and the monthly report).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

OUTCOMES = ("supported_safe", "referred", "stopped_answering", "not_a_case")
REFERRALS = ("111", "police_113", "health", "social_protection", "school", "platform_takedown")
REPORTERS = ("child", "parent", "teacher", "other_adult")

metadata = sa.MetaData()
outcomes_table = sa.Table(
    "handoff_outcomes",
    metadata,
    sa.Column("case_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("outcome", sa.String(30)),
    sa.Column("referrals", sa.String(200), nullable=False, default=""),
    sa.Column("reporter", sa.String(20)),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)
_ready: set[str] = set()


class OutcomeError(ValueError):
    """A code that is not in the lists above, or an outcome recorded twice."""


@dataclass
class Outcome:
    case_id: int
    outcome: str | None
    referrals: tuple[str, ...]
    reporter: str | None

    def to_json(self) -> dict:
        return {"outcome": self.outcome, "referrals": list(self.referrals), "reporter": self.reporter}


def _engine(engine: sa.engine.Engine) -> sa.engine.Engine:
    if str(engine.url) not in _ready:
        metadata.create_all(engine)
        _ready.add(str(engine.url))
    return engine


def check(
    outcome: str | None, referrals: Iterable[str], reporter: str | None
) -> tuple[str | None, tuple[str, ...], str | None]:
    """The codes, or OutcomeError. Each field may be skipped (None / empty), as a button may be."""
    refs = tuple(dict.fromkeys(str(r) for r in referrals or ()))
    if outcome is not None and outcome not in OUTCOMES:
        raise OutcomeError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if any(r not in REFERRALS for r in refs):
        raise OutcomeError(f"referrals must be among {', '.join(REFERRALS)}")
    if reporter is not None and reporter not in REPORTERS:
        raise OutcomeError(f"reporter must be one of {', '.join(REPORTERS)}")
    return outcome, refs, reporter


def record(
    engine: sa.engine.Engine,
    case_id: int,
    outcome: str | None,
    referrals: Iterable[str],
    reporter: str | None,
) -> Outcome:
    """Store a case's outcome once (OutcomeError if it was already recorded or a code is unknown).

    A row whose outcome was skipped (the other answers given) stays "missing outcome", in the API as in
    the report, and its outcome may be filled in once later; its referrals and reporter are kept."""
    outcome, refs, reporter = check(outcome, referrals, reporter)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    try:
        with _engine(engine).begin() as conn:
            if outcome is not None:
                filled = conn.execute(
                    outcomes_table.update()
                    .where(outcomes_table.c.case_id == case_id, outcomes_table.c.outcome.is_(None))
                    .values(outcome=outcome, recorded_at=now)
                ).rowcount
                if filled:
                    row = conn.execute(
                        sa.select(outcomes_table).where(outcomes_table.c.case_id == case_id)
                    ).one()
                    return _outcome(row)
            conn.execute(
                outcomes_table.insert().values(
                    case_id=case_id,
                    outcome=outcome,
                    referrals=",".join(refs),
                    reporter=reporter,
                    recorded_at=now,
                )
            )
    except sa.exc.IntegrityError as exc:
        raise OutcomeError(f"case {case_id} already has an outcome") from exc
    return Outcome(case_id, outcome, refs, reporter)


def _outcome(row: Any) -> Outcome:
    return Outcome(row.case_id, row.outcome, tuple(r for r in row.referrals.split(",") if r), row.reporter)


def get(engine: sa.engine.Engine, case_id: int) -> Outcome | None:
    with _engine(engine).connect() as conn:
        row = conn.execute(sa.select(outcomes_table).where(outcomes_table.c.case_id == case_id)).first()
    return None if row is None else _outcome(row)


def recorded_ids(engine: sa.engine.Engine) -> list[int]:
    """Cases whose outcome is known (a row with a skipped outcome does not count)."""
    with _engine(engine).connect() as conn:
        query = sa.select(outcomes_table.c.case_id).where(outcomes_table.c.outcome.is_not(None))
        return [r.case_id for r in conn.execute(query)]
