"""Load test: N concurrent users for T seconds, then proof that no acknowledged message was lost.

Each simulated user registers, logs in, mints a token, then repeats: list its history, now and
then start a conversation, and send a message with a unique `client_message_id`. Requests run
from separate processes (`--processes`), each an asyncio loop of users with their own HTTP
client, so that the generator's CPU is never the server's. At the end the MongoDB database is
read directly: every message that got a 201 must be stored exactly once.

Without `--base-url` the script starts `aura serve --workers W` with embedded databases in a
temporary directory and stops it afterwards. Password hashing is a fixed, known cost per
register and login (bcrypt at 12 rounds takes most of a second of CPU), so the server it
starts uses `--bcrypt-rounds` (default 4) to keep the chat traffic the subject of the test.

    python bench/user_load.py --users 200 --seconds 60
    python bench/user_load.py --base-url http://127.0.0.1:8000 --mongo-uri mongodb://... \
        --mongo-db aura_chat --users 50 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pymongo import MongoClient

MESSAGES_PER_CONVERSATION = 10
REQUEST_TIMEOUT = 30.0


@dataclass
class Tally:
    """What one generator process saw: latencies by operation, statuses, acknowledged ids."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    retry_after: int = 0
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    attempted: int = 0

    def record(self, operation: str, started: float, response: httpx.Response | None,
               error: str | None = None) -> None:
        self.latencies.setdefault(operation, []).append(time.perf_counter() - started)
        if response is None:
            self.statuses[f"{operation} {error}"] += 1
            return
        self.statuses[f"{operation} {response.status_code}"] += 1
        if response.status_code == 503 and "retry-after" in response.headers:
            self.retry_after += 1


class User:
    """One simulated person with a cookie jar, a token and a current conversation."""

    def __init__(self, client: httpx.AsyncClient, tally: Tally, name: str) -> None:
        self.client = client
        self.tally = tally
        self.name = name
        self.email = f"{name}@load.example"
        self.token = ""
        self.conversation = ""
        self.sent = 0

    async def call(self, operation: str, method: str, path: str, **kwargs) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.tally.record(operation, started, None, type(exc).__name__)
            return None
        self.tally.record(operation, started, response)
        return response

    def _xsrf(self) -> dict[str, str]:
        return {"X-XSRF-TOKEN": self.client.cookies.get("XSRF-TOKEN", "")}

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def sign_up(self) -> bool:
        password = "load-test-password-1"
        await self.call("csrf", "GET", "/sanctum/csrf-cookie")
        body = {"name": self.name, "email": self.email, "password": password,
                "password_confirmation": password}
        await self.call("register", "POST", "/api/auth/register", json=body, headers=self._xsrf())
        login = {"email": self.email, "password": password}
        await self.call("login", "POST", "/api/auth/login", json=login, headers=self._xsrf())
        minted = await self.call("mint", "POST", "/api/auth/token", json={}, headers=self._xsrf())
        if minted is None or minted.status_code != 200:
            return False
        self.token = minted.json()["token"]
        return True

    async def round(self) -> None:
        await self.call("history", "GET", "/chat/history", headers=self._bearer())
        if not self.conversation or self.sent % MESSAGES_PER_CONVERSATION == 0:
            started = await self.call("start", "POST", "/chat/start", json={},
                                      headers=self._bearer())
            if started is None or started.status_code != 201:
                return
            self.conversation = started.json()["id"]
        await self.send()

    async def send(self) -> None:
        client_id = f"{self.name}-{uuid.uuid4().hex}"
        body = {"conversation_id": self.conversation, "content": f"load message {client_id}",
                "client_message_id": client_id}
        self.tally.attempted += 1
        self.sent += 1
        response = await self.call("message", "POST", "/chat/message", json=body,
                                   headers=self._bearer())
        if response is not None and response.status_code == 201:
            self.tally.acknowledged.append((client_id, response.json()["message"]["id"]))


async def _run_user(base_url: str, name: str, delay: float, deadline: float,
                    tally: Tally) -> None:
    await asyncio.sleep(delay)
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT, limits=limits) as client:
        user = User(client, tally, name)
        if not await user.sign_up():
            return
        while time.monotonic() < deadline:
            await user.round()


async def _generate(base_url: str, users: list[str], ramp: float, deadline: float) -> Tally:
    """Users start one after another over `ramp` seconds, as people arrive, then all run."""
    tally = Tally()
    step = ramp / max(1, len(users))
    await asyncio.gather(*(
        _run_user(base_url, name, number * step, deadline, tally)
        for number, name in enumerate(users)
    ))
    return tally


def _generator_process(base_url: str, users: list[str], seconds: float, ramp: float,
                       start_at: float, results) -> None:
    """One load process: waits for the common start, runs its users, sends back its tally."""
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + seconds
    tally = asyncio.run(_generate(base_url, users, ramp, deadline))
    results.put(json.dumps({
        "latencies": tally.latencies, "statuses": dict(tally.statuses),
        "retry_after": tally.retry_after, "acknowledged": tally.acknowledged,
        "attempted": tally.attempted,
    }))


