"""On Telegram, ask the counsellor who closed a case for its outcome (issue 15; docs/district.md).

After "Đóng ca" / `/dong`, one message in the counsellors' group asks three questions in turn, each a
one-tap keyboard with "Bỏ qua": the outcome; the referral targets (toggles, then "Xong"); who reported.
Callback data: `handoff:outcome:<id>:<code>`, `handoff:ref:<id>:<code>`, `handoff:who:<id>:<code>`
(codes of bot/handoff/outcomes.py, or `skip` / `done`). Each tap edits the message to show the answers so
far, so the whole group sees where it stands. After the last question `service.record_outcome` records
them, once; if every question was skipped nothing is recorded and the case stays "missing outcome".

The answers given so far wait in `handoff_outcome_drafts`, in the case database next to
`handoff_outcomes`, and not in the Telegram state file: the case database is the one every process and
instance shares, so a restart (or another instance taking the next tap) loses nothing, and one
transaction per tap keeps two counsellors' taps from both applying to the same question. A draft row is
only the codes chosen so far (no sender id, no text); it is removed once the outcome is recorded or skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.handoff import access, outcomes, service, texts
from bot.handoff.store import CaseError, HandoffStore, off_loop
from bot.telegram.client import TelegramSender

logger = logging.getLogger(__name__)

#: The questions, in the order they are asked (each is also the action of its buttons' callback data).
STEPS = ("outcome", "ref", "who")
SKIP, DONE = "skip", "done"
CODES = {
    "outcome": outcomes.OUTCOMES + (SKIP,),
    "ref": outcomes.REFERRALS + (DONE, SKIP),
    "who": outcomes.REPORTERS + (SKIP,),
}


@dataclass(frozen=True)
class Draft:
    """The answers so far; `step` is the question being asked ("" once the last one is answered)."""

    case_id: int
    step: str = "outcome"
    outcome: str | None = None
    referrals: tuple[str, ...] = ()
    reporter: str | None = None

    @property
    def empty(self) -> bool:
        return self.outcome is None and not self.referrals and self.reporter is None


class Stale(Exception):
    """A tap on a question that is not the one asked any more (someone answered it already)."""


def answer(draft: Draft, step: str, code: str) -> Draft:
    """The draft after a tap on question `step` (a code of `CODES[step]`); Stale if it is not asked now."""
    if step != draft.step:
        raise Stale(step)
    if step == "outcome":
        return replace(draft, step="ref", outcome=None if code == SKIP else code)
    if step == "ref":
        if code in (DONE, SKIP):
            return replace(draft, step="who", referrals=() if code == SKIP else draft.referrals)
        toggled = tuple(r for r in outcomes.REFERRALS if (r in draft.referrals) != (r == code))
        return replace(draft, referrals=toggled)
    return replace(draft, step="", reporter=None if code == SKIP else code)


# --- the drafts (blocking: called through off_loop) ---------------------------------------------
_metadata = sa.MetaData()
_drafts = sa.Table(
    "handoff_outcome_drafts",
    _metadata,
    sa.Column("case_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("step", sa.String(10), nullable=False),
    sa.Column("outcome", sa.String(30)),
    sa.Column("referrals", sa.String(200), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
_ready: set[str] = set()


def _engine(store: HandoffStore) -> sa.engine.Engine:
    engine = store.engine
    if str(engine.url) not in _ready:
        _metadata.create_all(engine)
        _ready.add(str(engine.url))
    return engine


def start(store: HandoffStore, case_id: int) -> Draft:
    """A close asks from the first question again (a re-opened case may have an old draft)."""
    finish(store, case_id)
    return Draft(case_id)


def tap(store: HandoffStore, case_id: int, step: str, code: str) -> Draft:
    """Apply one tap to the stored draft, in one transaction. The answer to the last question is
    returned, not stored: `finish` removes the draft once the outcome is recorded."""
    try:
        with _engine(store).begin() as conn:
            query = sa.select(_drafts).where(_drafts.c.case_id == case_id).with_for_update()
            row = conn.execute(query).first()
            draft = Draft(case_id)
            if row is not None:
                refs = tuple(r for r in row.referrals.split(",") if r)
                draft = Draft(case_id, row.step, row.outcome, refs)
            new = answer(draft, step, code)
            if new.step:
                values = {
                    "step": new.step,
                    "outcome": new.outcome,
                    "referrals": ",".join(new.referrals),
                    "updated_at": store.now(),
                }
                if row is None:
                    conn.execute(_drafts.insert().values(case_id=case_id, **values))
                else:
                    conn.execute(_drafts.update().where(_drafts.c.case_id == case_id).values(**values))
    except sa.exc.IntegrityError as exc:  # two first taps at once: the other one was first
        raise Stale(step) from exc
    return new


def finish(store: HandoffStore, case_id: int) -> None:
    with _engine(store).begin() as conn:
        conn.execute(_drafts.delete().where(_drafts.c.case_id == case_id))


# --- the message ---------------------------------------------------------------------------------
def render(draft: Draft, who: str | None = None) -> str:
    """The answers so far, then the question being asked (or, with `who`, that it was recorded)."""
    answered = STEPS.index(draft.step) if draft.step else len(STEPS)
    lines = [texts.outcome_head(draft.case_id, recorded=not draft.step, who=who)]
    lines += texts.outcome_answer_lines(draft.outcome, draft.referrals, draft.reporter)[:answered]
    if draft.step:
        lines.append(texts.OUTCOME_QUESTIONS[draft.step])
    return "\n".join(lines)


def keyboard(draft: Draft) -> InlineKeyboardMarkup:
    """The buttons of the question being asked: one outcome per row; referrals and reporters two a row."""

    def button(title: str, code: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(title, callback_data=f"handoff:{draft.step}:{draft.case_id}:{code}")

    if draft.step == "outcome":
        rows = [[button(texts.OUTCOME_LABELS[c], c)] for c in outcomes.OUTCOMES]
        rows.append([button(texts.SKIP_BUTTON, SKIP)])
    elif draft.step == "ref":
        mark = {r: texts.CHOSEN_MARK for r in draft.referrals}
        choices = [button(mark.get(r, "") + texts.REFERRAL_LABELS[r], r) for r in outcomes.REFERRALS]
        rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
        rows.append([button(texts.DONE_BUTTON, DONE), button(texts.SKIP_BUTTON, SKIP)])
    else:
        choices = [button(texts.REPORTER_LABELS[r], r) for r in outcomes.REPORTERS]
        rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
        rows.append([button(texts.SKIP_BUTTON, SKIP)])
    return InlineKeyboardMarkup(rows)


# --- Telegram ------------------------------------------------------------------------------------
async def ask(store: HandoffStore, chat_id: int, case_id: int, sender: TelegramSender) -> None:
    """Send the first question about a case just closed. Never raises: the case is closed whatever
    happens here, and its outcome can still be recorded on the API (it is listed as missing)."""
    try:
        draft = await off_loop(start, store, case_id)
        await sender.send_text(chat_id, render(draft), keyboard(draft))
    except Exception as exc:  # noqa: BLE001 - never undo or block the close
        logger.error(
            "handoff: outcome question for case %s not sent (%s): record it on the API (missing outcome)",
            case_id,
            type(exc).__name__,
        )


async def on_tap(
    store: HandoffStore, query: Any, sender: TelegramSender, step: str, case_id: int, code: str, who: str
) -> None:
    """One tap of an authorised counsellor: the next question, or the outcome recorded once."""
    if code not in CODES[step]:
        await sender.answer_callback(query.id)
        return
    try:
        draft = await off_loop(tap, store, case_id, step, code)
    except Stale:
        recorded = await off_loop(outcomes.get, store.engine, case_id)
        await sender.answer_callback(
            query.id, texts.outcome_already(case_id) if recorded else texts.OUTCOME_STALE
        )
        return
    if draft.step:
        await _edit(sender, query, render(draft), keyboard(draft))
        await sender.answer_callback(query.id)
        return
    text, notice = await _record(store, draft, who)
    await _edit(sender, query, text, None)
    await sender.answer_callback(query.id, notice)


async def _record(store: HandoffStore, draft: Draft, who: str) -> tuple[str, str]:
    """Record the answers (unless all were skipped); the message's last text and the tap's notice."""
    case_id = draft.case_id
    if draft.empty:
        await off_loop(finish, store, case_id)
        return texts.outcome_skipped_text(case_id), texts.OUTCOME_SKIPPED
    try:
        await off_loop(service.record_outcome, store, case_id, draft.outcome, draft.referrals, draft.reporter)
    except outcomes.OutcomeError:  # recorded meanwhile (on the API, or by another instance)
        await off_loop(finish, store, case_id)
        got = await off_loop(outcomes.get, store.engine, case_id)
        if got is not None:  # show what was recorded, not what was tapped
            draft = replace(draft, outcome=got.outcome, referrals=got.referrals, reporter=got.reporter)
        return render(draft), texts.outcome_already(case_id)
    except CaseError as exc:  # re-opened meanwhile: the next close asks again
        await off_loop(finish, store, case_id)
        text = texts.outcome_not_recorded(case_id, str(exc))
        return text, text
    await off_loop(finish, store, case_id)
    await off_loop(access.audit, store, who, "outcome", case_id)  # like the API
    logger.info("handoff case %s: outcome recorded by %s", case_id, who)
    return render(draft, who=who), texts.OUTCOME_SAVED


async def _edit(sender: TelegramSender, query: Any, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show the answers on the message itself; a failed edit changes nothing that was recorded."""
    message = query.message
    if message is None:
        return
    try:
        await sender.call(
            sender.bot.edit_message_text,
            chat_id=message.chat.id,
            message_id=message.message_id,
            text=texts.fit(text),
            reply_markup=markup,
        )
    except TelegramError as exc:
        logger.warning("handoff: outcome message not edited: %s", type(exc).__name__)
