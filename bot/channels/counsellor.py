"""Counsellor HTTP API and handoff worker, as a Rasa input channel (runs inside `rasa run`).

In `credentials.yml`:

    bot.channels.counsellor.CounsellorInput:

Routes (JSON; header `Authorization: Bearer $COUNSELLOR_API_TOKEN`, compared in constant time;
without a configured token every route answers 503):

| method and path | what |
|---|---|
| `GET  /webhooks/counsellor/cases?status=open` | cases (all, or one status), most urgent and longest waiting first |
| `GET  /webhooks/counsellor/cases/<id>` | one case with its event history |
| `POST /webhooks/counsellor/cases/<id>/claim` `{"counsellor": "Lan"}` | open -> claimed (409 if taken) |
| `POST /webhooks/counsellor/cases/<id>/message` `{"counsellor": "Lan", "text": "..."}` | message to the child: `{"delivered": bool, "queued": bool}` |
| `POST /webhooks/counsellor/cases/<id>/close` `{"counsellor": "Lan"}` | -> closed; the child is told |
| `POST /webhooks/counsellor/cases/<id>/outcome` `{"outcome": "referred", "referrals": ["police_113"], "reporter": "teacher"}` | a closed case's coded outcome, once (bot/handoff/outcomes.py) |
| `GET  /webhooks/counsellor/cases?missing_outcome=1` | closed cases with no outcome recorded |

A counsellor's message reaches the child with Rasa's own machinery: it is appended to the child's
tracker as a bot utterance (so it is in the conversation history) and sent through the output
channel of the child's latest input channel, exactly like `trigger_intent?output_channel=latest`
(Telegram: pushed to the chat). A web chat child who is offline gets it when the widget reconnects
(`queued`; `delivered` only once the widget confirmed it). REST cannot be pushed to later: REST clients poll
their own conversation's `GET /webhooks/rest/messages` (bot/channels/rest.py), never Rasa's admin API.

The channel also runs the handoff worker in Rasa's event loop: every `HANDOFF_TICK_SECONDS` (1)
it sends what is due in the outbox (retrying failed alerts) and re-alerts cases nobody claimed
within `HANDOFF_TIMEOUT_MIN` (overdue at twice), telling the child honestly and giving 111. It also
re-alerts claimed cases whose child has waited `HANDOFF_REPLY_TIMEOUT_MIN` for the counsellor, and
tells that child 111. Every case-store call runs off the event loop with a timeout (`off_loop`):
a hung database fails the pass or the request (503), it never freezes the channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import access, notify, outcomes, service, texts
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import (
    CLAIMED,
    CLOSED,
    OPEN,
    CaseError,
    ChildUnreachable,
    HandoffStore,
    StoreUnavailable,
    off_loop,
    shared_store,
    stop_task,
)

logger = logging.getLogger(__name__)

STATUSES = (OPEN, CLAIMED, CLOSED)


def output_channel_for(app: Any, tracker: Any) -> OutputChannel | None:
    """The output channel of the conversation's latest input channel (None: nothing to push to)."""
    latest = tracker.get_latest_input_channel() if tracker is not None else None
    sender_id = str(getattr(tracker, "sender_id", ""))
    if not latest and sender_id.startswith(("tg:", "zalo:")):
        latest = "telegram" if sender_id.startswith("tg:") else "zalo"
    output: OutputChannel | None = None
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == latest:
            output = channel.get_output_channel() or output
    if output is None or isinstance(output, CollectingOutputChannel):
        return None
    return output


#: What happened to a message for the child: shown by their channel, kept for the web chat widget
#: until it reconnects, or only stored in the conversation (REST clients read the tracker).
DELIVERED, QUEUED, STORED = "delivered", "queued", "stored"


