"""Case outcomes and referrals (issue 15 part 1): the store, the service, the API, and what survives deletion."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handoff import outcomes, service
from bot.handoff.outcomes import OutcomeError
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import CaseError
from bot.reports import events
from tests.support import handoff_harness as harness
from tests.support.handoff_harness import RecordingRasa, channels, child_tracker, run_action

SETTINGS = HandoffSettings(chat_id=None)


def closed_case(store, sender: str = "c1") -> int:
    case = service.request_counsellor(store, SETTINGS, sender, "telegram", "high", "disclose_grooming").case
    service.claim(store, SETTINGS, case.id, "cv")
    service.close(store, SETTINGS, case.id, "cv")
    return case.id


def test_outcome_is_coded_once_and_counted(sqlite_store, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", sqlite_store.url)  # report events go to the same database
    case_id = closed_case(sqlite_store)
    assert [c.id for c in service.missing_outcomes(sqlite_store)] == [case_id]
    got = service.record_outcome(
        sqlite_store, case_id, "referred", ["police_113", "social_protection", "police_113"], "teacher"
    )
    assert got.to_json() == {
        "outcome": "referred",
        "referrals": ["police_113", "social_protection"],
        "reporter": "teacher",
    }
    assert service.missing_outcomes(sqlite_store) == []
    with pytest.raises(outcomes.OutcomeError, match="already"):
        service.record_outcome(sqlite_store, case_id, "supported_safe")
    month = events.today().strftime("%Y-%m")
    counted = [
        (e["kind"], e["outcome"], e["referral"], e["reporter"])
        for e in events.month_events(month)
        if e["kind"] in ("case_outcome", "referral")
    ]
    assert counted == [
        ("case_outcome", "referred", None, "teacher"),
        ("referral", None, "police_113", None),
        ("referral", None, "social_protection", None),
    ]


@pytest.mark.parametrize(
    "outcome,refs,reporter", [("fine", [], None), (None, ["hospital"], None), (None, [], "neighbour")]
)
def test_unknown_codes_are_refused(sqlite_store, outcome, refs, reporter):
    case_id = closed_case(sqlite_store)
    with pytest.raises(outcomes.OutcomeError):
        service.record_outcome(sqlite_store, case_id, outcome, refs, reporter)
    assert outcomes.get(sqlite_store.engine, case_id) is None


def test_skipped_outcome_stays_missing_and_open_cases_are_refused(sqlite_store):
    case_id = closed_case(sqlite_store)
    service.record_outcome(
        sqlite_store, case_id, None, [], "parent"
    )  # every button skipped but "who reported"
    assert outcomes.get(sqlite_store.engine, case_id).outcome is None
    assert [c.id for c in service.missing_outcomes(sqlite_store)] == [case_id]  # as the report counts it
    service.record_outcome(sqlite_store, case_id, "referred", ["health"], "parent")  # completed later, once
    assert outcomes.get(sqlite_store.engine, case_id).outcome == "referred"
    assert service.missing_outcomes(sqlite_store) == []
    with pytest.raises(OutcomeError):
        service.record_outcome(sqlite_store, case_id, "supported_safe")
    waiting = service.request_counsellor(sqlite_store, SETTINGS, "c2", "rest", "low", "express_distress").case
    with pytest.raises(CaseError, match="close it first"):
        service.record_outcome(sqlite_store, waiting.id, "supported_safe")
    service.cancel(sqlite_store, SETTINGS, "c2")  # cancelled by the child: no outcome is asked
    assert service.missing_outcomes(sqlite_store) == []


def test_outcome_survives_delete_my_data_and_retention(sqlite_store):
    case_id = closed_case(sqlite_store)
    service.record_outcome(sqlite_store, case_id, "supported_safe", ["111"], "child")
    service.forget(sqlite_store, SETTINGS, "c1")
    service.purge_closed(sqlite_store, dt.datetime(2100, 1, 1))
    assert outcomes.get(sqlite_store.engine, case_id).to_json() == {
        "outcome": "supported_safe",
        "referrals": ["111"],
        "reporter": "child",
    }


async def test_outcome_api(fake_api, handoff_env, tmp_path) -> None:
    from actions.handoff import ActionCreateCase

    await run_action(ActionCreateCase(), child_tracker("web-1", "rest", ["tụi nó chửi em"], "medium"))
    telegram, counsellor = channels(fake_api, tmp_path)
    async for served in harness.serve(telegram, counsellor, RecordingRasa()):
        base, h = served.url + "/webhooks/counsellor/cases", served.api_headers()
        case_id = (await served.client.get(base, headers=h)).json()["cases"][0]["id"]
        url = f"{base}/{case_id}"
        body = {"outcome": "supported_safe", "referrals": ["school"], "reporter": "child"}
        assert (
            await served.client.post(url + "/outcome", json=body, headers=h)
        ).status_code == 409  # not closed
        await served.client.post(url + "/claim", json={"counsellor": "Lan"}, headers=h)
        await served.client.post(url + "/close", json={"counsellor": "Lan"}, headers=h)
        missing = (await served.client.get(base + "?missing_outcome=1", headers=h)).json()["cases"]
        assert [c["id"] for c in missing] == [case_id]
        assert (
            await served.client.post(url + "/outcome", json={"outcome": "great"}, headers=h)
        ).status_code == 400
        assert (
            await served.client.post(url + "/outcome", json=body, headers=served.api_headers("wrong"))
        ).status_code == 401
        saved = await served.client.post(url + "/outcome", json=body, headers=h)
        assert saved.status_code == 200 and saved.json() == {"case": case_id, **body}
        assert (await served.client.post(url + "/outcome", json=body, headers=h)).status_code == 409  # once
        assert (await served.client.get(url, headers=h)).json()["outcome"] == body | {"referrals": ["school"]}
        assert (await served.client.get(base + "?missing_outcome=1", headers=h)).json()["cases"] == []
