"""The local help directory (`content/directory.yml`): read, validate, look up, format. Pure Python.

Entries are national (111, 113, 114, 115) or local to an area keyed by province and commune (the 2025
local-government reform removed districts). Templates (`template: true`) are never shown. The
national numbers are already in every safety reply of domain.yml (they work with the action server
down), so after a disclosure the bot adds only the local entries that fit the harm; `/111` lists
the local entries after the national ones. `DIRECTORY_FILE` points elsewhere (tests, a district).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.nlu.normalize import fold
from bot.settings import BotSettings

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "content" / "directory.yml"
HELPS = ("child_protection", "counselling", "police", "health", "fire", "social_protection", "school")
NATIONAL = "national"
#: An area a person does not want to (or cannot) name: nothing local is shown, nothing asked again.
NO_AREA = "none"
STALE_AFTER = dt.timedelta(days=365)

#: What helps after each kind of disclosure (issue 15: police for crimes, health for injury,
#: social protection for abuse at home). None = the `/111` list: everything.
KINDS_FOR = {
    "disclose_self_harm": ("health", "counselling"),
    "disclose_sexual_exploitation": ("police", "child_protection", "social_protection"),
    "disclose_grooming": ("police", "child_protection"),
    "disclose_abuse_offline": ("social_protection", "child_protection", "police", "health"),
    "disclose_cyberbullying": ("school", "counselling"),
    "disclose_scam": ("police",),
    "express_distress": ("counselling", "school"),
}

_SHORT = re.compile(r"^11[1345]$")  # the national short numbers
# A Vietnamese phone number as people write it: 0 + 9-10 digits, spaces, dots or dashes allowed.
_PHONE = re.compile(r"^0\d{2,3}([ .\-]?\d){6,7}$")


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    helps_with: tuple[str, ...]
    phone: str
    hours: str
    area: str  # "national" or "<province-slug>/<commune-slug>"
    area_label: str
    verified_on: dt.date | None

    @property
    def local(self) -> bool:
        return self.area != NATIONAL

    def line(self) -> str:
        return f"• {self.name}: {self.phone} ({self.hours})"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text or "").lower()).strip("-")


def area_key(area: Any) -> tuple[str, str]:
    """("national", "toàn quốc") or ("dien-bien/quai-to", "xã Quài Tở, Điện Biên") from the YAML value."""
    if area == NATIONAL:
        return NATIONAL, "toàn quốc"
    province, commune = (area or {}).get("province") or "", (area or {}).get("commune") or ""
    return f"{slug(province)}/{slug(commune)}", f"{commune}, {province}"


def validate(raw: Any, today: dt.date | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings) for the parsed YAML. Templates only need an id and `template: true`."""
    today = today or dt.date.today()
    errors: list[str] = []
    warnings: list[str] = []
    items = (raw or {}).get("entries") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        return ["the file needs a non-empty `entries:` list"], []
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        where = f"entry {n} ({(item or {}).get('id') or 'no id'})"
        if not isinstance(item, dict) or not item.get("id"):
            errors.append(f"{where}: needs an id")
            continue
        if item["id"] in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(item["id"])
        if item.get("template"):
            if item.get("phone"):
                errors.append(
                    f"{where}: a template with a phone number: set template: false once it is checked"
                )
            continue
        for key in ("name", "hours"):
            if not str(item.get(key) or "").strip():
                errors.append(f"{where}: `{key}` is empty")
        helps = item.get("helps_with")
        if not isinstance(helps, list) or not helps or any(h not in HELPS for h in helps):
            errors.append(f"{where}: helps_with must be a list of {', '.join(HELPS)}")
        area = item.get("area")
        national = area == NATIONAL
        if not national and not (
            isinstance(area, dict)
            and str(area.get("province") or "").strip()
            and str(area.get("commune") or "").strip()
        ):
            errors.append(
                f"{where}: area must be `national` or {{province, commune}} (no district since 2025)"
            )
        if isinstance(area, dict) and "district" in area:
            errors.append(f"{where}: districts no longer exist (2025 reform): use province and commune")
        phone = str(item.get("phone") or "").strip()
        if national and not _SHORT.match(phone):
            errors.append(f"{where}: a national entry must be 111, 113, 114 or 115, not {phone!r}")
        if not national and not _PHONE.match(phone):
            errors.append(f"{where}: phone {phone!r} is not a Vietnamese number (0 + 9-10 digits)")
        checked = item.get("verified_on")
        if isinstance(checked, str):
            try:
                checked = dt.date.fromisoformat(checked)
            except ValueError:
                checked = None
        if not isinstance(checked, dt.date):
            errors.append(f"{where}: verified_on must be a date (YYYY-MM-DD)")
        elif checked > today:
            errors.append(f"{where}: verified_on {checked} is in the future")
        elif today - checked > STALE_AFTER:
            warnings.append(f"{where}: verified on {checked}, more than a year ago: call the number again")
    return errors, warnings


