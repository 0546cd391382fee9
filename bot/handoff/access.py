"""Who the counsellors are, and what each one did: per-counsellor API tokens, roles, an audit log.

- Each counsellor on the HTTP API has their own token; only its SHA-256 is stored (`handoff_counsellors`),
  so the database never holds a usable token. The token says who calls: a caller's "counsellor" field
  is ignored. Role `counsellor` or `supervisor` (a supervisor may answer and close a case another
  counsellor claimed). `COUNSELLOR_API_TOKEN`, the shared operator token of before, still works as a
  supervisor whose name is the "counsellor" field (docs/handoff.md: prefer personal tokens).
- On Telegram, `COUNSELLOR_SUPERVISOR_IDS` (user ids) are supervisors; other `COUNSELLOR_IDS` counsellors.
- `handoff_audit` is append-only (this module only inserts): who read, listed, claimed, answered or
  closed which case, and when. Never message text.
- Failed tokens are slowed down per client address (`Backoff`).

    python -m bot.handoff.access issue Lan [--supervisor]   # prints the token once
    python -m bot.handoff.access revoke Lan
    python -m bot.handoff.access list
    python -m bot.handoff.access audit [--case 12]
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore, shared_store, utcnow

COUNSELLOR, SUPERVISOR = "counsellor", "supervisor"
#: Sender ids the bot gives anonymised cases and Telegram chats: no client may pick them.
RESERVED_SENDER_PREFIXES = ("deleted:", "tg:", "zalo:")

Base = declarative_base()


class CounsellorRow(Base):
    __tablename__ = "handoff_counsellors"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    name = sa.Column(sa.String(60), nullable=False, index=True)
    role = sa.Column(sa.String(20), nullable=False, default=COUNSELLOR)
    token_sha256 = sa.Column(sa.String(64), nullable=False, unique=True)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    revoked_at = sa.Column(sa.DateTime)


class AuditRow(Base):
    __tablename__ = "handoff_audit"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    at = sa.Column(sa.DateTime, nullable=False, default=utcnow, index=True)
    actor = sa.Column(sa.String(120), nullable=False)
    action = sa.Column(sa.String(30), nullable=False)
    case_id = sa.Column(sa.Integer, index=True)


@dataclass(frozen=True)
class Counsellor:
    name: str
    role: str

    @property
    def label(self) -> str:
        return f"api:{self.name}"

    @property
    def supervisor(self) -> bool:
        return self.role == SUPERVISOR


_ready: set[int] = set()


def _session(store: HandoffStore):  # type: ignore[no-untyped-def]
    engine = store.engine
    if id(engine) not in _ready:
        Base.metadata.create_all(engine)
        _ready.add(id(engine))
    return store.session()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(store: HandoffStore, name: str, role: str = COUNSELLOR) -> str:
    """A new token for `name` (shown once; earlier tokens of the same name stay until revoked)."""
    name = name.strip()[:60]
    if not name or role not in (COUNSELLOR, SUPERVISOR):
        raise ValueError("a name and a role (counsellor or supervisor) are required")
    token = secrets.token_urlsafe(32)
    with _session(store) as session:
        session.add(CounsellorRow(name=name, role=role, token_sha256=_hash(token)))
    return token


def revoke(store: HandoffStore, name: str) -> int:
    """Revoke every active token of `name`; returns how many."""
    with _session(store) as session:
        rows = session.query(CounsellorRow).filter(
            CounsellorRow.name == name, CounsellorRow.revoked_at.is_(None)
        )
        return rows.update({"revoked_at": utcnow()})


def identify(store: HandoffStore, token: str) -> Counsellor | None:
    """The counsellor whose active token this is, else None."""
    if not token:
        return None
    with _session(store) as session:
        row = (
            session.query(CounsellorRow)
            .filter(CounsellorRow.token_sha256 == _hash(token), CounsellorRow.revoked_at.is_(None))
            .first()
        )
        return Counsellor(row.name, row.role) if row else None


def any_tokens(store: HandoffStore) -> bool:
    with _session(store) as session:
        return session.query(CounsellorRow.id).filter(CounsellorRow.revoked_at.is_(None)).first() is not None


def audit(store: HandoffStore, actor: str, action: str, case_id: int | None = None) -> None:
    """Append one line to the audit log (who, what, which case; never text)."""
    with _session(store) as session:
        session.add(AuditRow(actor=actor[:120], action=action[:30], case_id=case_id, at=utcnow()))


def audit_log(store: HandoffStore, case_id: int | None = None) -> list[dict[str, Any]]:
    with _session(store) as session:
        query = session.query(AuditRow)
        if case_id is not None:
            query = query.filter(AuditRow.case_id == case_id)
        return [
            {"at": r.at.isoformat() + "Z", "actor": r.actor, "action": r.action, "case": r.case_id}
            for r in query.order_by(AuditRow.id)
        ]


def supervisor_ids(environ: dict | None = None) -> frozenset[int]:
    """`COUNSELLOR_SUPERVISOR_IDS` (HandoffSettings)."""
    return HandoffSettings.from_env(environ or None).supervisor_ids


def may_act_on(case: Any, who: str, supervisor: bool) -> bool:
    """Only the counsellor who claimed a case (or a supervisor) answers and closes it."""
    return supervisor or case.status != "claimed" or case.counsellor == who


def reserved_sender(sender_id: str) -> bool:
    return str(sender_id).startswith(RESERVED_SENDER_PREFIXES)


class Backoff:
    """Failed tokens per client: after `free` failures, each further attempt waits twice as long
    (1 s, 2 s, 4 s … up to `cap`); a success clears the record."""

    def __init__(self, free: int = 5, cap: float = 300.0, clock: Any = time.monotonic) -> None:
        self.free, self.cap, self.clock = free, cap, clock
        self._failures: dict[str, tuple[int, float]] = {}

    def blocked_for(self, key: str) -> float:
        count, until = self._failures.get(key, (0, 0.0))
        return max(0.0, until - self.clock())

    def failed(self, key: str) -> None:
        count, _ = self._failures.get(key, (0, 0.0))
        count += 1
        wait = 0.0 if count <= self.free else min(self.cap, 2.0 ** (count - self.free - 1))
        self._failures[key] = (count, self.clock() + wait)
        if len(self._failures) > 10000:  # a flood of addresses: forget the oldest half
            for stale in list(self._failures)[:5000]:
                del self._failures[stale]

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.handoff.access", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue", help="issue a token for a counsellor (printed once)")
    issue.add_argument("name")
    issue.add_argument("--supervisor", action="store_true")
    sub.add_parser("revoke", help="revoke every token of a counsellor").add_argument("name")
    sub.add_parser("list", help="counsellors with an active token")
    log = sub.add_parser("audit", help="the audit log")
    log.add_argument("--case", type=int)
    a = ap.parse_args(argv)
    store = shared_store()
    if a.command == "issue":
        print(issue_token(store, a.name, SUPERVISOR if a.supervisor else COUNSELLOR))
    elif a.command == "revoke":
        print(f"{revoke(store, a.name)} token(s) revoked")
    elif a.command == "list":
        with _session(store) as session:
            for row in (
                session.query(CounsellorRow)
                .filter(CounsellorRow.revoked_at.is_(None))
                .order_by(CounsellorRow.id)
            ):
                print(f"{row.name}\t{row.role}\tsince {row.created_at:%Y-%m-%d}")
    else:
        for line in audit_log(store, a.case):
            print(f"{line['at']}\t{line['actor']}\t{line['action']}\t{line['case'] or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
