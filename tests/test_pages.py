"""The pages over HTTP: who is sent where, the security headers, and markup that stays safe."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import psycopg
import pytest

from aura import resource_path
from aura.web.controllers import STATIC_DIRECTORY
from tests.identity import register

PAGE_PATHS = ("/login", "/register")


class PageParts(HTMLParser):
    """The tags, attributes and label targets of a page, for checks on its markup."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_bodies: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_bodies.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> PageParts:
    parts = PageParts()
    parts.feed(html)
    return parts


async def logged_in_pages(client) -> dict[str, str]:
    """Every page's HTML: the two account pages anonymously, then the chat page logged in."""
    pages = {path: (await client.get(path)).text for path in PAGE_PATHS}
    await register(client)
    pages["/chat"] = (await client.get("/chat")).text
    return pages


async def test_root_sends_a_visitor_without_a_session_to_the_login_page(client):
    response = await client.get("/", follow_redirects=False)

    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login"


async def test_root_sends_a_logged_in_visitor_to_the_chat_page(client):
    await register(client)

    response = await client.get("/", follow_redirects=False)

    assert response.headers["location"] == "/chat"


async def test_chat_page_sends_a_visitor_without_a_session_to_log_in(client):
    response = await client.get("/chat", follow_redirects=False)

    assert response.headers["location"] == "/login"


@pytest.mark.parametrize("path", PAGE_PATHS)
async def test_account_pages_send_a_logged_in_visitor_to_the_chat(client, path):
    await register(client)

    response = await client.get(path, follow_redirects=False)

    assert response.headers["location"] == "/chat"


async def test_a_session_whose_user_was_deleted_counts_as_logged_out(client, database_url):
    await register(client)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM users")

    root = await client.get("/", follow_redirects=False)
    login = await client.get("/login", follow_redirects=False)

    assert root.headers["location"] == "/login"
    assert login.status_code == 200


async def test_chat_page_shows_the_user_name_as_text(client):
    await register(client, name="<b>Eve</b> & co")

    html = (await client.get("/chat")).text

    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in html
    assert "<b>Eve</b>" not in html


@pytest.mark.parametrize("path", [*PAGE_PATHS, "/", "/static/chat.js", "/static/aura.css"])
async def test_pages_and_their_files_carry_the_security_headers(client, path):
    response = await client.get(path, follow_redirects=False)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_the_content_security_policy_allows_only_aura_own_scripts_and_styles(client):
    policy = (await client.get("/login")).headers["content-security-policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in policy


async def test_pages_are_never_stored_in_a_cache(client):
    response = await client.get("/login")

    assert "no-store" in response.headers["cache-control"]


async def test_pages_hold_no_inline_script_or_style(client):
    pages = await logged_in_pages(client)

    for path, html in pages.items():
        parts = parse(html)
        assert parts.script_bodies == [], path
        assert parts.all("style") == [], path
        assert all(attrs["src"].startswith("/static/") for attrs in parts.all("script")), path
        for _, attrs in parts.tags:
            assert "style" not in attrs, path
            assert not any(name.startswith("on") for name in attrs), path


async def test_every_form_field_on_every_page_has_a_label(client):
    pages = await logged_in_pages(client)

    for path, html in pages.items():
        parts = parse(html)
        labelled = {attrs["for"] for attrs in parts.all("label")}
        fields = parts.all("input") + parts.all("textarea")
        assert fields, path
        assert {attrs["id"] for attrs in fields} <= labelled, path


async def test_every_file_a_page_loads_is_served_with_its_type(client):
    pages = await logged_in_pages(client)
    urls = set()
    for html in pages.values():
        parts = parse(html)
        urls |= {attrs["src"] for attrs in parts.all("script")}
        urls |= {attrs["href"] for attrs in parts.all("link") if attrs.get("rel") == "stylesheet"}

    for url in sorted(urls):
        response = await client.get(url)
        assert response.status_code == 200, url
        expected = "text/javascript" if url.split("?")[0].endswith(".js") else "text/css"
        assert response.headers["content-type"].startswith(expected), url


async def test_every_module_a_script_imports_is_served(client):
    imports = set()
    for script in STATIC_DIRECTORY.glob("*.js"):
        imports |= set(re.findall(r'from "\./([\w.-]+\.js)"', script.read_text()))

    for name in sorted(imports):
        assert (await client.get(f"/static/{name}")).status_code == 200, name


def test_pages_and_scripts_fetch_nothing_from_other_hosts():
    sources = [*resource_path("templates").glob("*.html"), *STATIC_DIRECTORY.iterdir()]

    for source in sources:
        assert not re.search(r"(https?:)?//[\w.-]+\.\w", source.read_text()), source.name


def test_scripts_never_write_html():
    for script in STATIC_DIRECTORY.glob("*.js"):
        text = script.read_text()
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", text)


@pytest.mark.parametrize("path", ["/static/..%2fcontrollers.py", "/static/%2e%2e/%2e%2e/app.py"])
async def test_a_file_outside_the_static_folder_is_not_served(client, path):
    response = await client.get(path)

    assert response.status_code == 404
