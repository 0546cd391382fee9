"""Score a running bot on the blind sets (tests/eval/blind/<set>/), with ../shared/eval/evaluate.py.

A blind set is written by someone who never read our training data or patterns, and is never read
by whoever writes them (docs/evaluation.md). Each set folder may hold:
- risk.jsonl + nonrisk.jsonl: scored together by evaluate.py, with the dialogue (111, risk_level);
- chatter.jsonl: ordinary social-media text, scored by evaluate.py on /model/parse only, and sent
  through the REST channel to count the urgent cases it would open (each pages a counsellor).

    python scripts/eval_blind.py --url http://localhost:5005 [--token T] [SET_DIR ...]

Rasa's admin API always needs its token: `--token`, else `$RASA_API_TOKEN`, else the one `make run`
generated in var/rasa_api_token (bot/api_token.py).

Prints evaluate.py's report per part, then `urgent cases opened by chatter: N of M`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLIND = ROOT / "tests" / "eval" / "blind"
EVALUATE = ROOT.parent / "shared" / "eval" / "evaluate.py"
sys.path.insert(0, str(ROOT))

from bot.api_token import DEFAULT_FILE, api_token  # noqa: E402


def default_token() -> str:
    """$RASA_API_TOKEN, else the token `make run` generated for this tree (never creates one)."""
    os.environ.setdefault("RASA_API_TOKEN_FILE", str(ROOT / DEFAULT_FILE))
    return api_token(create=False)


def _call(url: str, payload: dict | None = None) -> object:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read().decode() or "null")


def opens_urgent_case(url: str, token: str, text: str) -> bool:
    """Send `text` as a new child over REST; True when the bot ran action_create_urgent_case."""
    sender = "blind-" + uuid.uuid4().hex[:12]
    _call(f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text})
    q = f"?token={urllib.parse.quote(token)}" if token else ""
    events = _call(f"{url}/conversations/{sender}/tracker{q}")["events"]
    return any(e.get("event") == "action" and e.get("name") == "action_create_urgent_case" for e in events)


def evaluate(url: str, token: str, files: list[Path], dialogue: bool) -> str:
    cmd = [
        sys.executable,
        str(EVALUATE),
        "--url",
        url,
        *([] if dialogue else ["--no-dialogue"]),
        *map(str, files),
    ]
    env = {**os.environ, "RASA_API_TOKEN": token}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, env=env)
    return (
        out.stdout
        + out.stderr
        + ("" if out.returncode == 0 else f"\nevaluate.py exit status {out.returncode}\n")
    )


def score_set(url: str, token: str, folder: Path) -> str:
    report = []
    labelled = [folder / name for name in ("risk.jsonl", "nonrisk.jsonl") if (folder / name).exists()]
    if labelled:
        report.append(
            f"== {folder.name}: {' + '.join(p.name for p in labelled)}\n"
            + evaluate(url, token, labelled, True)
        )
    chatter = folder / "chatter.jsonl"
    if chatter.exists():
        report.append(f"== {folder.name}: chatter.jsonl\n" + evaluate(url, token, [chatter], False))
        texts = [
            json.loads(line)["text"]
            for line in chatter.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        with ThreadPoolExecutor(max_workers=4) as pool:
            urgent = sum(pool.map(lambda t: opens_urgent_case(url, token, t), texts))
        report.append(f"urgent cases opened by chatter: {urgent} of {len(texts)}\n")
    return "".join(report)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://localhost:5005")
    ap.add_argument("--token", default=None, help="Rasa admin API token (default: see above)")
    ap.add_argument("sets", nargs="*", type=Path)
    a = ap.parse_args()
    a.token = a.token if a.token is not None else default_token()
    folders = a.sets or sorted(p for p in BLIND.iterdir() if p.is_dir())
    for folder in folders:
        print(score_set(a.url, a.token, folder), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
