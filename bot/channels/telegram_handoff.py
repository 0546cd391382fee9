"""The counsellors' side of the Telegram channel (handoff, docs/handoff.md).

In the counsellors' group (`COUNSELLOR_CHAT_ID`), only users listed in `COUNSELLOR_IDS` may act:
- the "Nhận ca" button of an alert claims the case (the alert is edited to show who took it);
- a Telegram *reply* to any message of a case sends the reply to the child;
- `/dong <id>` or the "Đóng ca" button closes the case, then asks for its outcome, referrals and who
  reported, one tap each (`telegram_outcome`).
Anyone else is refused and the attempt is logged (case and user id only, never text).

The child's side (relaying their messages while a case is claimed) is `bot/channels/relay.py`,
shared with the web chat and REST.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Update

from bot.channels import telegram_outcome
from bot.channels.counsellor import send_counsellor_message, tell_child, tell_child_closed
from bot.handoff import access, notify, service, texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import CLAIMED, CaseError, ChildUnreachable, HandoffStore, off_loop, shared_store
from bot.telegram.client import TelegramSender

logger = logging.getLogger(__name__)

CLOSE_COMMAND = re.compile(r"^/dong(?:@\w+)?\s+#?(\d+)\s*$", re.IGNORECASE)


class TelegramHandoff:
    def __init__(self, settings: HandoffSettings | None = None, store: HandoffStore | None = None) -> None:
        self.settings = settings or HandoffSettings.from_env()
        self._store = store

    @property
    def store(self) -> HandoffStore:
        return self._store or shared_store()

    @property
    def enabled(self) -> bool:
        return self.settings.chat_id is not None

    def is_counsellor_chat(self, update: Update) -> bool:
        chat = update.effective_chat
        return self.enabled and chat is not None and chat.id == self.settings.chat_id

    # --- counsellors' group -----------------------------------------------------------
    async def handle_counsellor_update(self, update: Update, sender: TelegramSender, app: Any) -> None:
        query = update.callback_query
        if query is not None:
            await self._button(query, sender, app)
            return
        message = update.message
        if message is None or not message.text or message.from_user is None or message.from_user.is_bot:
            return
        close = CLOSE_COMMAND.match(message.text.strip())
        replied = message.reply_to_message
        if not close and replied is None:
            return  # ordinary talk between counsellors
        user = message.from_user
        if not self.settings.is_counsellor(user.id):
            logger.warning("handoff: user %s is not a counsellor: refused", user.id)
            await sender.send_text(message.chat_id, texts.NOT_ALLOWED)
            return
        if close:
            await self._close(int(close.group(1)), user, sender, app, message.chat_id)
            return
        assert replied is not None
        case_id = await off_loop(self.store.case_of_message, message.chat_id, replied.message_id)
        if case_id is None:
            return  # a reply to something that is no case
        await self._answer(case_id, user, message.text, sender, app, message.chat_id)

    async def _button(self, query: Any, sender: TelegramSender, app: Any) -> None:
        data = query.data or ""
        user = query.from_user
        action, _, rest = data.removeprefix("handoff:").partition(":")
        raw, _, code = rest.partition(":")  # `code`: the answer of an outcome question
        if not data.startswith("handoff:") or not raw.isdigit():
            await sender.answer_callback(query.id)
            return
        case_id = int(raw)
        if not self.settings.is_counsellor(user.id):
            logger.warning("handoff: user %s tried to %s case %s: refused", user.id, action, case_id)
            await sender.answer_callback(query.id, texts.NOT_ALLOWED)
            return
        if action == "claim":
            try:
                case = await off_loop(service.claim, self.store, self.settings, case_id, self.label(user))
            except CaseError as exc:
                await sender.answer_callback(query.id, f"Không nhận được: {exc}")
                return
            access.audit(self.store, self.label(user), "claim", case_id)
            await sender.answer_callback(query.id, f"Bạn đã nhận ca #{case_id}.")
            await notify.deliver_due(self.store, sender.bot)
            await tell_child(app, case.sender_id, texts.CLAIMED, case.id)
        elif action == "close":
            await sender.answer_callback(query.id, f"Đóng ca #{case_id}.")
            await self._close(case_id, user, sender, app, None)
        elif action in telegram_outcome.STEPS:
            await telegram_outcome.on_tap(self.store, query, sender, action, case_id, code, self.label(user))
        else:
            await sender.answer_callback(query.id)

    def _may_act_on(self, case: Any, user: Any) -> bool:
        """Only the counsellor who claimed the case, or a supervisor (COUNSELLOR_SUPERVISOR_IDS)."""
        return access.may_act_on(case, self.label(user), user.id in access.supervisor_ids())

    async def _close(
        self, case_id: int, user: Any, sender: TelegramSender, app: Any, chat_id: int | None
    ) -> None:
        try:
            if not self._may_act_on(await off_loop(self.store.get, case_id), user):
                logger.warning(
                    "handoff: user %s tried to close case %s claimed by another: refused", user.id, case_id
                )
                await sender.send_text(
                    chat_id or self.settings.chat_id, f"[Ca #{case_id}] {texts.NOT_CLAIMER}"
                )
                return
            case = await off_loop(service.close, self.store, self.settings, case_id, self.label(user))
        except CaseError as exc:
            if chat_id is not None:
                await sender.send_text(chat_id, f"Không đóng được: {exc}")
            return
        access.audit(self.store, self.label(user), "close", case_id)
        await notify.deliver_due(self.store, sender.bot)
        await tell_child_closed(app, case)
        await telegram_outcome.ask(self.store, self.settings.chat_id, case_id, sender)  # never raises

    async def _answer(
        self, case_id: int, user: Any, text: str, sender: TelegramSender, app: Any, chat_id: int
    ) -> None:
        who = self.label(user)
        try:
            case = await off_loop(self.store.get, case_id)
            if case.status != CLAIMED:  # answering an open case takes it
                case = await off_loop(service.claim, self.store, self.settings, case_id, who)
                await off_loop(access.audit, self.store, who, "claim", case_id)
                await notify.deliver_due(self.store, sender.bot)
        except CaseError as exc:
            await sender.send_text(chat_id, f"[Ca #{case_id}] Không gửi được: {exc}")
            return
        if not self._may_act_on(case, user):
            logger.warning(
                "handoff: user %s tried to answer case %s claimed by another: refused", user.id, case_id
            )
            await sender.send_text(chat_id, f"[Ca #{case_id}] {texts.NOT_CLAIMER}")
            return
        access.audit(self.store, who, "answer", case_id)
        try:
            await send_counsellor_message(app, self.store, case, who, text)
        except ChildUnreachable as exc:  # e.g. Zalo's 48-hour window: the child must write first
            await sender.send_text(chat_id, texts.unreachable_text(case_id, exc.reason))
        except Exception as exc:  # noqa: BLE001 - tell the counsellor, never lose silently
            logger.error("handoff: message for case %s not delivered: %s", case_id, type(exc).__name__)
            await sender.send_text(chat_id, f"[Ca #{case_id}] Chưa gửi được cho trẻ, hãy thử lại.")

    @staticmethod
    def label(user: Any) -> str:
        return f"tg:{user.id}"
