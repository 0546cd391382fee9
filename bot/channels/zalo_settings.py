"""Settings of the Zalo Official Account channel, read from the environment when asked.

| variable | meaning | default |
|---|---|---|
| `ZALO_APP_ID` | id of the Zalo app linked to the OA; unset = channel off (route answers 503) | unset |
| `ZALO_APP_SECRET` | the app's secret key: header `secret_key` of the token refresh | unset |
| `ZALO_OA_SECRET_KEY` | the OA secret key: checks `X-ZEvent-Signature` of every webhook event | unset |
| `ZALO_ACCESS_TOKEN`, `ZALO_REFRESH_TOKEN` | the first token pair (from the OA's authorisation); the rotated pair then lives in the case store (`zalo_tokens`) | unset |
| `ZALO_API_URL` | OpenAPI host (`/v3.0/oa/message/cs`) | `https://openapi.zalo.me` |
| `ZALO_OAUTH_URL` | OAuth host (`/v4/oa/access_token`) | `https://oauth.zaloapp.com` |
| `ZALO_MAX_EVENT_AGE_SECONDS` | events older than this (by their own `timestamp`) are refused as replays | 300 |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_API_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_URL = "https://oauth.zaloapp.com"
WEBHOOK_PATH = "/webhooks/zalo/webhook"
SIGNATURE_HEADER = "X-ZEvent-Signature"
DEFAULT_MAX_EVENT_AGE = 300.0


@dataclass(frozen=True)
class ZaloSettings:
    app_id: str | None = None
    app_secret: str = ""
    oa_secret_key: str = ""
    access_token: str = ""
    refresh_token: str = ""
    api_url: str = DEFAULT_API_URL
    oauth_url: str = DEFAULT_OAUTH_URL
    max_event_age: float = DEFAULT_MAX_EVENT_AGE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ZaloSettings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return (env.get(name) or "").strip()

        try:
            max_age = float(get("ZALO_MAX_EVENT_AGE_SECONDS") or DEFAULT_MAX_EVENT_AGE)
        except ValueError:
            max_age = DEFAULT_MAX_EVENT_AGE
        return cls(
            app_id=get("ZALO_APP_ID") or None,
            app_secret=get("ZALO_APP_SECRET"),
            oa_secret_key=get("ZALO_OA_SECRET_KEY"),
            access_token=get("ZALO_ACCESS_TOKEN"),
            refresh_token=get("ZALO_REFRESH_TOKEN"),
            api_url=(get("ZALO_API_URL") or DEFAULT_API_URL).rstrip("/"),
            oauth_url=(get("ZALO_OAUTH_URL") or DEFAULT_OAUTH_URL).rstrip("/"),
            max_event_age=max_age,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def message_url(self) -> str:
        return f"{self.api_url}/v3.0/oa/message/cs"

    @property
    def token_url(self) -> str:
        return f"{self.oauth_url}/v4/oa/access_token"

    def __repr__(self) -> str:  # never print a secret or a token
        return (
            f"ZaloSettings(enabled={self.enabled}, app_id={self.app_id!r}, api_url={self.api_url!r}, "
            f"oauth_url={self.oauth_url!r}, signature_key={'set' if self.oa_secret_key else 'MISSING'}, "
            f"max_event_age={self.max_event_age})"
        )
