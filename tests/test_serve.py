"""`aura serve` as a user runs it: a real process, real signals, real databases."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from aura.embedded import free_port


def _wait_healthy(port: int, process: subprocess.Popen, seconds: float = 90) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"aura serve exited with {process.returncode}:\n{_log(process)}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"aura serve did not become healthy:\n{_log(process)}")


def _log(process: subprocess.Popen) -> str:
    return (Path(process.cwd_for_log) / "serve.log").read_text()


def _stop(process: subprocess.Popen, how: int) -> list[psutil.Process]:
    """Send `how`, wait for the exit, and return the descendants that outlived it."""
    if process.poll() is not None:
        raise AssertionError(f"aura serve had already exited:\n{_log(process)}")
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(how)
    process.wait(30)
    gone, alive = psutil.wait_procs(children, timeout=10)
    return alive


@pytest.fixture
def embedded_env(tmp_path) -> dict:
    """No database configured: `aura serve` must start its own under AURA_DATA_DIR."""
    return {"AURA_DATA_DIR": str(tmp_path / "data"), "AURA_ENV": "development"}


def _child_env(env: dict) -> dict:
    unset = ("DATABASE_URL", "MONGO_URI", "REDIS_URL")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return {**base, **env}


def _start_clean(env: dict, tmp_path: Path, port: int) -> subprocess.Popen:
    log = (tmp_path / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "aura.cli", "serve", "--port", str(port)],
        env=_child_env(env), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )
    process.cwd_for_log = tmp_path
    return process


def test_embedded_serve_answers_health_keeps_data_and_leaves_no_orphans(embedded_env, tmp_path):
    port = free_port()
    first = _start_clean(embedded_env, tmp_path, port)
    try:
        health = _wait_healthy(port, first)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            client.get("/sanctum/csrf-cookie")
            registered = client.post(
                "/api/auth/register",
                json={"name": "Kept", "email": "kept@example.test", "password": "password-123",
                      "password_confirmation": "password-123"},
                headers={"X-XSRF-TOKEN": client.cookies["XSRF-TOKEN"]},
            )
    finally:
        leftovers = _stop(first, signal.SIGTERM)

    assert health.json() == {"status": "ok", "postgres": "ok", "mongo": "ok"}
    assert registered.status_code == 200
    assert leftovers == []

    second = _start_clean(embedded_env, tmp_path, port)
    try:
        _wait_healthy(port, second)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            client.get("/sanctum/csrf-cookie")
            login = client.post(
                "/api/auth/login", json={"email": "kept@example.test", "password": "password-123"},
                headers={"X-XSRF-TOKEN": client.cookies["XSRF-TOKEN"]},
            )
    finally:
        leftovers = _stop(second, signal.SIGINT)

    assert login.status_code == 200
    assert leftovers == []
    output = (tmp_path / "serve.log").read_text()
    assert "Aura listening on http://127.0.0.1:" in output
    assert "password" not in output.lower().replace("password-", "")


def test_serve_refuses_a_database_behind_its_migrations(admin_database_url, mongo_server, tmp_path):
    from tests import servers

    name = f"aura_behind_{os.getpid()}"
    servers.create_database(admin_database_url, name)
    try:
        env = {"DATABASE_URL": servers.database_url(admin_database_url, name),
               "MONGO_URI": mongo_server.uri, "AURA_DATA_DIR": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "aura.cli", "serve", "--port", str(free_port())],
            env=_child_env(env), cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )
    finally:
        servers.drop_database(admin_database_url, name)

    assert result.returncode != 0
    assert "aura db upgrade" in result.stderr
