"""Outgoing message shaping: splitting long replies and turning Rasa buttons into inline keyboards.

Replies are sent as plain text (no `parse_mode`), so nothing in a reply can break Telegram's
entity parser and nothing needs escaping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_MESSAGE_LENGTH = 4096  # Telegram's limit, counted in UTF-16 code units
MAX_CALLBACK_DATA_BYTES = 64
LONG_PAYLOAD_PREFIX = "p:"

_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]»”’]*(?=\s)")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> str:
    """Longest prefix of `text` whose UTF-16 length is at most `limit`."""
    if utf16_len(text) <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _best_cut(window: str) -> int:
    """Index at which to cut `window`: paragraph, line, sentence, clause, word, else hard."""
    floor = len(window) // 4
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator)
        if at > floor:
            return at
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() > floor]
    if ends:
        return ends[-1]
    for separator in ("; ", ", ", " "):
        at = window.rfind(separator)
        if at > floor:
            return at + 1
    return len(window)


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split `text` into chunks of at most `limit` UTF-16 units, at the most natural boundary."""
    text = (text or "").strip()
    chunks: list[str] = []
    while text and utf16_len(text) > limit:
        window = _fitting_prefix(text, limit)
        cut = _best_cut(window) or len(window)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            chunks.append(head)
    if text:
        chunks.append(text)
    return chunks


def _callback_data(payload: str, store_long_payload: Callable[[str], str]) -> str:
    if len(payload.encode()) <= MAX_CALLBACK_DATA_BYTES and not payload.startswith(LONG_PAYLOAD_PREFIX):
        return payload
    return store_long_payload(payload)


def build_keyboard(
    buttons: Iterable[dict[str, Any]] | None, store_long_payload: Callable[[str], str]
) -> InlineKeyboardMarkup | None:
    """Rasa buttons (`title` + `payload`, or `url`) as an inline keyboard, one button per row."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons or []:
        title = str(button.get("title") or button.get("payload") or "").strip()
        if not title:
            continue
        url = button.get("url")
        if url:
            rows.append([InlineKeyboardButton(title, url=str(url))])
            continue
        payload = str(button.get("payload") or title)
        rows.append([InlineKeyboardButton(title, callback_data=_callback_data(payload, store_long_payload))])
    return InlineKeyboardMarkup(rows) if rows else None


def resolve_callback_data(data: str | None, load_long_payload: Callable[[str], str | None]) -> str | None:
    """The Rasa payload behind a pressed button's `callback_data`."""
    if not data:
        return None
    if data.startswith(LONG_PAYLOAD_PREFIX):
        return load_long_payload(data)
    return data
