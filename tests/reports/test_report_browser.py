"""The monthly report in headless Chromium: charts load from the file alone, and it prints on A4.

`python tests/reports/test_report_browser.py` retakes docs/screenshots/report-2026-11.png.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def build(tmp: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_monthly import synthetic_month

    from bot.reports import events, monthly

    engine = sa.create_engine(f"sqlite:///{tmp / 'events.db'}", future=True)
    events.add_many(synthetic_month(), engine=engine)
    return monthly.write(events.month_events("2026-11", engine=engine), "2026-11", tmp, 5) / "index.html"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (make chromium)")
def test_report_renders_offline_and_prints_on_a4(tmp_path):
    from playwright.sync_api import sync_playwright

    page_file = build(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 900, "height": 1200}, offline=True)
        page = context.new_page()
        page.goto(page_file.as_uri())
        loaded = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
        assert loaded == [True, True, True]
        assert "Trong tháng 11/2026" in page.inner_text(".headline")
        pdf = page.pdf(format="A4")
        browser.close()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert 2 <= pages <= 5, pages  # a short report: a few A4 pages, charts not cut off the page width


if __name__ == "__main__":
    import tempfile

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_file = build(Path(tmp))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_context(viewport={"width": 820, "height": 1100}).new_page()
            page.goto(page_file.as_uri())
            out = ROOT / "docs" / "screenshots" / "report-2026-11.png"
            page.screenshot(path=str(out), full_page=True)
            browser.close()
        print(out)
