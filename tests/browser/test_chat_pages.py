"""A person using Aura's pages in headless Chromium, against a real `aura serve`."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.flows import log_in, register, send, stored_token, thread
from tests.identity import bearer

MARKUP = "<img src=x onerror=alert(1)>"


def test_a_person_registers_chats_renames_deletes_and_logs_out(page, live_server, artifacts):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_label("Email")).to_be_focused()
    page.screenshot(path=artifacts / "login.png", full_page=True)
    register(page, "alice@example.test")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    log_in(page, "alice@example.test")

    page.get_by_role("button", name="New conversation").click()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    send(page, "Hello, Aura")
    send(page, "A second message\nwith two lines")
    page.reload()

    expect(page.locator("#messages .content")).to_have_text(
        ["Hello, Aura", "A second message\nwith two lines"]
    )
    page.screenshot(path=artifacts / "conversation.png", full_page=True)

    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Conversation title").fill("Trip plans")
    page.get_by_label("Conversation title").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trip plans")
    expect(page.locator("#conversation-list")).to_have_text(["Trip plans"])
    expect(page.get_by_role("button", name="Rename")).to_be_focused()

    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("button", name="Delete conversation").click()
    expect(page.locator("#conversation-list li")).to_have_count(0)
    expect(page.get_by_text("No conversations yet.")).to_be_visible()

    token = stored_token(page)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    assert stored_token(page) is None
    with live_server.api() as api:
        assert api.get("/chat/history", headers=bearer(token)).status_code == 401
    page.goto("/chat")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_the_conversation_list_shows_the_latest_activity_first(page):
    register(page, "alice@example.test")
    for title in ("Older", "Newer"):
        page.get_by_role("button", name="New conversation").click()
        send(page, f"about {title}")
        page.get_by_role("button", name="Rename").click()
        page.get_by_label("Conversation title").fill(title)
        page.get_by_label("Conversation title").press("Enter")
    page.locator("#conversation-list").get_by_role("button", name="Older").click()
    send(page, "Older is active again")

    page.reload()

    expect(page.locator("#conversation-list button")).to_have_text(["Older", "Newer"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Older")


def test_markup_in_a_message_and_a_title_shows_as_text_and_runs_nothing(page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    register(page, "mallory@example.test")
    page.get_by_role("button", name="New conversation").click()
    send(page, MARKUP)
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Conversation title").fill(MARKUP)
    page.get_by_label("Conversation title").press("Enter")

    page.reload()

    expect(page.locator("#messages .content")).to_have_text([MARKUP])
    expect(page.get_by_role("heading", level=1)).to_have_text(MARKUP)
    expect(page.locator("#conversation-list button")).to_have_text([MARKUP])
    assert page.locator("img").count() == 0
    assert dialogs == []


def test_a_token_revoked_behind_the_page_is_minted_again_and_the_send_retried_once(
    page, live_server
):
    register(page, "alice@example.test")
    page.get_by_role("button", name="New conversation").click()
    send(page, "before the revoke")
    old = stored_token(page)
    with live_server.api() as api:
        assert api.post("/api/auth/token/revoke", headers=bearer(old)).json() == {"revoked": True}
    calls = []
    page.on("response", lambda r: calls.append((r.request.method, r.url.split("?")[0], r.status)))

    send(page, "after the revoke")

    new = stored_token(page)
    assert new != old
    origin = live_server.url
    assert [call for call in calls if call[0] == "POST"] == [
        ("POST", f"{origin}/chat/message", 401),
        ("POST", f"{origin}/api/auth/token", 200),
        ("POST", f"{origin}/chat/message", 201),
    ]
    with live_server.api() as api:
        assert api.get("/chat/history", headers=bearer(new)).status_code == 200
    page.reload()
    expect(page.locator("#messages .content")).to_have_text(
        ["before the revoke", "after the revoke"]
    )


def test_a_message_sent_again_after_a_lost_reply_is_stored_once(page):
    register(page, "alice@example.test")
    page.get_by_role("button", name="New conversation").click()

    def lose_the_reply(route):
        route.fetch()  # the server stores the message...
        route.abort()  # ...but the page never hears back

    page.route("**/chat/message", lose_the_reply, times=1)
    box = page.get_by_label("Message", exact=True)
    box.fill("only once")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("could not be reached")

    box.press("Enter")

    expect(page.locator("#messages .content")).to_have_text(["only once"])
    page.reload()
    expect(page.locator("#messages .content")).to_have_text(["only once"])


def test_a_token_left_by_another_account_is_replaced_before_use(page, live_server):
    register(page, "alice@example.test", name="Alice")
    page.get_by_role("button", name="New conversation").click()
    send(page, "Alice's secret plans")
    alice_token = stored_token(page)
    page.context.clear_cookies()

    register(page, "bob@example.test", name="Bob")

    assert stored_token(page) != alice_token
    expect(page.locator("#conversation-list li")).to_have_count(0)
    expect(page.locator("#messages li")).to_have_count(0)
    with live_server.api() as api:
        assert api.get("/chat/history", headers=bearer(alice_token)).status_code == 200


def test_the_title_the_first_message_gives_shows_without_a_reload(page, live_server):
    register(page, "alice@example.test")
    page.get_by_role("button", name="New conversation").click()

    send(page, "Plans for the weekend trip")

    with live_server.api() as api:
        history = api.get("/chat/history", headers=bearer(stored_token(page))).json()
    title = history["conversations"][0]["title"]
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("#conversation-list button")).to_have_text([title])


def test_registration_errors_show_next_to_their_fields(page):
    page.goto("/register")
    page.get_by_label("Name").fill("Alice")
    page.get_by_label("Email").fill("not an email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Confirm password").fill("short")

    page.get_by_role("button", name="Create account").click()

    expect(page.locator("#email-error")).to_contain_text("email")
    expect(page.locator("#password-error")).to_contain_text("at least 8 characters")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Email")).to_be_focused()
    expect(page.locator("#name-error")).to_be_empty()
    expect(page).to_have_url(re.compile(r"/register$"))


def test_a_wrong_password_shows_the_api_message_and_stays_on_the_login_page(page):
    register(page, "alice@example.test")
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill("alice@example.test")
    page.get_by_label("Password").fill("not the password")

    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_have_text("These credentials do not match our records.")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_enter_sends_and_shift_enter_breaks_the_line(page):
    register(page, "alice@example.test")
    box = page.get_by_label("Message", exact=True)
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(page.locator("#messages li")).to_have_count(0)

    box.press("Enter")

    expect(page.locator("#messages .content")).to_have_text(["first line\nsecond line"])
    expect(page.locator("#conversation-list li")).to_have_count(1)
    expect(box).to_be_focused()


def test_the_pages_fit_a_phone_screen(page, artifacts):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/login")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    register(page, "alice@example.test", name="Alice with a rather long name indeed")
    page.get_by_role("button", name="New conversation").click()

    send(page, "A long message " * 20)

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Send")).to_be_in_viewport()
    page.screenshot(path=artifacts / "conversation-phone.png")


def test_the_pages_keep_to_their_content_security_policy(page):
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (event) => window.__violations.push(event.violatedDirective));"
    )
    register(page, "alice@example.test")
    page.get_by_role("button", name="New conversation").click()
    send(page, "hello")

    page.reload()

    expect(page.locator("#messages .content")).to_have_text(["hello"])
    assert page.evaluate("window.__violations") == []