async def deliver_to_child(app: Any, sender_id: str, text: str, metadata: dict | None = None) -> str:
    """Append `text` to the child's conversation as a bot message and push it to the child's channel.

    Returns DELIVERED, QUEUED (web chat: the widget is offline or did not confirm; it gets the
    message when it reconnects) or STORED (REST: in the tracker only). Raises if the child's
    channel refuses it, so that callers can report the failure; `ChildUnreachable` (before anything
    is stored) when the channel says it cannot reach the child now (Zalo's 48-hour window).
    """
    agent = app.ctx.agent
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
        output = output_channel_for(app, tracker)
        reason = getattr(output, "unreachable_reason", lambda _: None)(tracker)
        if reason:
            raise ChildUnreachable(reason)
        tracker.update(BotUttered(text, metadata={"handoff": True, **(metadata or {})}))
        await agent.tracker_store.save(tracker)
    if output is None:
        return STORED
    deliver = getattr(output, "deliver", None)  # the web chat knows whether the widget got it
    if deliver is not None:
        return str(await deliver(sender_id, text))
    await output.send_text_message(sender_id, text)
    return DELIVERED


#: What the bot does in the child's conversation when a case is closed (responses in domain.yml):
#: it tells the child, with 111, and asks one short feedback question whose buttons rules answer.
CLOSE_ACTIONS = ("utter_case_closed", "utter_ask_feedback", "action_listen")


async def run_in_conversation(app: Any, sender_id: str, actions: tuple[str, ...]) -> None:
    """Run bot actions in the child's conversation, out through the child's channel.

    The same as `POST /conversations/<id>/execute`: the replies come from domain.yml and land in
    the tracker; `action_listen` last, so that the child's answer is read like any other.
    """
    from rasa.core.policies.policy import PolicyPrediction

    agent = app.ctx.agent
    tracker = await agent.tracker_store.get_or_create_tracker(sender_id)
    output = output_channel_for(app, tracker) or CollectingOutputChannel()
    async with agent.lock_store.lock(sender_id):
        for name in actions:
            prediction = PolicyPrediction.for_action_name(agent.domain, name)
            await agent.processor.execute_action(sender_id, name, output, agent.nlg, prediction)


async def tell_child(app: Any, sender_id: str, text: str, case_id: int) -> None:
    """A handoff notice to the child; the case changed anyway, so a failure is only logged."""
    try:
        await deliver_to_child(app, sender_id, text, {"case": case_id})
    except Exception as exc:  # noqa: BLE001 - the child may read it later in the conversation
        logger.warning("handoff notice for case %s not pushed: %s", case_id, type(exc).__name__)


async def tell_child_closed(app: Any, case: Any) -> None:
    try:
        await run_in_conversation(app, case.sender_id, CLOSE_ACTIONS)
    except Exception as exc:  # noqa: BLE001 - the case is closed anyway; the child may read it later
        logger.warning("close notice for case %s not pushed: %s", case.id, type(exc).__name__)


