"""The local help directory: the shipped file, the validator, the lookup, the actions, the alert, the page."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.directory import ActionSetArea, ActionShowDirectory
from bot import directory
from bot.handoff import texts
from bot.handoff.store import Case
from bot.reports import events

_spec = importlib.util.spec_from_file_location(
    "validate_directory", Path(__file__).parents[2] / "scripts" / "validate_directory.py"
)
validate_directory = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(validate_directory)

TODAY = dt.date(2026, 11, 29)


def local(id_: str, commune: str, helps: list, phone: str = "0215 3862 111", checked=TODAY) -> dict:
    return {
        "id": id_,
        "name": f"Nơi giúp {id_}",
        "helps_with": helps,
        "phone": phone,
        "hours": "7:00-17:00",
        "area": {"province": "Điện Biên", "commune": commune},
        "verified_on": checked,
    }


NATIONAL = yaml.safe_load(directory.DEFAULT_FILE.read_text(encoding="utf-8"))["entries"][:4]


@pytest.fixture()
def two_areas(tmp_path, monkeypatch) -> Path:
    """A district's filled file: two communes (test numbers, not real ones)."""
    file = tmp_path / "directory.yml"
    entries = NATIONAL + [
        local("police-a", "Quài Cang", ["police"]),
        local("health-a", "Quài Cang", ["health"]),
        local("social-b", "Mường Thín", ["social_protection"], phone="0987.654.321"),
    ]
    file.write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("DIRECTORY_FILE", str(file))
    return file


@pytest.fixture()
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'handoff.db'}")


def test_shipped_file_has_the_national_numbers_and_only_empty_templates():
    raw = yaml.safe_load(directory.DEFAULT_FILE.read_text(encoding="utf-8"))
    assert directory.validate(raw, TODAY) == ([], [])
    shown = directory.load(directory.DEFAULT_FILE)
    assert sorted(e.phone for e in shown) == ["111", "113", "114", "115"] and not any(e.local for e in shown)
    templates = [e for e in raw["entries"] if e.get("template")]
    assert templates and all(not e["phone"] and not e["verified_on"] for e in templates)
    assert all("district" not in (e.get("area") or {}) for e in templates if isinstance(e.get("area"), dict))


@pytest.mark.parametrize(
    "entry,message",
    [
        (local("x", "Quài Cang", ["police"], phone="12345"), "not a Vietnamese number"),
        (local("x", "Quài Cang", ["police"], phone=""), "not a Vietnamese number"),
        (local("x", "", ["police"]), "area must be"),
        (
            {
                **local("x", "Quài Cang", ["police"]),
                "area": {"province": "Điện Biên", "district": "Tuần Giáo", "commune": "Quài Cang"},
            },
            "districts no longer exist",
        ),
        (local("x", "Quài Cang", ["magic"]), "helps_with"),
        (local("x", "Quài Cang", ["police"], checked=None), "verified_on must be a date"),
        (local("x", "Quài Cang", ["police"], checked="29/11/2026"), "verified_on must be a date"),
        (local("x", "Quài Cang", ["police"], checked=dt.date(2027, 1, 1)), "in the future"),
        ({**NATIONAL[0], "id": "x", "phone": "1900 1234"}, "must be 111, 113, 114 or 115"),
        ({"id": "x", "template": True, "phone": "0215 3862 111"}, "a template with a phone"),
        (NATIONAL[0], "duplicate id"),
    ],
)
def test_validator_errors(entry, message):
    errors, _ = directory.validate({"entries": NATIONAL + [entry]}, TODAY)
    assert any(message in e for e in errors), errors


def test_an_entry_older_than_a_year_is_a_warning_not_an_error():
    old = local("old", "Quài Cang", ["police"], checked=TODAY - dt.timedelta(days=400))
    errors, warnings = directory.validate({"entries": NATIONAL + [old]}, TODAY)
    assert errors == [] and len(warnings) == 1 and "more than a year ago" in warnings[0]


