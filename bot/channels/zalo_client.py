"""Sending through the Zalo OA OpenAPI: customer-service messages and the token refresh.

What it relies on (docs/zalo.md says where each point was verified):
- `POST {ZALO_API_URL}/v3.0/oa/message/cs`, JSON `{"recipient": {"user_id"}, "message": {...}}`, the
  access token in a header named `access_token`. Zalo answers HTTP 200 also for failures: only
  `"error": 0` in the body is a success.
- An expired or invalid access token: HTTP 401, or `error` -216 (Chatwoot) or -124 (other
  integrations). The client refreshes once and retries once.
- `POST {ZALO_OAUTH_URL}/v4/oa/access_token`, form `refresh_token`, `app_id`, `grant_type=refresh_token`,
  header `secret_key` = the app secret; the answer holds a new `access_token`, a new single-use
  `refresh_token` and `expires_in` (seconds, often as a string). The new pair is saved (zalo_state)
  before it is used; a proactive refresh runs 5 minutes before expiry.
- Outside the 48-hour window Zalo refuses a customer-service message (`error` -213, or -230):
  `OutsideWindow`, which the handoff reports to the counsellor instead of dropping the message.
- Text is cut at 2,000 characters; Rasa buttons become a buttons template (`oa.query.show`, whose
  payload comes back as the child's message) or, beyond what Zalo takes, numbered lines.
No message text, token or secret is ever logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import httpx

from bot.channels.zalo_settings import ZaloSettings
from bot.channels.zalo_state import Tokens, ZaloState
from bot.handoff.store import ChildUnreachable, utcnow
from bot.telegram.format import split_text

logger = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
TOKEN_ERRORS = frozenset({-216, -124})
WINDOW_ERRORS = frozenset({-213, -230})
REFRESH_MARGIN = dt.timedelta(minutes=5)
WINDOW = dt.timedelta(hours=48)
CHOOSE_BY_NUMBER = "Bạn nhắn số để chọn nhé."
OUTSIDE_WINDOW_REASON = (
    "trẻ nhắn qua Zalo, và Zalo chỉ cho gửi trong 48 giờ sau tin nhắn cuối của trẻ. Trẻ cần nhắn lại trước."
)


class ZaloError(Exception):
    """Zalo refused a call (`code` from the body, or the HTTP status)."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(f"Zalo error {code}: {message}"[:200])
        self.code = code


class RefreshFailed(ZaloError):
    """No usable access token: the refresh failed (operator must authorise the OA again)."""


class OutsideWindow(ChildUnreachable):
    """Zalo accepts customer-service messages only within 48 h of the user's last message."""

    def __init__(self) -> None:
        super().__init__(OUTSIDE_WINDOW_REASON)


def numbered(text: str, buttons: list[dict[str, Any]]) -> str:
    """Buttons as numbered lines the child can answer with a digit (or the title)."""
    lines = []
    for index, button in enumerate(buttons, 1):
        title = str(button.get("title") or button.get("payload") or "").strip()
        lines.append(f"{index}. {title}" + (f": {button['url']}" if button.get("url") else ""))
    return "\n".join(filter(None, [text.strip(), "\n".join(lines), CHOOSE_BY_NUMBER]))


