"""A real Aura server and Debian's headless Chromium, driven by Playwright, for the pages.

The browser needs a real HTTP origin, so `aura serve` runs in a subprocess on a free port,
pointed at the suite's PostgreSQL and SecantusDB (each test still starts from empty tables).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aura.embedded import free_port
from tests import servers

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    """CI installs the browser (.ci/install-browser), so there a missing one is a failure."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _ensure_chromium() -> None:
    installer = ROOT / ".ci" / "install-browser"
    if not CHROMIUM.exists() and os.geteuid() == 0 and installer.exists():
        subprocess.run([str(installer)], check=False, timeout=1200)
    if not CHROMIUM.exists():
        _unavailable(
            f"browser tests need Debian's chromium at {CHROMIUM}; it is missing and "
            ".ci/install-browser could not install it (it needs root and apt-get)"
        )


@dataclass(frozen=True)
class LiveServer:
    url: str
    log: Path

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


def _wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"aura serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"aura serve did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="module")
def live_server(
    database_url: str, mongo_server: servers.Secantus, tmp_path_factory
) -> Iterator[LiveServer]:
    """`aura serve` on the suite's databases, as a person would start it."""
    home = tmp_path_factory.mktemp("aura-serve")
    port = free_port()
    unset = ("DATABASE_URL", "MONGO_URI", "REDIS_URL", "CORS_ALLOW_ORIGINS")
    env = {key: value for key, value in os.environ.items() if key not in unset} | {
        "DATABASE_URL": database_url,
        "MONGO_URI": mongo_server.uri,
        "MONGO_DB": "aura_test",
        "AURA_ENV": "development",
        "AURA_DATA_DIR": str(home / "data"),
        "SECRET_KEY": "browser-test-secret-key-that-is-long-enough",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
    }
    log = home / "serve.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "aura.cli", "serve", "--port", str(port)],
            env=env, cwd=home, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log)
        yield LiveServer(url, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator:
    """Chromium for one module of sync tests.

    Playwright's sync API keeps its event loop marked as running while it is open, so it starts
    after the server's fixtures (which run migrations on a loop of their own) and stops before
    the suite's async tests run.
    """
    _ensure_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("browser tests need the playwright package (pip install -e '.[test]')")
    from playwright.sync_api import expect

    # Assertions wait as long as actions do: a loaded CI machine is slow, not wrong.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server: LiveServer) -> Iterator:
    """A fresh browser profile (no cookies, empty localStorage) on the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