def test_validate_script(tmp_path, capsys):
    assert validate_directory.main([str(directory.DEFAULT_FILE)]) == 0
    assert "OK, 4 national entries, 0 local entries, 4 empty templates" in capsys.readouterr().out
    bad = tmp_path / "bad.yml"
    bad.write_text(
        yaml.safe_dump({"entries": NATIONAL + [local("x", "Quài Cang", ["police"], phone="911")]}),
        encoding="utf-8",
    )
    assert validate_directory.main([str(bad)]) == 1
    assert "ERROR" in capsys.readouterr().out


def test_lookup_by_harm_and_area(two_areas):
    entries = directory.load()
    assert directory.areas(entries) == [
        ("dien-bien/quai-cang", "Quài Cang, Điện Biên"),
        ("dien-bien/muong-thin", "Mường Thín, Điện Biên"),
    ]
    assert directory.needs_area(entries, None) and not directory.needs_area(entries, "dien-bien/quai-cang")
    ids = lambda es: [e.id for e in es]  # noqa: E731
    assert ids(directory.local_for(entries, "disclose_scam", "dien-bien/quai-cang")) == ["police-a"]
    assert ids(directory.local_for(entries, "disclose_self_harm", "dien-bien/quai-cang")) == ["health-a"]
    assert ids(directory.local_for(entries, "disclose_abuse_offline", "dien-bien/muong-thin")) == ["social-b"]
    assert ids(directory.local_for(entries, None, "dien-bien/quai-cang")) == ["police-a", "health-a"]
    assert directory.local_for(entries, None, directory.NO_AREA) == []


def test_one_area_needs_no_question(tmp_path, monkeypatch):
    file = tmp_path / "one.yml"
    file.write_text(
        yaml.safe_dump(
            {"entries": NATIONAL + [local("police-a", "Quài Cang", ["police"])]}, allow_unicode=True
        ),
        encoding="utf-8",
    )
    entries = directory.load(file)
    assert not directory.needs_area(entries, None)
    assert [e.id for e in directory.local_for(entries, "disclose_grooming", None)] == ["police-a"]


def test_an_edited_file_is_read_again(tmp_path):
    """Parsed entries are cached per version of the file: a district's edit shows without a restart."""
    file = tmp_path / "d.yml"
    write = lambda extra: file.write_text(  # noqa: E731
        yaml.safe_dump({"entries": NATIONAL + extra}, allow_unicode=True), encoding="utf-8"
    )
    write([])
    assert [e.id for e in directory.load(file)] == [e["id"] for e in NATIONAL]
    assert directory.load(file) == directory.load(file)
    write([local("police-a", "Quài Cang", ["police"])])
    assert [e.id for e in directory.load(file)][-1] == "police-a"


# --- the actions ---------------------------------------------------------------------------------
def tracker(intent: str, slots: dict, text: str = "", entities: list | None = None) -> Tracker:
    latest = {
        "text": text or f"/{intent}",
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
    }
    evs = [{"event": "user", "text": latest["text"], "parse_data": latest, "input_channel": "telegram"}]
    return Tracker("c1", slots, latest, evs, False, None, {}, "action_listen")


async def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    d = CollectingDispatcher()
    return d.messages, await action.run(d, t, {})


async def test_shipped_file_asks_nothing_and_adds_nothing_but_counts_the_disclosure(db):
    slots = {
        "risk_category": "disclose_abuse_offline",
        "risk_level": "high",
        "reporter": "adult",
        "age_band": "11-14",
    }
    messages, evs = await run(ActionShowDirectory(), tracker("disclose_abuse_offline", slots, "bố đánh cháu"))
    assert messages == [] and evs == []
    (event,) = events.month_events(events.today().strftime("%Y-%m"))
    assert (
        event["kind"],
        event["category"],
        event["level"],
        event["reporter"],
        event["age_band"],
        event["channel"],
    ) == ("disclosure", "disclose_abuse_offline", "high", "adult", "11-14", "telegram")
    messages, _ = await run(
        ActionShowDirectory(), tracker("ask_hotline", {})
    )  # /111: national numbers are in domain.yml
    assert messages == [] and len(events.month_events(events.today().strftime("%Y-%m"))) == 1