def template_buttons(buttons: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """A Zalo buttons template, or None when Zalo would not take these buttons."""
    if not buttons or len(buttons) > MAX_BUTTONS:
        return None
    out = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        if not title or len(title) > MAX_BUTTON_TITLE:
            return None
        if button.get("url"):
            out.append({"title": title, "type": "oa.open.url", "payload": {"url": str(button["url"])}})
        else:  # the title comes back as the child's visible message; the channel maps it to the payload
            out.append({"title": title, "type": "oa.query.show", "payload": title})
    return out


class ZaloClient:
    """Customer-service messages for one OA, with the token pair kept in `ZaloState`."""

    def __init__(
        self,
        settings: ZaloSettings,
        state: ZaloState,
        on_refresh_failed: Callable[[str], Awaitable[None]] | None = None,
        *,
        max_tries: int = 3,
        base_delay: float = 0.5,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.state = state
        self.on_refresh_failed = on_refresh_failed
        self.max_tries = max_tries
        self.base_delay = base_delay
        self._sleep = sleep
        self._http: httpx.AsyncClient | None = None
        self._refresh_lock = asyncio.Lock()
        self._last: Tokens | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=15.0)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    # --- tokens -----------------------------------------------------------------------------
    def _stored(self) -> Tokens | None:
        """The pair from the database; while the database is down, the last one read (to still send 111)."""
        try:
            self._last = self.state.tokens(self.settings.access_token, self.settings.refresh_token)
        except Exception as exc:
            if self._last is None:
                raise
            logger.error("Zalo tokens not readable (%s): using the last pair read", type(exc).__name__)
        return self._last

    async def access_token(self) -> str:
        tokens = self._stored()
        if tokens is None or not tokens.refresh_token:
            await self._refresh_failed("no token pair: set ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN")
        assert tokens is not None
        if tokens.expires_at is not None and tokens.expires_at - utcnow() < REFRESH_MARGIN:
            tokens = await self.refresh(tokens.access_token)
        return tokens.access_token

    async def refresh(self, stale_access: str) -> Tokens:
        """New pair for `stale_access`; one refresh at a time, and none if another already ran."""
        async with self._refresh_lock:
            current = self._stored()
            if current is None:
                await self._refresh_failed("no token pair")
            assert current is not None
            if current.access_token != stale_access and (
                current.expires_at is None or current.expires_at - utcnow() >= REFRESH_MARGIN
            ):
                return current  # refreshed meanwhile (another task or worker)
            try:
                reply = await self.http.post(
                    self.settings.token_url,
                    data={
                        "refresh_token": current.refresh_token,
                        "app_id": self.settings.app_id or "",
                        "grant_type": "refresh_token",
                    },
                    headers={"secret_key": self.settings.app_secret},
                )
                body = reply.json()
            except (httpx.HTTPError, ValueError) as exc:
                await self._refresh_failed(type(exc).__name__)
            if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
                again = self._stored()  # a second worker may have used the single-use token first
                if again is not None and again.refresh_token != current.refresh_token:
                    return again
                error = body.get("error") if isinstance(body, dict) else None
                name = (
                    (body.get("error_name") or body.get("error_description") or "")
                    if isinstance(body, dict)
                    else ""
                )
                await self._refresh_failed(f"error {error} {name}".strip())
            try:
                expires_in = float(body.get("expires_in") or 3600)
            except (TypeError, ValueError):
                expires_in = 3600.0
            tokens = self.state.save_tokens(str(body["access_token"]), str(body["refresh_token"]), expires_in)
            logger.info("Zalo access token refreshed (valid %.0f s)", expires_in)
            return tokens

    async def _refresh_failed(self, reason: str) -> NoReturn:
        logger.error("Zalo token refresh failed (%s): the bot cannot answer on Zalo", reason)
        if self.on_refresh_failed is not None:
            try:
                await self.on_refresh_failed(reason)
            except Exception as exc:  # noqa: BLE001 - the ERROR above stays
                logger.error("counsellors not told of the Zalo token failure: %s", type(exc).__name__)
        raise RefreshFailed(0, reason)

    # --- sending ------------------------------------------------------------------------------
    async def _post(self, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        """One API call, retried on network errors and 5xx (bounded)."""
        for attempt in range(1, self.max_tries + 1):
            try:
                reply = await self.http.post(
                    self.settings.message_url, json=body, headers={"access_token": token}
                )
                if reply.status_code < 500:
                    try:
                        data = reply.json()
                    except ValueError:
                        data = {}
                    return reply.status_code, data if isinstance(data, dict) else {}
                failure = f"HTTP {reply.status_code}"
            except httpx.TransportError as exc:
                failure = type(exc).__name__
            if attempt == self.max_tries:
                raise ZaloError(-1, failure)
            wait = self.base_delay * 2 ** (attempt - 1)
            logger.warning(
                "Zalo send failed (%s): try %d/%d, retrying in %.1f s", failure, attempt, self.max_tries, wait
            )
            await self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_message(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send one customer-service message; refresh the token once if Zalo says it expired."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        token = await self.access_token()
        for retried in (False, True):
            status, data = await self._post(body, token)
            code = _code(data, status)
            if status == 401 or code in TOKEN_ERRORS:
                if retried:
                    raise ZaloError(code or status, "access token refused after a refresh")
                logger.info("Zalo access token expired (%s): refreshing", code or status)
                token = (await self.refresh(token)).access_token
                continue
            if code in WINDOW_ERRORS:
                raise OutsideWindow()
            if code != 0 or status != 200:
                raise ZaloError(code or status, str(data.get("message") or ""))
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, user_id: str, text: str, buttons: list[dict[str, Any]] | None = None) -> int:
        """Text split under Zalo's limit; buttons on the last part (template, else numbered)."""
        buttons = [b for b in (buttons or []) if str(b.get("title") or b.get("payload") or "").strip()]
        template = template_buttons(buttons)
        if buttons and template is None:
            text = numbered(text, buttons)
        chunks = split_text(text, MAX_TEXT) or (["…"] if template else [])
        for index, chunk in enumerate(chunks):
            message: dict[str, Any] = {"text": chunk}
            if template and index == len(chunks) - 1:
                message["attachment"] = {"type": "template", "payload": {"buttons": template}}
            await self.send_message(user_id, message)
        logger.debug("Sent %d Zalo message(s)", len(chunks))
        return len(chunks)


def _code(data: dict[str, Any], status: int) -> int:
    try:
        return int(data.get("error", 0 if status == 200 else status))
    except (TypeError, ValueError):
        return -1


def outside_window(last_user_message: float | None, now: dt.datetime | None = None) -> bool:
    """True when Zalo would refuse a customer-service message (last message over 48 h ago)."""
    if last_user_message is None:
        return True
    now = now or dt.datetime.now(dt.timezone.utc)
    return now - dt.datetime.fromtimestamp(last_user_message, dt.timezone.utc) > WINDOW
