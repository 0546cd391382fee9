"""Retention purge: delete conversations older than RETENTION_DAYS (30) and anonymise old closed cases.

    .venv/bin/python scripts/purge.py [--days N] [--now 2025-01-31T00:00] [--dry-run] [--endpoints endpoints.yml]

The tracker store comes from endpoints.yml (`tracker_store:`), the case store from DATABASE_URL.
Prints counts only (never message text or conversation ids). `make purge` runs it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.handoff import service  # noqa: E402
from bot.handoff.store import shared_store  # noqa: E402
from bot.privacy import retention  # noqa: E402


def parse_now(value: str) -> dt.datetime:
    """ISO date or time; "Z" or an offset are honoured, a naive time is UTC."""
    try:
        return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now wants an ISO time like 2025-01-31T12:00, not {value!r}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=int, default=None, help="retention in days (default: RETENTION_DAYS or 30)"
    )
    parser.add_argument(
        "--now", type=parse_now, default=None, help="the time to purge at, ISO (default: now)"
    )
    parser.add_argument("--dry-run", action="store_true", help="count what would be purged, change nothing")
    parser.add_argument(
        "--endpoints", default=str(ROOT / "endpoints.yml"), help="endpoints.yml with tracker_store"
    )
    parser.add_argument(
        "--tracker-url", default=None, help="SQLAlchemy URL of the tracker store (overrides endpoints)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        days = retention.retention_days(args.days)
    except ValueError as exc:
        parser.error(str(exc))
    report = retention.purge(
        now=args.now,
        days=days,
        tracker=args.tracker_url or retention.tracker_url(args.endpoints),
        purge_cases=functools.partial(service.purge_closed, shared_store()),  # DATABASE_URL's cases
        dry_run=args.dry_run,
    )
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
