"""Steps a person takes on Aura's pages, written once for the browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery staple"


def register(page: Page, email: str, name: str = "Alice") -> None:
    """Create an account on the register page; Aura logs it in and opens the chat."""
    page.goto("/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/chat(#.*)?$"))
    wait_until_ready(page)


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/chat(#.*)?$"))
    wait_until_ready(page)


def wait_until_ready(page: Page) -> None:
    """The chat page is ready once it holds a token and has asked for the history."""
    page.wait_for_function("() => localStorage.getItem('aura:pat') !== null")
    listed = page.locator("#conversation-list li, #no-conversations:not([hidden])")
    expect(listed).not_to_have_count(0)


def send(page: Page, text: str) -> None:
    """Type into the message box, Shift+Enter for each line break, and press Enter."""
    box = page.get_by_label("Message", exact=True)
    for number, line in enumerate(text.split("\n")):
        if number:
            box.press("Shift+Enter")
        box.press_sequentially(line)
    before = page.locator("#messages li").count()

    box.press("Enter")

    expect(page.locator("#messages li")).to_have_count(before + 1)
    expect(box).to_have_value("")


def thread(page: Page) -> list[str]:
    """The texts of the messages in the open conversation, top to bottom."""
    return page.locator("#messages .content").all_text_contents()


def stored_token(page: Page) -> str | None:
    return page.evaluate("localStorage.getItem('aura:pat')")