def drive(base_url: str, users: int, seconds: float, ramp: float,
          processes: int) -> tuple[dict, float]:
    """Run the users split across processes; returns the merged tally and the wall time."""
    run = uuid.uuid4().hex[:8]
    names = [f"u{run}-{number}" for number in range(users)]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 2.0
    workers = [
        context.Process(target=_generator_process,
                        args=(base_url, names[index::processes], seconds, ramp, start_at,
                              results))
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    parts = [json.loads(results.get()) for _ in workers]
    elapsed = time.time() - start_at
    for worker in workers:
        worker.join()
    return _merge(parts), elapsed


def _merge(parts: list[dict]) -> dict:
    merged = {"latencies": {}, "statuses": Counter(), "retry_after": 0, "acknowledged": [],
              "attempted": 0}
    for part in parts:
        for operation, values in part["latencies"].items():
            merged["latencies"].setdefault(operation, []).extend(values)
        merged["statuses"].update(part["statuses"])
        merged["retry_after"] += part["retry_after"]
        merged["acknowledged"] += [tuple(pair) for pair in part["acknowledged"]]
        merged["attempted"] += part["attempted"]
    return merged


def verify(mongo_uri: str, database: str, acknowledged: list[tuple[str, str]],
           attempted: int) -> dict:
    """Read MongoDB directly: each acknowledged message stored exactly once, with its id."""
    client = MongoClient(mongo_uri)
    messages = client[database]["messages"]
    wanted = {client_id: message_id for client_id, message_id in acknowledged}
    found: Counter = Counter()
    wrong_id = 0
    ids = list(wanted)
    for start in range(0, len(ids), 1000):
        batch = ids[start:start + 1000]
        for document in messages.find({"client_message_id": {"$in": batch}},
                                      {"client_message_id": 1}):
            found[document["client_message_id"]] += 1
            wrong_id += str(document["_id"]) != wanted[document["client_message_id"]]
    stored_total = messages.count_documents({"content": {"$regex": "^load message "}})
    client.close()
    return {
        "acknowledged": len(wanted),
        "lost": sum(1 for client_id in wanted if found[client_id] == 0),
        "stored_twice": sum(1 for count in found.values() if count > 1),
        "stored_under_another_id": wrong_id,
        "attempted": attempted,
        "stored_without_acknowledgement": stored_total - sum(found.values()),
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def report(tally: dict, elapsed: float, users: int, checks: dict) -> dict:
    every = [value for values in tally["latencies"].values() for value in values]
    by_status: Counter = Counter()
    for key, count in tally["statuses"].items():
        by_status[key.rsplit(" ", 1)[1]] += count
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "rps": round(len(every) / elapsed, 1),
        "p50_ms": round(_percentile(every, 0.50), 1),
        "p99_ms": round(_percentile(every, 0.99), 1),
        "mean_ms": round(statistics.fmean(every) * 1000, 1) if every else 0.0,
        "by_operation": {
            operation: {"count": len(values), "p50_ms": round(_percentile(values, 0.5), 1),
                        "p99_ms": round(_percentile(values, 0.99), 1)}
            for operation, values in sorted(tally["latencies"].items())
        },
        "statuses": dict(sorted(by_status.items())),
        "errors": {key: count for key, count in sorted(tally["statuses"].items())
                   if not key.endswith((" 200", " 201", " 204"))},
        "503_with_retry_after": tally["retry_after"],
        "messages": checks,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`aura serve` with embedded databases in a temporary directory."""

    def __init__(self, workers: int, bcrypt_rounds: int) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="aura-load-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {key: value for key, value in os.environ.items()
               if key not in ("DATABASE_URL", "MONGO_URI")}
        env.update(AURA_DATA_DIR=str(self.directory / "data"), BCRYPT_ROUNDS=str(bcrypt_rounds),
                   LOG_LEVEL="WARNING")
        self.log = (self.directory / "aura.log").open("w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aura.cli", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=self.directory, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait(self, seconds: float = 120) -> tuple[str, str]:
        """Wait for /health; returns the MongoDB URI and database the server printed."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"aura serve exited:\n{self._output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    found = re.search(r"MongoDB:\s+(\S+) \(database (\S+)\)", self._output())
                    return found.group(1), found.group(2)
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit("aura serve did not become healthy")

    def _output(self) -> str:
        self.log.flush()
        return (self.directory / "aura.log").read_text()

    def errors_logged(self) -> int:
        """Request lines the server logged with a 5xx status."""
        return sum('"status": 5' in line for line in self._output().splitlines())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which users start")
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument("--workers", type=int, default=2, help="aura serve workers")
    parser.add_argument("--bcrypt-rounds", type=int, default=4)
    parser.add_argument("--base-url", help="an Aura already running (then give --mongo-uri)")
    parser.add_argument("--mongo-uri")
    parser.add_argument("--mongo-db", default="aura_chat")
    options = parser.parse_args()

    server = None
    base_url, mongo_uri, mongo_db = options.base_url, options.mongo_uri, options.mongo_db
    if base_url is None:
        server = Server(options.workers, options.bcrypt_rounds)
        base_url = server.url
    try:
        if server is not None:
            mongo_uri, mongo_db = server.wait()
        tally, elapsed = drive(base_url, options.users, options.seconds, options.ramp,
                               options.processes)
        checks = verify(mongo_uri, mongo_db, tally["acknowledged"], tally["attempted"])
        result = report(tally, elapsed, options.users, checks)
        if server is not None:
            result["server_5xx_lines"] = server.errors_logged()
    finally:
        if server is not None:
            server.stop()
    print(json.dumps(result, indent=2))
    failed = (checks["lost"] or checks["stored_twice"] or checks["stored_under_another_id"]
              or any(key.endswith(" 500") for key in tally["statuses"]))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
