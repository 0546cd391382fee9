"""`make posters URL=https://…`: A4 posters per age band with QR codes to the web chat and 111 (bot/posters.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot import posters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "url", help="the web chat's public address, e.g. https://example.org/webhooks/webchat/"
    )
    parser.add_argument("--out", default="posters")
    args = parser.parse_args(argv)
    try:
        paths = posters.write_all(args.url, Path(args.out))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
