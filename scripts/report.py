"""`make report MONTH=2026-11`: the anonymous monthly report (bot/reports/monthly.py) into reports/<month>/.

Reads `report_events` from the case store's database (DATABASE_URL); the target time to claim a case is
HANDOFF_TIMEOUT_MIN (the re-alert timeout, docs/handoff.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.handoff.settings import HandoffSettings
from bot.reports import events, monthly


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("month", help="YYYY-MM, e.g. 2026-11")
    parser.add_argument("--out", default="reports", help="folder for <month>/index.html and summary.csv")
    args = parser.parse_args(argv)
    try:
        month = monthly.parse_month(args.month)
    except ValueError:
        print(f"MONTH must look like 2026-11, not {args.month!r}", file=sys.stderr)
        return 2
    rows = events.month_events(month)
    folder = monthly.write(rows, month, Path(args.out), HandoffSettings.from_env().timeout_min)
    print(f"{len(rows)} events -> {folder}/index.html, {folder}/summary.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