async def test_two_areas_ask_once_with_buttons_then_show_the_kind_of_help(two_areas, db):
    slots = {"risk_category": "disclose_scam"}
    messages, evs = await run(ActionShowDirectory(), tracker("disclose_scam", slots, "em bị lừa mất acc"))
    (ask,) = messages
    assert "ở xã nào" in ask["text"]
    assert [b["payload"] for b in ask["buttons"]] == [
        '/tell_area{"area": "dien-bien/quai-cang"}',
        '/tell_area{"area": "dien-bien/muong-thin"}',
        '/tell_area{"area": "none"}',
    ]
    assert evs[0]["name"] == "pending" and evs[0]["value"] == "directory:disclose_scam"
    pressed = tracker(
        "tell_area",
        {**slots, "pending": "directory:disclose_scam"},
        json.dumps({}),
        [{"entity": "area", "value": "dien-bien/quai-cang"}],
    )
    messages, evs = await run(ActionSetArea(), pressed)
    assert messages[0]["text"].splitlines() == [
        "Nơi giúp gần bạn:",
        "• Nơi giúp police-a: 0215 3862 111 (7:00-17:00)",
        "Luôn có thể gọi 111 (miễn phí, 24/7).",
    ]
    assert {e["name"]: e["value"] for e in evs} == {"area": "dien-bien/quai-cang", "pending": None}
    # chosen once: /111 later lists the area's entries without asking
    messages, _ = await run(ActionShowDirectory(), tracker("ask_hotline", {"area": "dien-bien/quai-cang"}))
    assert (
        "police-a" in messages[0]["text"]
        and "health-a" in messages[0]["text"]
        and "social-b" not in messages[0]["text"]
    )


async def test_no_area_is_remembered_and_shows_nothing_local(two_areas, db):
    messages, evs = await run(
        ActionSetArea(),
        tracker("tell_area", {"pending": "directory:hotline"}, "", [{"entity": "area", "value": "none"}]),
    )
    assert "111" in messages[0]["text"] and evs[0] == {
        "event": "slot",
        "timestamp": None,
        "name": "area",
        "value": "none",
    }
    messages, _ = await run(ActionShowDirectory(), tracker("ask_hotline", {"area": "none"}))
    assert messages == []


async def test_a_broken_file_is_an_error_log_and_no_message(tmp_path, monkeypatch, caplog, db):
    (tmp_path / "bad.yml").write_text("entries: []", encoding="utf-8")
    monkeypatch.setenv("DIRECTORY_FILE", str(tmp_path / "bad.yml"))
    messages, _ = await run(ActionShowDirectory(), tracker("ask_hotline", {}))
    assert messages == [] and "help directory not shown" in caplog.text


# --- the counsellors' alert and the web page ---------------------------------------------------------
def case(category: str) -> Case:
    now = dt.datetime(2026, 11, 29, 10, 0)
    return Case(1, now, now, "high", category, "telegram", "c1", "", "open", None)


def test_alert_lists_local_help_for_the_harm_in_the_childs_area(two_areas):
    assert texts.directory_lines(case("disclose_abuse_offline"), "dien-bien/muong-thin") == [
        "Nơi giúp tại địa phương:",
        "• Nơi giúp social-b: 0987.654.321 (7:00-17:00) – Mường Thín, Điện Biên",
    ]
    assert len(texts.directory_lines(case("disclose_self_harm"))) == 2  # no area known: every commune's
    assert texts.directory_lines(case("disclose_cyberbullying"), "dien-bien/quai-cang") == []


def test_alert_without_local_entries_is_unchanged():
    assert texts.directory_lines(case("disclose_abuse_offline")) == []


def test_web_page_list(two_areas):
    page = directory.html_list()
    assert 'href="tel:111"' in page and 'href="tel:0987654321"' in page and "Mường Thín, Điện Biên" in page