def _entry(item: dict) -> Entry:
    key, label = area_key(item["area"])
    checked = item.get("verified_on")
    return Entry(
        id=item["id"],
        name=str(item["name"]).strip(),
        helps_with=tuple(item["helps_with"]),
        phone=str(item["phone"]).strip(),
        hours=str(item["hours"]).strip(),
        area=key,
        area_label=label,
        verified_on=dt.date.fromisoformat(checked) if isinstance(checked, str) else checked,
    )


def path() -> Path:
    return Path(BotSettings.from_env().directory_file or DEFAULT_FILE)


def load(file: Path | None = None) -> list[Entry]:
    """The shown entries (templates left out). Raises ValueError when the file does not validate."""
    file = file or path()
    stat = file.stat()
    return list(_load(file, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _load(file: Path, mtime_ns: int, size: int) -> tuple[Entry, ...]:
    """Parsed once per version of the file: parsing the YAML was a quarter of the action server's time
    under load (it runs after every disclosure). An edited file is read again on the next call."""
    raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    errors, _ = validate(raw)
    if errors:
        raise ValueError("; ".join(errors))
    return tuple(_entry(item) for item in raw["entries"] if not item.get("template"))


def areas(entries: list[Entry]) -> list[tuple[str, str]]:
    """The areas that have local entries, as (key, label), in file order."""
    found: dict[str, str] = {}
    for e in entries:
        if e.local:
            found.setdefault(e.area, e.area_label)
    return list(found.items())


def local_for(entries: list[Entry], category: str | None, area: str | None) -> list[Entry]:
    """Local entries that help with `category` (None = any) in `area`.

    With no area chosen, the one area there is counts as chosen; with several, nothing is picked
    for the person (they are asked). NO_AREA shows nothing local.
    """
    known = areas(entries)
    if area is None and len(known) == 1:
        area = known[0][0]
    kinds = KINDS_FOR.get(category or "", HELPS) if category else HELPS
    return [e for e in entries if e.local and e.area == area and set(e.helps_with) & set(kinds)]


def needs_area(entries: list[Entry], area: str | None) -> bool:
    """Ask where the person lives only when local entries exist for more than one area."""
    return area is None and len(areas(entries)) > 1


def national_lines(entries: list[Entry]) -> list[str]:
    return [e.line() for e in entries if not e.local]


def alert_lines(category: str | None, area: str | None = None, limit: int = 3) -> list[str]:
    """For the counsellors' alert: local contacts for the case's kind of harm (any area if none is known)."""
    try:
        entries = load()
    except Exception:  # noqa: BLE001 - an alert is never held back by the directory
        return []
    kinds = KINDS_FOR.get(category or "", HELPS)
    found = [e for e in entries if e.local and (area in (None, e.area)) and set(e.helps_with) & set(kinds)]
    return [f"{e.line()} – {e.area_label}" for e in found[:limit]]


def html_list() -> str:
    """The directory for the web chat page (`<!--DIRECTORY-->` in web/static/index.html): national
    numbers first, then each area's local entries. A broken file shows the national 111 line only."""
    import html

    try:
        entries = load()
    except Exception:  # noqa: BLE001 - the page must load whatever the file says
        entries = []
    national = [e for e in entries if not e.local] or [
        Entry(
            "national-111",
            "Tổng đài quốc gia bảo vệ trẻ em",
            ("child_protection",),
            "111",
            "24/7, miễn phí",
            NATIONAL,
            "toàn quốc",
            None,
        )
    ]

    def item(e: Entry) -> str:
        tel = re.sub(r"[^0-9]", "", e.phone)
        return f'<li>{html.escape(e.name)}: <a href="tel:{tel}">{html.escape(e.phone)}</a> ({html.escape(e.hours)})</li>'

    parts = ['<details class="wc-directory"><summary>Số điện thoại hỗ trợ</summary><ul>']
    parts += [item(e) for e in national]
    parts.append("</ul>")
    for key, label in areas(entries):
        parts.append(f"<p>{html.escape(label)}</p><ul>")
        parts += [item(e) for e in entries if e.area == key]
        parts.append("</ul>")
    parts.append("</details>")
    return "".join(parts)
