"""Decide what an incoming Telegram update means, without any network call.

`classify()` turns an `Update` into an `Inbound`: which chat, what to feed Rasa (if anything)
and which text the channel answers on its own (non-text messages, groups). The channel and
the polling runner (for its Rasa-down fallback) both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.telegram import texts


class Kind(str, Enum):
    TEXT = "text"  # text, command or edited text: feed Rasa
    CALLBACK = "callback"  # inline button pressed: answer it, feed its payload to Rasa
    MEDIA = "media"  # photo/video/document/animation/video note: privacy reply, never downloaded
    STICKER = "sticker"
    VOICE = "voice"
    LOCATION = "location"
    CONTACT = "contact"
    OTHER = "other"  # poll, dice, game...: "text only" reply
    GROUP = "group"  # addressed in a group: point to a private chat
    IGNORE = "ignore"  # service messages, unaddressed group chatter, channel posts


# Kinds the channel answers itself (Rasa never sees the content).
CANNED_REPLIES: dict[Kind, str] = {
    Kind.MEDIA: texts.MEDIA_PRIVACY,
    Kind.STICKER: texts.STICKER,
    Kind.VOICE: texts.VOICE,
    Kind.LOCATION: texts.LOCATION,
    Kind.CONTACT: texts.CONTACT,
    Kind.OTHER: texts.OTHER,
}


@dataclass(frozen=True)
class Inbound:
    update_id: int
    kind: Kind
    chat_id: int | None = None
    chat_type: str | None = None
    text: str | None = None  # what Rasa receives (None: nothing)
    reply: str | None = None  # what the channel sends itself, before Rasa's answer
    callback_query_id: str | None = None
    callback_data: str | None = None
    message_id: int | None = None
    edited: bool = False
    via: str = "text"  # text | command | button | caption (metadata for Rasa, no content)


def chat_type_of(update: Update) -> str | None:
    chat = update.effective_chat
    return chat.type if chat else None


def command_payload(text: str, bot_username: str | None = None) -> str | None:
    """Rasa payload for a Telegram command (`/start`, `/help@MyBot arg`); None if not a command."""
    if not text.startswith("/"):
        return None
    word = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    name, _, addressee = word.partition("@")
    if not name:
        return None
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None  # meant for another bot
    return texts.COMMAND_PAYLOADS.get(name.lower(), texts.UNKNOWN_COMMAND_PAYLOAD)


def is_addressed(message: Message, bot_id: int | None, bot_username: str | None) -> bool:
    """In a group: a reply to the bot, a mention of it, or a command with @botname."""
    replied = message.reply_to_message
    if replied and replied.from_user and bot_id and replied.from_user.id == bot_id:
        return True
    handle = f"@{bot_username}".lower() if bot_username else None
    for entities, parse in (
        (message.entities, message.parse_entities),
        (message.caption_entities, message.parse_caption_entities),
    ):
        if not entities:
            continue
        for entity, value in parse().items():
            if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
                return True
            if handle and entity.type == MessageEntity.MENTION and value.lower() == handle:
                return True
            if handle and entity.type == MessageEntity.BOT_COMMAND and value.lower().endswith(handle):
                return True
    return False


def _attachment_kind(message: Message) -> Kind | None:
    if message.photo or message.video or message.document or message.animation or message.video_note:
        return Kind.MEDIA
    if getattr(message, "paid_media", None):
        return Kind.MEDIA
    if message.sticker:
        return Kind.STICKER
    if message.voice or message.audio:
        return Kind.VOICE
    if message.location or message.venue:
        return Kind.LOCATION
    if message.contact:
        return Kind.CONTACT
    if message.effective_attachment is not None:
        return Kind.OTHER
    return None


def classify(update: Update, bot_id: int | None = None, bot_username: str | None = None) -> Inbound:
    """What to do with one update. `bot_username` is only needed for group chats."""
    uid = update.update_id
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message else None
        if chat is None or chat.type != ChatType.PRIVATE:
            return Inbound(uid, Kind.IGNORE, callback_query_id=query.id)
        return Inbound(
            uid,
            Kind.CALLBACK,
            chat_id=chat.id,
            chat_type=chat.type,
            callback_query_id=query.id,
            callback_data=query.data,
            via="button",
        )

    message = update.message or update.edited_message
    if message is None:
        return Inbound(uid, Kind.IGNORE)
    chat = message.chat
    base = {
        "chat_id": chat.id,
        "chat_type": chat.type,
        "message_id": message.message_id,
        "edited": update.edited_message is not None,
    }

    if chat.type != ChatType.PRIVATE:
        if message.from_user and message.from_user.is_bot:
            return Inbound(uid, Kind.IGNORE, **base)
        if is_addressed(message, bot_id, bot_username):
            return Inbound(uid, Kind.GROUP, reply=texts.group_pointer(bot_username), **base)
        return Inbound(uid, Kind.IGNORE, **base)

    if message.text:
        # Any text starting with "/" is a command: a child can never inject `/intent{...}` into Rasa.
        if message.text.startswith("/"):
            payload = command_payload(message.text, bot_username) or texts.UNKNOWN_COMMAND_PAYLOAD
            return Inbound(uid, Kind.TEXT, text=payload, via="command", **base)
        return Inbound(uid, Kind.TEXT, text=message.text, **base)

    kind = _attachment_kind(message)
    if kind is None:
        return Inbound(uid, Kind.IGNORE, **base)
    caption = (message.caption or "").strip() or None
    return Inbound(uid, kind, text=caption, reply=CANNED_REPLIES[kind], via="caption", **base)