class CounsellorInput(InputChannel):
    """Counsellor API routes + the handoff worker (outbox delivery, timeouts)."""

    @classmethod
    def name(cls) -> str:
        return "counsellor"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> CounsellorInput:
        return cls()

    def __init__(self, settings: HandoffSettings | None = None, store: HandoffStore | None = None) -> None:
        self.settings = settings or HandoffSettings.from_env()
        self._store = store
        self.tick = self.settings.tick_seconds
        self._bot: Any = None
        self._worker: asyncio.Task | None = None
        self.backoff = access.Backoff()
        logger.info("Counsellor channel: %r", self.settings)

    @property
    def store(self) -> HandoffStore:
        return self._store or shared_store()

    def get_output_channel(self) -> OutputChannel | None:
        return None  # counsellors never talk to Rasa as users

    # --- auth -------------------------------------------------------------------------
    async def caller(self, request: Request) -> tuple[access.Counsellor | None, HTTPResponse | None]:
        """Who calls (from their own token: bot/handoff/access.py), or the refusal to answer.

        The shared COUNSELLOR_API_TOKEN is the operator's: a supervisor named by the body's "counsellor".
        Failed tokens are slowed down per client address.
        """
        client = request.remote_addr or request.ip or "?"
        wait = self.backoff.blocked_for(client)
        if wait > 0:
            return None, response.json(
                {"error": "too many failed tokens: retry later"},
                status=429,
                headers={"Retry-After": str(int(wait) + 1)},
            )
        header = request.headers.get("Authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        who = await off_loop(access.identify, self.store, token)
        if (
            who is None
            and self.settings.api_token
            and hmac.compare_digest(token.encode(), self.settings.api_token.encode())
        ):
            body = request.json if request.body else None
            name = (
                str((body or {}).get("counsellor") or "api").strip()[:60] if isinstance(body, dict) else "api"
            )
            who = access.Counsellor(name, access.SUPERVISOR)
        if who is None:
            if not self.settings.api_token and not access.any_tokens(self.store):
                return None, response.json(
                    {"error": "counsellor API disabled: issue tokens or set COUNSELLOR_API_TOKEN"}, status=503
                )
            self.backoff.failed(client)
            logger.warning("counsellor API call with a wrong token refused")
            return None, response.json({"error": "unauthorised"}, status=401)
        self.backoff.succeeded(client)
        return who, None

    # --- worker -----------------------------------------------------------------------
    @property
    def bot(self) -> Any:
        if self._bot is None:
            self._bot = notify.make_alert_bot(self.settings)
        return self._bot

    async def run_once(self, app: Any) -> None:
        """One pass of the worker: expired outbox rows, silent counsellors, timeouts, then the outbox."""
        await off_loop(notify.expire_undelivered, self.store)
        for case in await off_loop(service.due_silences, self.store, self.settings):
            # The child hears 111 now; a high or imminent disclosure gets the bot's reply again (relay.py).
            await tell_child(app, case.sender_id, texts.COUNSELLOR_SILENT, case.id)
        if not self.settings.alerts_enabled:
            return  # the child was already told that no counsellor is online, and given 111
        for case in await off_loop(service.due_timeouts, self.store, self.settings):
            logger.info("handoff case %s not claimed in time (level %s)", case.id, case.realerts)
            if case.realerts == 1:  # once: the child is told honestly and given 111
                with contextlib.suppress(Exception):
                    await deliver_to_child(app, case.sender_id, texts.TIMEOUT, {"case": case.id})
        if self.bot is not None:
            await notify.deliver_due(self.store, self.bot)

    async def _work(self, app: Any) -> None:
        while True:
            try:
                await self.run_once(app)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the worker must survive a bad pass
                logger.error("handoff worker pass failed: %s", type(exc).__name__)
            await asyncio.sleep(self.tick)

    # --- HTTP -------------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        api = Blueprint("counsellor_api", __name__)

        @api.listener("after_server_start")
        async def start_worker(app: Any, _: Any) -> None:
            if self._worker is None:
                self._worker = asyncio.ensure_future(self._work(app))

        @api.listener("before_server_stop")
        async def stop_worker(*_: Any) -> None:
            if self._worker is not None:
                await stop_task(self._worker)
                self._worker = None

        NOT_YOURS = {"error": "only the counsellor who claimed the case (or a supervisor) may do this"}

        @api.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            enabled = bool(self.settings.api_token) or access.any_tokens(self.store)
            return response.json({"status": "ok" if enabled else "disabled"})

        @api.route("/cases", methods=["GET"])
        async def list_cases(request: Request) -> HTTPResponse:
            who, refused = await self.caller(request)
            if who is None:
                return refused  # type: ignore[return-value]
            status = request.args.get("status")
            if request.args.get("missing_outcome") in ("1", "true"):
                return response.json(
                    {"cases": [c.to_json() for c in await off_loop(service.missing_outcomes, self.store)]}
                )
            if status and status not in STATUSES:
                return response.json({"error": f"status must be one of {', '.join(STATUSES)}"}, status=400)
            await off_loop(access.audit, self.store, who.label, "list")
            return response.json({"cases": [c.to_json() for c in await off_loop(self.store.list, status)]})

        @api.route("/cases/<case_id:int>", methods=["GET"])
        async def read_case(request: Request, case_id: int) -> HTTPResponse:
            who, refused = await self.caller(request)
            if who is None:
                return refused  # type: ignore[return-value]
            try:
                data = (await off_loop(self.store.get, case_id, with_history=True)).to_json(with_history=True)
            except CaseError as exc:
                return response.json({"error": str(exc)}, status=404)
            await off_loop(access.audit, self.store, who.label, "read", case_id)
            recorded = await off_loop(outcomes.get, self.store.engine, case_id)
            data["outcome"] = recorded.to_json() if recorded else None
            return response.json(data)

        @api.route("/cases/<case_id:int>/claim", methods=["POST"])
        async def claim(request: Request, case_id: int) -> HTTPResponse:
            who, refused = await self.caller(request)
            if who is None:
                return refused  # type: ignore[return-value]
            try:
                case = await off_loop(service.claim, self.store, self.settings, case_id, who.label)
            except CaseError as exc:
                return response.json({"error": str(exc)}, status=404 if "exist" in str(exc) else 409)
            access.audit(self.store, who.label, "claim", case_id)
            await tell_child(request.app, case.sender_id, texts.CLAIMED, case.id)
            return response.json(case.to_json())

        @api.route("/cases/<case_id:int>/message", methods=["POST"])
        async def message(request: Request, case_id: int) -> HTTPResponse:
            who, refused = await self.caller(request)
            if who is None:
                return refused  # type: ignore[return-value]
            body = request.json if request.body else None
            text = str((body or {}).get("text") or "").strip() if isinstance(body, dict) else ""
            if not text:
                return response.json({"error": "text is required"}, status=400)
            try:
                case = await off_loop(self.store.get, case_id)
            except CaseError as exc:
                return response.json({"error": str(exc)}, status=404)
            if case.status != CLAIMED:
                return response.json({"error": "claim the case first"}, status=409)
            if not access.may_act_on(case, who.label, who.supervisor):
                return response.json(NOT_YOURS, status=403)
            await off_loop(access.audit, self.store, who.label, "answer", case_id)
            try:
                status = await send_counsellor_message(request.app, self.store, case, who.label, text)
            except ChildUnreachable as exc:  # not dropped: the counsellor is told why, the case shows it
                return response.json(
                    {"delivered": False, "queued": False, "case": case.id, "error": exc.reason}, status=409
                )
            return response.json(
                {"delivered": status == DELIVERED, "queued": status == QUEUED, "case": case.id}
            )

        @api.route("/cases/<case_id:int>/close", methods=["POST"])
        async def close(request: Request, case_id: int) -> HTTPResponse:
            who, refused = await self.caller(request)
            if who is None:
                return refused  # type: ignore[return-value]
            try:
                if not access.may_act_on(await off_loop(self.store.get, case_id), who.label, who.supervisor):
                    return response.json(NOT_YOURS, status=403)
                case = await off_loop(service.close, self.store, self.settings, case_id, who.label)
            except CaseError as exc:
                return response.json({"error": str(exc)}, status=404 if "exist" in str(exc) else 409)
            access.audit(self.store, who.label, "close", case_id)
            await tell_child_closed(request.app, case)
            return response.json(case.to_json())

        @api.route("/cases/<case_id:int>/outcome", methods=["POST"])
        async def outcome(request: Request, case_id: int) -> HTTPResponse:
            who, refused = await self.caller(request)
            if refused is not None:
                return refused
            body = request.json if request.body else None
            body = body if isinstance(body, dict) else {}
            refs = body.get("referrals") or []
            if not isinstance(refs, list):
                return response.json({"error": "referrals must be a list"}, status=400)
            try:
                result = await off_loop(
                    service.record_outcome,
                    self.store,
                    case_id,
                    body.get("outcome"),
                    refs,
                    body.get("reporter"),
                )
            except outcomes.OutcomeError as exc:
                return response.json({"error": str(exc)}, status=409 if "already" in str(exc) else 400)
            except CaseError as exc:
                return response.json({"error": str(exc)}, status=404 if "exist" in str(exc) else 409)
            await off_loop(access.audit, self.store, who.label, "outcome", case_id)
            return response.json({"case": case_id, **result.to_json()})

        @api.exception(StoreUnavailable)
        async def store_down(request: Request, exc: Exception) -> HTTPResponse:
            return response.json({"error": "case database unavailable, retry"}, status=503)

        return api


async def send_counsellor_message(
    app: Any, store: HandoffStore, case: Any, counsellor: str, text: str
) -> str:
    """A counsellor's message to the child: history (redacted) + the child's conversation and channel.

    If the child's channel cannot take it now (`ChildUnreachable`), the case records an `undelivered`
    event with the reason and the error goes up to the caller, who tells the counsellor.
    """
    await off_loop(store.add_event, case.id, "counsellor_message", counsellor, text)
    try:
        return await deliver_to_child(app, case.sender_id, texts.COUNSELLOR_PREFIX + text, {"case": case.id})
    except ChildUnreachable as exc:
        await off_loop(store.add_event, case.id, "undelivered", "bot", exc.reason)
        logger.warning("handoff: message for case %s not deliverable now (child must write again)", case.id)
        raise
