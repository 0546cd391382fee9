"""The chat page and the widget in headless Chromium (Debian's), driven by Playwright.

Tests marked `slow` talk to a real trained bot (`webchat_rasa`); the others use the channel
served in-process with a scripted bot, for what needs control over the bot (delays, HTML).
Every test fails on a Content-Security-Policy violation, a JavaScript error, a dialog, or a
request to anything but the bot's server.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support import webchat_harness as h

STORE_KEY = "safekids-webchat-v1"
EXIT_URL = "https://www.google.com/search?q=thoi+tiet"
PHONE = {"width": 390, "height": 844}
BOT_TIMEOUT = 30_000

# Records what the page must never do (runs before the page's own scripts; CSP does not apply).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@dataclass
class Session:
    context: BrowserContext
    page: Page
    origin: str
    allowed_origins: list[str]
    requests: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)
    frames_sent: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def check_clean(self) -> None:
        """No CSP violation, no JS error, no dialog, no request to a third party."""
        violations = await self.page.evaluate("window.__violations || []")
        assert violations == [], violations
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        for url in self.requests + self.sockets:
            origin = "{0.scheme}://{0.netloc}".format(urlparse(url)).replace("ws://", "http://")
            assert origin in self.allowed_origins or url.startswith("data:"), f"third-party request: {url}"


async def open_session(
    browser: Browser,
    origin: str,
    path: str = "/webhooks/webchat/",
    viewport: Any = PHONE,
    extra_origins: list[str] = (),
) -> Session:
    context = await browser.new_context(viewport=viewport, locale="vi-VN")
    await context.add_init_script(WATCH)
    page = await context.new_page()
    s = Session(context, page, origin, [origin, *extra_origins])
    page.on("request", lambda r: s.requests.append(r.url))
    page.on("dialog", lambda d: (s.dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
    page.on("pageerror", lambda e: s.errors.append(str(e)))

    def on_ws(ws: Any) -> None:
        s.sockets.append(ws.url)
        ws.on("framesent", lambda payload: s.frames_sent.append(payload if isinstance(payload, str) else ""))

    page.on("websocket", on_ws)
    # the quick exit's neutral site, answered locally: the tests never touch the network
    await context.route(
        "https://www.google.com/**",
        lambda route: route.fulfill(
            body="<!doctype html><title>Thời tiết</title><h1>Thời tiết hôm nay</h1>", content_type="text/html"
        ),
    )
    if path:
        await page.goto(origin + path)
        await expect(page.get_by_role("log")).to_be_visible()
    return s


@pytest.fixture
async def sessions(browser: Browser) -> AsyncIterator[Callable[..., Awaitable[Session]]]:
    opened: list[Session] = []

    async def make(*args: Any, **kwargs: Any) -> Session:
        s = await open_session(browser, *args, **kwargs)
        opened.append(s)
        return s

    yield make
    for s in opened:
        await s.context.close()


def bot_bubbles(page: Page) -> Any:
    return page.locator(".wc-msg-bot:not([data-id='welcome']) .wc-bubble")


def user_bubbles(page: Page) -> Any:
    return page.locator(".wc-msg-user .wc-bubble")


async def say(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Tin nhắn của bạn")
    await box.fill(text)
    await box.press("Enter")


async def say_and_wait(page: Page, text: str) -> None:
    """Send and wait until the bot has answered this message (its ack hides the typing dots)."""
    before = await bot_bubbles(page).count()
    await say(page, text)
    await expect(bot_bubbles(page)).not_to_have_count(before, timeout=BOT_TIMEOUT)
    await expect(page.locator(".wc-pending")).to_have_count(0, timeout=BOT_TIMEOUT)


async def session_id(page: Page) -> str:
    return await page.evaluate(f"JSON.parse(sessionStorage.getItem('{STORE_KEY}')).sessionId")


async def user_texts(url: str, conversation: str) -> list[str]:
    tracker = await asyncio.to_thread(h.tracker, url, conversation)
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


# --- with the real bot --------------------------------------------------------------------------


@pytest.mark.slow
async def test_disclosure_gets_a_reply_with_111(webchat_rasa: str, sessions: Any) -> None:
    s = await sessions(webchat_rasa)
    await expect(s.page.locator("a.wc-hotline[href='tel:111']")).to_contain_text("Gọi 111")
    await say_and_wait(s.page, "e muon chet")
    await expect(user_bubbles(s.page).last).to_have_text(re.compile("e muon chet$"))
    await expect(bot_bubbles(s.page).filter(has_text="111").first).to_be_visible()
    await expect(s.page.locator(".wc-typing")).to_be_hidden()
    # replies are links a phone can call
    await expect(s.page.locator(".wc-msg-bot a[href='tel:111']").first).to_be_visible()
    await s.check_clean()


@pytest.mark.slow
async def test_rasa_buttons_send_their_payload_and_show_their_title(webchat_rasa: str, sessions: Any) -> None:
    s = await sessions(webchat_rasa)
    await say_and_wait(s.page, "e muon chet")
    buttons = s.page.locator(".wc-msg-bot:not([data-id='welcome']) .wc-choice")
    await expect(buttons.first).to_be_visible()
    choice = buttons.last
    title = (await choice.text_content()).strip()
    before = await bot_bubbles(s.page).count()
    await choice.click()
    await expect(user_bubbles(s.page).last).to_have_text(re.compile(re.escape(title) + "$"))
    await expect(choice).to_be_disabled()
    await expect(bot_bubbles(s.page)).not_to_have_count(before, timeout=BOT_TIMEOUT)
    await expect(s.page.locator(".wc-pending")).to_have_count(0, timeout=BOT_TIMEOUT)
    # the bot received the button's payload, not its title
    tracker = await asyncio.to_thread(h.tracker, webchat_rasa, await session_id(s.page))
    offered = [
        b["payload"]
        for e in tracker["events"]
        if e["event"] == "bot"
        for b in (e.get("data") or {}).get("buttons") or []
        if b["title"] == title
    ]
    assert offered, f"no bot event offered the button {title!r}"
    assert tracker["latest_message"]["text"] == offered[-1]
    assert tracker["latest_input_channel"] == "webchat"
    await s.check_clean()


@pytest.mark.slow
async def test_html_is_shown_as_text_and_never_runs(webchat_rasa: str, sessions: Any) -> None:
    s = await sessions(webchat_rasa)
    payload = "<img src=x onerror=alert(1)>"
    await say_and_wait(s.page, payload)
    await expect(user_bubbles(s.page).last).to_have_text(re.compile(re.escape(payload) + "$"))
    assert await s.page.locator(".wc-log img").count() == 0
    await s.page.reload()
    await expect(user_bubbles(s.page).last).to_have_text(re.compile(re.escape(payload) + "$"))
    assert await s.page.locator(".wc-log img").count() == 0
    await s.check_clean()  # includes: no dialog was opened


@pytest.mark.slow
@pytest.mark.parametrize("how", ["button", "esc3"])
async def test_quick_exit_replaces_the_page_and_back_does_not_return(
    webchat_rasa: str, sessions: Any, how: str
) -> None:
    s = await sessions(webchat_rasa, path="")
    await s.page.goto(webchat_rasa + "/webhooks/webchat/health")  # the page the child came from
    await s.page.goto(webchat_rasa + "/webhooks/webchat/")
    await say_and_wait(s.page, "e bi ban be chui")
    if how == "button":
        await s.page.get_by_role("button", name="Thoát nhanh").click()
    else:
        await s.page.get_by_role("textbox", name="Tin nhắn của bạn").focus()
        for _ in range(3):
            await s.page.keyboard.press("Escape")
    await s.page.wait_for_url(EXIT_URL)
    await s.page.go_back()
    await s.page.wait_for_load_state()
    assert s.page.url == webchat_rasa + "/webhooks/webchat/health", "Back must not return to the chat"
    # nothing of the conversation is left in this tab
    assert await s.page.evaluate(f"sessionStorage.getItem('{STORE_KEY}')") is None
    await s.page.goto(webchat_rasa + "/webhooks/webchat/")
    await expect(s.page.get_by_role("log")).to_be_visible()
    await expect(user_bubbles(s.page)).to_have_count(0)


@pytest.mark.slow
async def test_reload_keeps_the_conversation(webchat_rasa: str, sessions: Any) -> None:
    s = await sessions(webchat_rasa)
    await say_and_wait(s.page, "xin chao")
    sid = await session_id(s.page)
    shown = await s.page.locator(".wc-msg").all_text_contents()
    await s.page.reload()
    await expect(s.page.locator(".wc-msg")).to_have_count(len(shown))
    assert await s.page.locator(".wc-msg").all_text_contents() == shown
    assert await session_id(s.page) == sid
    await say_and_wait(s.page, "cam on ban")
    assert await user_texts(webchat_rasa, sid) == ["xin chao", "cam on ban"]
    await s.check_clean()


@pytest.mark.slow
async def test_dropped_connection_recovers_and_delivers_queued_messages(
    webchat_rasa: str, sessions: Any
) -> None:
    target = urlparse(webchat_rasa)
    proxy = await h.CuttableProxy(target.hostname, target.port).start()
    try:
        s = await sessions(f"http://127.0.0.1:{proxy.port}")
        await say_and_wait(s.page, "xin chao")
        proxy.cut()
        await expect(s.page.get_by_role("status")).to_contain_text("Mất kết nối", timeout=15_000)
        await say(s.page, "e bi ban be chui tren mang")
        await say(s.page, "ho dang anh xau cua e")
        await expect(s.page.locator(".wc-pending")).to_have_count(2)
        await expect(s.page.locator(".wc-pending").first).to_contain_text("khi có mạng lại")
        await asyncio.sleep(3)  # reconnection attempts fail meanwhile
        await expect(s.page.locator(".wc-pending")).to_have_count(2)
        proxy.restore()
        await expect(s.page.locator(".wc-pending")).to_have_count(0, timeout=BOT_TIMEOUT)
        await expect(s.page.get_by_role("status")).to_contain_text("Đã kết nối lại")
        texts = await user_texts(webchat_rasa, await session_id(s.page))
        assert texts == ["xin chao", "e bi ban be chui tren mang", "ho dang anh xau cua e"]
        await s.check_clean()
    finally:
        await proxy.stop()


@pytest.mark.slow
async def test_browser_offline_then_online_delivers_the_queue(webchat_rasa: str, sessions: Any) -> None:
    s = await sessions(webchat_rasa)
    await say_and_wait(s.page, "xin chao")
    await s.context.set_offline(True)
    await expect(s.page.get_by_role("status")).to_contain_text("Mất kết nối", timeout=15_000)
    await say(s.page, "minh dang so lam")
    await expect(s.page.locator(".wc-pending")).to_have_count(1)
    await s.context.set_offline(False)
    await expect(s.page.locator(".wc-pending")).to_have_count(0, timeout=BOT_TIMEOUT)
    assert await user_texts(webchat_rasa, await session_id(s.page)) == ["xin chao", "minh dang so lam"]
    await s.check_clean()


@pytest.mark.slow
async def test_pushed_message_arrives_live(webchat_rasa: str, sessions: Any) -> None:
    """What a counsellor reply or any external event uses: Rasa pushes to the open page."""
    s = await sessions(webchat_rasa)
    await say_and_wait(s.page, "xin chao")
    before = await bot_bubbles(s.page).count()
    sid = await session_id(s.page)
    await asyncio.to_thread(
        h.http_json,
        f"{webchat_rasa}/conversations/{sid}/trigger_intent?output_channel=latest",
        {"name": "ask_hotline"},
    )
    await expect(bot_bubbles(s.page)).not_to_have_count(before, timeout=BOT_TIMEOUT)
    await expect(bot_bubbles(s.page).last).to_contain_text("111")
    await s.check_clean()


@pytest.mark.slow
async def test_counsellor_reply_arrives_live(webchat_rasa: str, sessions: Any) -> None:
    """A child discloses on the page; a counsellor claims the case and answers through the API."""
    s = await sessions(webchat_rasa)
    await say_and_wait(s.page, "e muon chet")  # imminent: an urgent case is opened in the same turn
    sid = await session_id(s.page)
    cases = (await asyncio.to_thread(h.counsellor_api, webchat_rasa, "/cases?status=open"))["cases"]
    [case] = [c for c in cases if c["conversation_id"] == sid]
    claim = f"/cases/{case['id']}/claim"
    await asyncio.to_thread(h.counsellor_api, webchat_rasa, claim, {"counsellor": "Lan"})
    before = await bot_bubbles(s.page).count()
    reply = "Chào bạn, mình là Lan. Bạn đang ở đâu, có an toàn không?"
    sent = await asyncio.to_thread(
        h.counsellor_api, webchat_rasa, f"/cases/{case['id']}/message", {"counsellor": "Lan", "text": reply}
    )
    assert sent["delivered"] is True
    await expect(bot_bubbles(s.page).filter(has_text=reply)).to_have_count(1, timeout=BOT_TIMEOUT)
    assert await bot_bubbles(s.page).count() > before
    # the child answers in the same conversation: relayed to the counsellor, the bot stays quiet
    during = await bot_bubbles(s.page).count()
    await say(s.page, "e o nha mot minh")
    await expect(s.page.locator(".wc-pending")).to_have_count(0, timeout=BOT_TIMEOUT)
    assert (await user_texts(webchat_rasa, sid))[-1] == "e o nha mot minh"
    assert await bot_bubbles(s.page).count() == during
    history = (await asyncio.to_thread(h.counsellor_api, webchat_rasa, f"/cases/{case['id']}"))["history"]
    assert ("child_message", "e o nha mot minh") in [(e["kind"], e["detail"]) for e in history]
    # the counsellor closes: the page shows the notice (111) and one feedback question with buttons
    await asyncio.to_thread(
        h.counsellor_api, webchat_rasa, f"/cases/{case['id']}/close", {"counsellor": "Lan"}
    )
    await expect(bot_bubbles(s.page).filter(has_text="kết thúc")).to_have_count(1, timeout=BOT_TIMEOUT)
    yes = s.page.locator(".wc-choice", has_text="Có, giúp được")
    await expect(yes).to_be_visible(timeout=BOT_TIMEOUT)
    await yes.click()
    await expect(bot_bubbles(s.page).filter(has_text="Cảm ơn bạn đã cho mình biết")).to_have_count(
        1, timeout=BOT_TIMEOUT
    )
    history = (await asyncio.to_thread(h.counsellor_api, webchat_rasa, f"/cases/{case['id']}"))["history"]
    assert (history[-1]["kind"], history[-1]["detail"]) == ("feedback", "helpful")
    await s.check_clean()


@pytest.mark.slow
async def test_a_child_picks_an_age_gets_a_tip_and_plays_the_quiz(webchat_rasa: str, sessions: Any) -> None:
    s = await sessions(webchat_rasa)
    await say_and_wait(s.page, "cho mình vài mẹo dùng mạng an toàn")
    await expect(s.page.locator(".wc-choice", has_text="Mật khẩu").last).to_be_visible()
    await s.page.locator(".wc-choice", has_text="Mật khẩu").last.click()
    await s.page.locator(".wc-choice", has_text="11-14 tuổi").last.click(timeout=BOT_TIMEOUT)
    await expect(bot_bubbles(s.page).filter(has_text="2FA").first).to_be_visible(timeout=BOT_TIMEOUT)
    await say_and_wait(s.page, "cho em lam quiz ky nang so")
    await expect(bot_bubbles(s.page).filter(has_text=re.compile(r"Câu 1/\d+")).last).to_be_visible(
        timeout=BOT_TIMEOUT
    )
    options = s.page.locator(".wc-msg-bot").last.locator(".wc-choice")
    await options.first.click()
    await expect(bot_bubbles(s.page).filter(has_text=re.compile(r"Câu 2/\d+")).last).to_be_visible(
        timeout=BOT_TIMEOUT
    )
    await s.check_clean()


@pytest.mark.slow
async def test_clear_conversation_deletes_it_and_starts_a_new_one(webchat_rasa: str, sessions: Any) -> None:
    s = await sessions(webchat_rasa)
    await say_and_wait(s.page, "xin chao")
    old = await session_id(s.page)
    await s.page.get_by_role("button", name="Xóa cuộc trò chuyện").click()
    await s.page.get_by_role("button", name="Xóa hết").click()
    await expect(user_bubbles(s.page)).to_have_count(0)
    await expect(bot_bubbles(s.page)).to_have_count(0)
    await expect(s.page.get_by_role("status")).to_contain_text("Đã xóa")
    new = await session_id(s.page)
    assert new != old
    # the old conversation was asked to delete its data, on the server, before the switch
    sent = [json.loads(f[f.index("[") :]) for f in s.frames_sent if f.startswith("42") and "[" in f]
    deletes = [f[1] for f in sent if f[0] == "user_uttered" and f[1].get("message") == "/delete_data"]
    assert [d["session_id"] for d in deletes] == [old]
    await say_and_wait(s.page, "chao ban")
    assert await user_texts(webchat_rasa, old) == []  # really deleted on the server, not only asked
    assert await user_texts(webchat_rasa, new) == ["chao ban"]
    await s.page.reload()
    await expect(user_bubbles(s.page)).to_have_count(1)
    await s.check_clean()


@pytest.mark.slow
async def test_one_tag_embed_on_another_site(webchat_rasa: str, sessions: Any) -> None:
    site = h.StaticSite({})
    school = site.url  # http://localhost:<port>: another origin than the bot's http://127.0.0.1:<port>
    site.pages["/"] = (
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>Trường</title></head><body>"
        "<h1>Trang của trường</h1>"
        f"<script src='{webchat_rasa}/webhooks/webchat/widget.js' data-exit-url='{school}/neutral' defer>"
        "</script></body></html>"
    )
    site.pages["/neutral"] = "<!doctype html><title>Tin tức</title><h1>Tin tức</h1>"
    await site.start()
    try:
        s = await sessions(school, path="", extra_origins=[webchat_rasa])
        await s.page.goto(webchat_rasa + "/webhooks/webchat/health")  # the page before
        await s.page.goto(f"{school}/")
        hotline = s.page.get_by_role("link", name=re.compile("Gọi 111"))
        await expect(hotline).to_have_attribute("href", "tel:111")
        launcher = s.page.get_by_role("button", name="Mở khung trò chuyện an toàn")
        await launcher.click()
        # on a phone the panel fills the screen (its own hotline banner replaces the launchers)
        await expect(s.page.get_by_role("dialog", name="Trò chuyện an toàn")).to_be_visible()
        await expect(s.page.locator(".wc-launcher")).to_have_attribute("aria-expanded", "true")
        await expect(s.page.get_by_role("dialog").locator("a.wc-hotline[href='tel:111']")).to_be_visible()
        await say_and_wait(s.page, "e muon chet")
        await expect(bot_bubbles(s.page).filter(has_text="111").first).to_be_visible()
        # the host page's globals are left alone
        assert await s.page.evaluate("typeof window.io") == "undefined"
        await s.check_clean()
        await s.page.get_by_role("button", name="Thoát nhanh").click()
        await s.page.wait_for_url(f"{school}/neutral")
        await s.page.go_back()
        await s.page.wait_for_load_state()
        assert s.page.url == webchat_rasa + "/webhooks/webchat/health"
    finally:
        await site.stop()


# --- with a scripted bot (no model) -------------------------------------------------------------


async def test_typing_indicator_while_the_bot_answers(
    channel_server: h.ChannelServer, fake_agent: h.FakeAgent, sessions: Any
) -> None:
    fake_agent.delay = 1.5
    s = await sessions(channel_server.url)
    await say(s.page, "chào")
    await expect(s.page.locator(".wc-typing")).to_be_visible()
    await expect(s.page.locator(".wc-typing")).to_contain_text("Mình đang trả lời")
    await expect(bot_bubbles(s.page)).to_have_text([re.compile("nhận: chào$")], timeout=10_000)
    await expect(s.page.locator(".wc-typing")).to_be_hidden()
    await s.check_clean()


async def test_bot_html_is_shown_as_text(channel_server: h.ChannelServer, sessions: Any) -> None:
    s = await sessions(channel_server.url)
    await say_and_wait(s.page, "/html")
    await expect(bot_bubbles(s.page).last).to_have_text(re.compile(r"<img src=x onerror=.*<b>đậm</b>$"))
    assert await s.page.locator(".wc-log img, .wc-log b").count() == 0
    assert await s.page.evaluate("window.__xss") is None
    await s.check_clean()


async def test_clear_while_offline_deletes_the_old_conversation_on_reconnect(
    channel_server: h.ChannelServer, fake_agent: h.FakeAgent, sessions: Any
) -> None:
    s = await sessions(channel_server.url)
    await say_and_wait(s.page, "chào")
    old = await session_id(s.page)
    await s.context.set_offline(True)
    await expect(s.page.get_by_role("status")).to_contain_text("Mất kết nối", timeout=15_000)
    await say(s.page, "chưa gửi, sẽ bị xóa")
    await s.page.get_by_role("button", name="Xóa cuộc trò chuyện").click()
    await s.page.get_by_role("button", name="Xóa hết").click()
    await expect(user_bubbles(s.page)).to_have_count(0)
    new = await session_id(s.page)
    await say(s.page, "phiên mới")
    await s.context.set_offline(False)
    await expect(s.page.locator(".wc-pending")).to_have_count(0, timeout=BOT_TIMEOUT)
    await expect(bot_bubbles(s.page)).to_have_text([re.compile("nhận: phiên mới$")])
    sent = [(m.sender_id, m.text) for m in fake_agent.received]
    assert sent == [(old, "chào"), (old, "/delete_data"), (old, "/affirm"), (new, "phiên mới")]
    await s.check_clean()


async def test_too_long_message_is_refused_with_a_clear_message(
    channel_server: h.ChannelServer, fake_agent: h.FakeAgent, sessions: Any
) -> None:
    s = await sessions(channel_server.url)
    box = s.page.get_by_role("textbox", name="Tin nhắn của bạn")
    await box.fill("a" * 1900)
    await expect(s.page.locator(".wc-hint")).to_have_text("1900/2000 ký tự")
    await box.fill("a" * 2001)
    await box.press("Enter")
    await expect(s.page.locator(".wc-hint")).to_contain_text("Tin nhắn dài quá: tối đa 2000 ký tự")
    await expect(box).to_have_attribute("aria-invalid", "true")
    await s.page.get_by_role("button", name="Gửi").click()
    await asyncio.sleep(0.5)
    assert await user_bubbles(s.page).count() == 0 and fake_agent.received == []
    await box.fill("a" * 2000)
    await box.press("Enter")
    await expect(bot_bubbles(s.page)).to_have_count(1, timeout=10_000)
    assert len(fake_agent.received[0].text) == 2000
    await s.check_clean()


async def test_keyboard_only_use(
    channel_server: h.ChannelServer, fake_agent: h.FakeAgent, sessions: Any
) -> None:
    s = await sessions(channel_server.url)
    page = s.page
    focused = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        focused.append(
            await page.evaluate(
                "(document.activeElement.getAttribute('aria-label')"
                " || document.activeElement.textContent || '').trim()"
            )
        )
        if await page.evaluate("document.activeElement.id") == "wc-input":
            break
    assert focused[0].startswith("Thoát nhanh"), focused  # the quick exit comes first
    assert any("Gọi 111" in f for f in focused), focused
    await page.keyboard.type("/buttons")
    await page.keyboard.press("Enter")
    await expect(page.locator(".wc-choice", has_text="Không")).to_be_visible(timeout=10_000)
    for _ in range(12):
        await page.keyboard.press("Shift+Tab")
        if (await page.evaluate("document.activeElement.textContent")) == "Không":
            break
    await page.keyboard.press("Enter")
    await expect(user_bubbles(page).last).to_have_text(re.compile("Không$"))
    await expect(page.locator(".wc-pending")).to_have_count(0, timeout=10_000)
    assert [m.text for m in fake_agent.received] == ["/buttons", "/deny"]
    await s.check_clean()


async def test_accessible_names_live_region_and_contrast(
    channel_server: h.ChannelServer, sessions: Any
) -> None:
    s = await sessions(channel_server.url)
    page = s.page
    log = page.get_by_role("log", name="Cuộc trò chuyện")
    await expect(log).to_have_attribute("aria-live", "polite")
    await expect(page.get_by_role("textbox", name="Tin nhắn của bạn")).to_be_visible()
    await say_and_wait(page, "/buttons")
    unnamed = await page.evaluate("""[...document.querySelectorAll('button, a, textarea')]
        .filter(e => !(e.getAttribute('aria-label') || e.textContent.trim() || e.labels?.length))
        .map(e => e.outerHTML)""")
    assert unnamed == []
    small = await page.evaluate("""[...document.querySelectorAll('button, textarea, a.wc-hotline')]
        .filter(e => e.offsetParent).map(e => e.getBoundingClientRect())
        .filter(r => r.height < 44).map(r => r.height)""")
    assert small == [], "touch targets are at least 44px high"
    # WCAG AA: 4.5:1 for the text of every element that holds text
    low = await page.evaluate("""(() => {
      const lum = c => {
        const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
          .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const bg = e => {
        for (; e; e = e.parentElement) {
          const c = getComputedStyle(e).backgroundColor;
          if (c && !/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent') return c;
        }
        return 'rgb(255, 255, 255)';
      };
      const out = [];
      for (const e of document.querySelectorAll('#webchat *')) {
        if (!e.offsetParent || e.classList.contains('wc-sr-only')) continue;
        if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
        const a = lum(getComputedStyle(e).color), b = lum(bg(e));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) out.push(e.className + ' ' + ratio.toFixed(2));
      }
      return out; })()""")
    assert low == [], low
    await s.check_clean()
