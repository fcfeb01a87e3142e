"""`aura serve --workers 2` as a real process tree: whatever one worker does, the other honours.

Each request below goes over a fresh TCP connection, and the test asks the kernel which
worker process accepted that connection, so every step names the worker that served it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aura.embedded import free_port
from tests.identity import PASSWORD
from tests.test_serve import _child_env, _stop, _wait_healthy

REDIS_URL = "redis://127.0.0.1:6379/15"


def _served_by(response: httpx.Response, port: int) -> int | None:
    """The pid of the process holding the server end of the response's connection."""
    _, client_port = response.extensions["network_stream"].get_extra_info("client_addr")
    for connection in psutil.net_connections(kind="tcp"):
        local, remote = connection.laddr, connection.raddr
        if local and remote and local.port == port and remote.port == client_port:
            return connection.pid
    return None


class TwoWorkers:
    """Sends each request on a new connection that a chosen worker accepted."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.pids = self._find_workers()

    def _probe(self, cookies: httpx.Cookies) -> tuple[httpx.Client, int | None]:
        client = httpx.Client(base_url=self.base_url, cookies=cookies, timeout=10)
        return client, _served_by(client.get("/health"), self.port)

    def _find_workers(self, seconds: float = 90) -> list[int]:
        """Both worker pids; the second may still be starting when the first answers."""
        seen: set[int] = set()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            client, pid = self._probe(httpx.Cookies())
            client.close()
            seen.add(pid)
            if len(seen) == 2:
                return sorted(seen)
            time.sleep(0.05)
        raise AssertionError(f"only workers {seen} accepted connections in {seconds} s")

    def _connect(self, pid: int, cookies: httpx.Cookies, attempts: int = 200) -> httpx.Client:
        for _ in range(attempts):
            client, served = self._probe(cookies)
            if served == pid:
                return client
            client.close()
        raise AssertionError(f"worker {pid} accepted none of {attempts} connections")

    def send(self, worker: int, method: str, path: str, cookies: httpx.Cookies | None = None,
             **kwargs) -> httpx.Response:
        """Send on worker 0 or 1; cookies the response sets go back into `cookies`."""
        cookies = cookies if cookies is not None else httpx.Cookies()
        pid = self.pids[worker]
        client = self._connect(pid, cookies)
        try:
            response = client.request(method, path, **kwargs)
            assert _served_by(response, self.port) == pid
            cookies.update(client.cookies)
        finally:
            client.close()
        return response


@pytest.fixture(scope="module")
def two_workers(database_url, mongo_server, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("two-workers")
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "MONGO_URI": mongo_server.uri,
        "MONGO_DB": "aura_test",
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "a-secret-shared-by-both-workers-0123456789",
        "BCRYPT_ROUNDS": "4",
        "AURA_DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "aura.cli", "serve", "--workers", "2", "--port", str(port)],
        env=_child_env(env), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )
    process.cwd_for_log = tmp_path
    try:
        _wait_healthy(port, process)
        yield TwoWorkers(port)
    finally:
        leftovers = _stop(process, signal.SIGTERM)
        assert leftovers == [], f"processes outlived aura serve: {leftovers}"


def _login(workers: TwoWorkers, worker: int, email: str, password: str,
           cookies: httpx.Cookies | None = None) -> httpx.Response:
    headers = {"X-XSRF-TOKEN": cookies["XSRF-TOKEN"]} if cookies else {}
    return workers.send(worker, "POST", "/api/auth/login", cookies,
                        json={"email": email, "password": password}, headers=headers)


def _register(workers: TwoWorkers, worker: int, email: str) -> None:
    response = workers.send(
        worker, "POST", "/api/auth/register",
        json={"name": "Worker", "email": email, "password": PASSWORD,
              "password_confirmation": PASSWORD},
    )
    assert response.status_code == 200, response.text


def test_a_session_made_on_one_worker_works_on_the_other(two_workers):
    email = f"{uuid.uuid4().hex}@example.test"
    _register(two_workers, 0, email)
    cookies = httpx.Cookies()
    two_workers.send(0, "GET", "/sanctum/csrf-cookie", cookies)

    login = _login(two_workers, 0, email, PASSWORD, cookies)
    me = two_workers.send(1, "GET", "/api/auth/me", cookies)
    minted = two_workers.send(1, "POST", "/api/auth/token", cookies,
                              headers={"X-XSRF-TOKEN": cookies["XSRF-TOKEN"]})

    assert login.status_code == 200
    assert me.status_code == 200
    assert me.json()["user"]["email"] == email
    assert minted.status_code == 200


def test_failed_logins_count_across_both_workers(two_workers):
    email = f"{uuid.uuid4().hex}@example.test"
    _register(two_workers, 0, email)

    failures = [_login(two_workers, i % 2, email, "wrong password").status_code for i in range(5)]
    sixth = _login(two_workers, 1, email, "wrong password")

    assert failures == [401] * 5
    assert sixth.status_code == 429
    assert int(sixth.headers["Retry-After"]) > 0


def test_a_token_revoked_through_one_worker_is_refused_by_the_other(two_workers):
    email = f"{uuid.uuid4().hex}@example.test"
    cookies = httpx.Cookies()
    two_workers.send(0, "GET", "/sanctum/csrf-cookie", cookies)
    two_workers.send(0, "POST", "/api/auth/register", cookies,
                     headers={"X-XSRF-TOKEN": cookies["XSRF-TOKEN"]},
                     json={"name": "Worker", "email": email, "password": PASSWORD,
                           "password_confirmation": PASSWORD})
    token = two_workers.send(0, "POST", "/api/auth/token", cookies,
                             headers={"X-XSRF-TOKEN": cookies["XSRF-TOKEN"]}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert two_workers.send(1, "GET", "/api/auth/me", headers=bearer).status_code == 200

    revoked = two_workers.send(0, "POST", "/api/auth/token/revoke", headers=bearer)
    after = two_workers.send(1, "GET", "/api/auth/me", headers=bearer)

    assert revoked.json() == {"revoked": True}
    assert after.status_code == 401


def _failed_logins(workers: TwoWorkers, worker: int) -> float:
    text = workers.send(worker, "GET", "/metrics").text
    labels = {"app_name": "aura", "method": "POST", "path": "/api/auth/login",
              "status_code": "401"}
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "aura_requests_total" and sample.labels == labels
    )


def test_either_worker_reports_the_metrics_of_both(two_workers):
    email = f"{uuid.uuid4().hex}@example.test"
    before = _failed_logins(two_workers, 0)

    for worker in (0, 1, 0, 1):
        _login(two_workers, worker, email, "wrong password")

    assert _failed_logins(two_workers, 0) - before == 4
    assert _failed_logins(two_workers, 1) - before == 4
