"""Privacy settings, read from the environment when asked (never at import time).

| variable | meaning | default |
|---|---|---|
| `RETENTION_DAYS` | conversations idle longer than this are deleted and old closed cases anonymised, daily by the server and by `make purge`; `off` leaves it to `make purge` (with `--days`) | 30 |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class PrivacySettings:
    #: As written: a whole number of days, or "off"; `retention.retention_days` checks it where it is used.
    retention_days: str = str(DEFAULT_RETENTION_DAYS)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PrivacySettings:
        env = os.environ if environ is None else environ
        return cls(retention_days=(env.get("RETENTION_DAYS") or "").strip() or str(DEFAULT_RETENTION_DAYS))

    @property
    def daily_purge(self) -> bool:
        """The server purges every day unless RETENTION_DAYS is "off"."""
        return self.retention_days.lower() != "off"
