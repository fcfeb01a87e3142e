"""The chat page's account panel in headless Chromium: sessions, export and account deletion."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.flows import PASSWORD, register

OTHER_DEVICE = "<b>Other device</b>"


def _log_in_elsewhere(live_server):
    """A second session for the same user, from a client whose agent string is markup."""
    api = live_server.api()
    api.get("/sanctum/csrf-cookie")
    response = api.post(
        "/api/auth/login", json={"email": "alice@example.test", "password": PASSWORD},
        headers={"X-XSRF-TOKEN": api.cookies["XSRF-TOKEN"], "User-Agent": OTHER_DEVICE},
    )
    assert response.status_code == 200
    return api


def _open_panel(page) -> None:
    page.get_by_text("Your account", exact=True).click()


def test_the_panel_lists_sessions_as_text_and_ends_another_one(page, live_server, artifacts):
    register(page, "alice@example.test")
    other = _log_in_elsewhere(live_server)

    _open_panel(page)

    expect(page.locator("#session-list li")).to_have_count(2)
    expect(page.locator("#session-list").get_by_text(OTHER_DEVICE)).to_be_visible()
    expect(page.locator("#session-list b")).to_have_count(0)
    expect(page.locator("#session-list").get_by_text("This browser")).to_be_visible()
    page.screenshot(path=artifacts / "account-panel.png", full_page=True)
    page.get_by_role("button", name=f"End the session of {OTHER_DEVICE}").click()
    expect(page.locator("#session-list li")).to_have_count(1)
    assert other.get("/api/auth/me").status_code == 401
    other.close()


def test_the_panel_downloads_the_export(page, tmp_path):
    register(page, "alice@example.test")
    _open_panel(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download all my data").click()

    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    document = json.loads(Path(saved).read_text())
    assert document["user"]["email"] == "alice@example.test"
    assert document["conversations"] == []


def test_the_panel_deletes_the_account_only_with_the_password(page, live_server):
    register(page, "alice@example.test")
    _open_panel(page)
    password = page.get_by_label("Password, to delete your account")

    password.fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#delete-account-error")).to_have_text("The password is incorrect.")
    password.fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    with live_server.api() as api:
        api.get("/sanctum/csrf-cookie")
        login = api.post(
            "/api/auth/login", json={"email": "alice@example.test", "password": PASSWORD},
            headers={"X-XSRF-TOKEN": api.cookies["XSRF-TOKEN"]},
        )
    assert login.status_code == 401
