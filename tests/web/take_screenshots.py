"""Take the screenshots of docs/web.md from a running bot (not a test).

    make run   # in another terminal, or any Rasa serving the web chat channel
    python tests/web/take_screenshots.py [http://localhost:5005]

Writes docs/screenshots/webchat-phone.png (390 px wide), webchat-desktop.png (1280 px)
and widget-desktop.png (the one-tag embed, opened) with Debian's headless Chromium.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONVERSATION = ["chao ban", "e bi nguoi la tren mang doi tung anh cua e"]


def converse(page, base: str) -> None:  # type: ignore[no-untyped-def]
    bots = page.locator(".wc-msg-bot:not([data-id='welcome'])")
    for text in CONVERSATION:
        before = bots.count()
        box = page.get_by_role("textbox", name="Tin nhắn của bạn")
        box.fill(text)
        box.press("Enter")
        expect(bots).not_to_have_count(before, timeout=30_000)
        expect(page.locator(".wc-pending")).to_have_count(0, timeout=30_000)
    page.wait_for_timeout(300)


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for name, viewport in [
            ("phone", {"width": 390, "height": 844}),
            ("desktop", {"width": 1280, "height": 800}),
        ]:
            context = browser.new_context(viewport=viewport, locale="vi-VN")
            page = context.new_page()
            page.goto(f"{base}/webhooks/webchat/")
            converse(page, base)
            page.screenshot(path=str(OUT / f"webchat-{name}.png"))
            context.close()
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
        page = context.new_page()
        page.goto(f"{base}/webhooks/webchat/embed-demo.html")
        page.get_by_role("button", name="Mở khung trò chuyện an toàn").click()
        converse(page, base)
        page.screenshot(path=str(OUT / "widget-desktop.png"))
        browser.close()
    for f in sorted(OUT.glob("*.png")):
        print(f.relative_to(ROOT))


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://localhost:5005")
