"""`make validate` (second step): check content/directory.yml (bot/directory.py `validate`).

Exit 1 on an error (a malformed phone, a missing date, a district...); warnings (an entry verified
more than a year ago) are printed and do not fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from bot import directory


def main(argv: list[str]) -> int:
    file = Path(argv[0]) if argv else directory.path()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        print(f"ERROR {file}: {exc}")
        return 1
    errors, warnings = directory.validate(raw)
    for line in errors:
        print(f"ERROR {file}: {line}")
    for line in warnings:
        print(f"WARNING {file}: {line}")
    if errors:
        return 1
    items = raw["entries"]
    templates = sum(1 for i in items if i.get("template"))
    national = sum(1 for i in items if not i.get("template") and i.get("area") == directory.NATIONAL)
    print(
        f"{file}: OK, {national} national entries, {len(items) - templates - national} local entries, "
        f"{templates} empty templates (not shown), {len(warnings)} warning(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
