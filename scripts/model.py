"""Print the path of a model trained on the current data, training it only if missing.

The model file is named after a hash of everything that shapes it (config, domain,
training data, our NLU code and its data files), so changing any of them trains
a new model and an unchanged tree reuses the old one.

    python scripts/model.py [--config config.yml] [--out models] [--name-prefix vi]
"""

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ["domain.yml", "data", "bot/nlu", "requirements.lock"]
# The safety net reads its patterns when the server starts; they train nothing,
# so a counsellor's edit needs a restart, not a new model.
NOT_TRAINED = {"bot/nlu/data/safety_patterns.yml"}


def fingerprint(config: Path) -> str:
    digest = hashlib.sha256(config.read_bytes())
    for item in INPUTS:
        path = ROOT / item
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            if "__pycache__" in f.parts or str(f.relative_to(ROOT)) in NOT_TRAINED:
                continue
            digest.update(str(f.relative_to(ROOT)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="config.yml")
    ap.add_argument("--out", default="models")
    ap.add_argument("--name-prefix", default="vi")
    a = ap.parse_args()
    config = ROOT / a.config
    name = f"{a.name_prefix}-{fingerprint(config)}"
    model = ROOT / a.out / f"{name}.tar.gz"
    if not model.exists():
        print(f"training {model.relative_to(ROOT)} ...", file=sys.stderr)
        rasa = Path(sys.executable).with_name("rasa")
        cmd = [
            str(rasa),
            "train",
            "--config",
            str(config),
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            a.out,
            "--fixed-model-name",
            name,
        ]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=sys.stderr)
    print(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
