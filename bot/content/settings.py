"""Settings of the teaching content, read from the environment when asked.

| variable | meaning | default |
|---|---|---|
| `CONTENT_DIR` | folder of the content files (tips.yml, parents.yml, apps.yml, quiz.yml, teachers.yml) | `content/` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ContentSettings:
    content_dir: str = ""  # empty: library.DEFAULT_DIR

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ContentSettings:
        env = os.environ if environ is None else environ
        return cls(content_dir=env.get("CONTENT_DIR") or "")
