"""`python -m bench.run`: Aura against the floor, then both again at growing sizes.

One run, from a fresh clone: a scratch database on the local PostgreSQL, a SecantusDB server
of its own, seeded data, Aura started with `aura serve` and the floor with the same uvicorn
settings, the same load on both, and the tables printed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aura import migrate
from aura.embedded import free_port, start_secantus, stop_process
from aura.settings import Settings
from bench import apps, plans, procstat, report, seed, touches
from bench.load import percentile
from bench.seed import BenchUser
from tests.servers import create_database, drop_database

ENDPOINTS = ("GET /chat/history", "GET /chat/conversations/{id}/messages", "POST /chat/message")
MAIN_DB, SCALE_DB = "bench_main", "bench_scale_{}"
IDLE_SECONDS = 30
# The scale run reads pages every size fills (10 items), so that each size answers the same.
SCALE_PAGE = "?limit=10"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    add = parser.add_argument
    add("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL allowed to create the scratch database")
    add("--users", type=int, default=10, help="users, each with its own tokens")
    add("--conversations", type=int, default=20, help="conversations per user")
    add("--messages", type=int, default=20, help="messages in the conversation a user reads")
    add("--content-size", type=int, default=200, help="characters per message")
    add("--duration", type=float, default=20, help="measured seconds per endpoint and app")
    add("--rounds", type=int, default=5,
        help="the duration is split into this many rounds, Aura and the floor taking turns")
    add("--warmup", type=float, default=1, help="unmeasured seconds before each measurement")
    add("--concurrency", type=int, default=4,
        help="open connections of the load generator (SecantusDB saturates beyond a few)")
    add("--workers", type=int, default=1, help="server worker processes, as `aura serve`")
    add("--last-used-interval", type=int, default=5,
        help="SANCTUM_LAST_USED_INTERVAL for both apps: short, so the throttle is exercised")
    add("--scale", default="10,1000,100000",
        help="item counts for the scale run (conversations per user and messages per "
             "conversation); empty to skip")
    add("--scale-seconds", type=float, default=30,
        help="measured seconds per size and endpoint (the last request is waited for)")
    add("--report", type=Path, help="also write every figure and full plan here as JSON")
    add("--keep", action="store_true", help="keep the work directory and scratch database")
    return parser.parse_args()


def requests_for(
    endpoint: str, users: list[BenchUser], app: int, query: str = ""
) -> list[dict]:
    """The request each user makes on `endpoint`, with Aura's (0) or the floor's (1) token."""
    built = []
    for user in users:
        headers = {"Authorization": f"Bearer {user.tokens[app]}"}
        if endpoint == ENDPOINTS[0]:
            built.append({"method": "GET", "path": f"/chat/history{query}", "headers": headers})
        elif endpoint == ENDPOINTS[1]:
            path = f"/chat/conversations/{user.read_conversation}/messages{query}"
            built.append({"method": "GET", "path": path, "headers": headers})
        else:
            body = json.dumps({"conversation_id": user.write_conversation,
                               "content": "How fast is this?"})
            built.append({"method": "POST", "path": "/chat/message", "headers": headers,
                          "body": body})
    return built


def merge(rounds: list[dict]) -> dict:
    """One result from several rounds on the same app: sums, and percentiles over them all."""
    latencies = sorted(ns for result in rounds for ns in result.pop("latencies_ns"))
    requests, seconds = sum(r["requests"] for r in rounds), sum(r["seconds"] for r in rounds)
    statuses: dict[str, int] = {}
    for result in rounds:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "requests": requests, "seconds": seconds, "rps": requests / seconds if seconds else 0.0,
        "p50_ms": percentile(latencies, 0.50) if latencies else None,
        "p99_ms": percentile(latencies, 0.99) if latencies else None,
        "statuses": statuses,
        "cpu_s": sum(r["cpu_s"] for r in rounds),
        "cpu_precise_s": sum(r["cpu_precise_s"] for r in rounds),
        "rounds": rounds,
    }


def drive(app: apps.App, requests: list[dict], args: argparse.Namespace, **limits) -> dict:
    """Run the load generator in its own process against `app` (limits override options)."""
    spec = {
        "host": "127.0.0.1", "port": app.port, "concurrency": args.concurrency,
        "duration": args.duration, "warmup": args.warmup, "pids": app.pids,
        "requests": requests, **limits,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.load"], input=json.dumps(spec), capture_output=True,
        text=True, cwd=apps.ROOT,
    )
    if done.returncode:
        raise RuntimeError(f"the load generator failed against {app.name}:\n{done.stderr}")
    result = json.loads(done.stdout)
    bad = {status: n for status, n in result["statuses"].items() if status not in ("200", "201")}
    if bad:
        raise RuntimeError(f"{app.name} answered {bad} on {requests[0]['path']}")
    return result


def idle_rate(app: apps.App, seconds: float = IDLE_SECONDS) -> float:
    """CPU seconds per second `app` spends with no request at all (driver heartbeats, pool
    upkeep). At the largest sizes the embedded server takes seconds per query, and that
    background CPU would be charged to the few requests measured: the scale table subtracts
    it for the request's own CPU."""
    before = procstat.cpu(app.pids)
    time.sleep(seconds)
    return (procstat.cpu(app.pids) - before).precise_seconds / seconds


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="aura-bench-"))
        self.database = f"aura_bench_{os.getpid()}"
        self.database_url = args.admin_url.rsplit("/", 1)[0] + f"/{self.database}"
        self.mongo_port = free_port()
        self.mongo_uri = f"mongodb://127.0.0.1:{self.mongo_port}"
        self.secret = secrets.token_urlsafe(48)
        self.results: dict = {"machine": report.machine(), "options": vars(args) | {
            "report": str(args.report)}}

    def env(self, mongo_db: str, mongo_timeout_ms: int = 1_500) -> dict[str, str]:
        return {
            "MONGO_TIMEOUT_MS": str(mongo_timeout_ms),
            "AURA_ENV": "production", "SECRET_KEY": self.secret, "LOG_LEVEL": "WARNING",
            "DATABASE_URL": self.database_url, "MONGO_URI": self.mongo_uri,
            "MONGO_DB": mongo_db, "AURA_DATA_DIR": str(self.workdir / "aura-data"),
            "SANCTUM_LAST_USED_INTERVAL": str(self.args.last_used_interval),
        }

    def settings(self, mongo_db: str) -> Settings:
        env = self.env(mongo_db, mongo_timeout_ms=600_000)
        return Settings(_env_file=None, **{k.lower(): v for k, v in env.items()})

    def say(self, text: str) -> None:
        print(text, flush=True)

    def compare(self, users: list[BenchUser]) -> None:
        """Aura and the floor under the same load, one endpoint at a time."""
        env = self.env(MAIN_DB)
        aura = apps.start_aura(env, self.args.workers, self.workdir)
        floor = apps.start_floor(env, self.args.workers, self.workdir)
        try:
            aura.wait_ready("/chat/history", users[0].tokens[0])
            floor.wait_ready("/chat/history", users[0].tokens[1])
            started = touches.now(self.database_url)
            rows = []
            rounds = max(1, self.args.rounds)
            per_round = self.args.duration / rounds
            for endpoint in ENDPOINTS:
                self.say(f"  {endpoint}: {rounds} rounds, Aura and the floor taking turns")
                # Turns alternate (A B, B A, ...), so that a drift of the machine or of the
                # data (POST adds messages) weighs on both apps alike.
                measured: dict[int, list[dict]] = {0: [], 1: []}
                for turn in range(rounds):
                    for index in ((0, 1) if turn % 2 == 0 else (1, 0)):
                        app = (aura, floor)[index]
                        measured[index].append(drive(
                            app, requests_for(endpoint, users, index), self.args,
                            duration=per_round,
                        ))
                rows.append((endpoint, merge(measured[0]), merge(measured[1])))
            self.results["touches"] = touches.count(
                self.database_url, [u.tokens[0] for u in users], started,
                self.args.last_used_interval,
            )
            self.results["comparison"] = rows
            self.results["aura_rss_mb_after_comparison"] = aura.worker_rss_mb()
        finally:
            aura.stop()
            floor.stop()

    def scale(self, user: BenchUser, size: int) -> None:
        """Aura and the floor on one user holding `size` conversations and `size` messages in
        one: the floor shows what the data size alone does to a request's CPU."""
        mongo_db = SCALE_DB.format(size)
        self.say(f"  {size} items: seeding")
        (user,) = seed.seed_chats(self.mongo_uri, mongo_db, [user], size, size,
                                  self.args.content_size)
        seed.create_indexes(self.mongo_uri, mongo_db)
        # SecantusDB needs seconds per query at 100 000 items; wait for it instead of a 503.
        env = self.env(mongo_db, mongo_timeout_ms=600_000)
        aura = apps.start_aura(env, self.args.workers, self.workdir)
        floor = apps.start_floor(env, self.args.workers, self.workdir)
        try:
            aura.wait_ready("/chat/history", user.tokens[0], timeout=600)
            floor.wait_ready("/chat/history", user.tokens[1], timeout=600)
            idle = {0: idle_rate(aura), 1: idle_rate(floor)}
            for endpoint in ENDPOINTS[:2]:
                self.say(f"  {size} items: {endpoint}, Aura then the floor")
                measured = []
                for index, app in enumerate((aura, floor)):
                    result = drive(
                        app, requests_for(endpoint, [user], index, SCALE_PAGE), self.args,
                        concurrency=1, warmup=0, warmup_requests=1,
                        duration=self.args.scale_seconds,
                    )
                    result.pop("latencies_ns")
                    result["idle_cpu_per_s"] = idle[index]
                    measured.append(result)
                self.results.setdefault("scale", []).append((endpoint, size, *measured))
            self.results.setdefault("rss_mb", {})[size] = aura.worker_rss_mb()
        finally:
            aura.stop()
            floor.stop()
        self.say(f"  {size} items: explaining")
        labelled = [
            {**request, "label": endpoint}
            for endpoint in ENDPOINTS for request in requests_for(endpoint, [user], 0, SCALE_PAGE)
        ]
        reports = asyncio.run(plans.explain(self.settings(mongo_db), labelled))
        self.results.setdefault("plans", {})[size] = reports

    def run(self) -> None:
        args = self.args
        self.say(f"Work directory {self.workdir}; PostgreSQL database {self.database}")
        mongo = start_secantus(self.workdir / "mongo", self.mongo_port, self.workdir / "mongo.log")
        create_database(args.admin_url, self.database)
        try:
            migrate.upgrade(self.database_url)
            touches.install(self.database_url)
            sizes = [int(size) for size in args.scale.split(",") if size.strip()]
            self.say(f"Seeding {args.users} users x {args.conversations} conversations")
            users = seed.seed_users(self.database_url, args.users, "bench")
            users = seed.seed_chats(self.mongo_uri, MAIN_DB, users, args.conversations,
                                    args.messages, args.content_size)
            seed.create_indexes(self.mongo_uri, MAIN_DB)
            self.say("Aura against the floor")
            self.compare(users)
            self.print_comparison()
            scale_users = seed.seed_users(self.database_url, len(sizes), "scale")
            if sizes:
                self.say("Scale run")
            for user, size in zip(scale_users, sizes, strict=True):
                self.scale(user, size)
        finally:
            stop_process(mongo)
            if not args.keep:
                drop_database(args.admin_url, self.database)
                shutil.rmtree(self.workdir, ignore_errors=True)
        self.print()

    def print_comparison(self) -> None:
        """Printed as soon as it is known, so that a failure later keeps it."""
        results, machine = self.results, self.results["machine"]
        self.say("")
        self.say(f"Machine: {machine['nproc']} CPUs, {machine['cpu']}, "
                 f"{machine['memory_gb']} GB, Linux {machine['kernel']}, "
                 f"Python {machine['python']}; {self.args.workers} worker(s) per app")
        self.say(report.comparison_table(results["comparison"]))
        touched = results["touches"]
        self.say(
            f"last_used_at writes by Aura: {touched['writes']} for {touched['tokens']} tokens in "
            f"{touched['seconds']:.0f}s, at most {touched['max_per_token']} per token "
            f"(allowed {touched['allowed_per_token']}), {touched['too_close']} closer than "
            f"the {self.args.last_used_interval}s interval"
        )
        self.say(f"Aura worker resident size: {results['aura_rss_mb_after_comparison']:.0f} MB")
        self.say("")

    def print(self) -> None:
        results = self.results
        if results.get("scale"):
            self.say("")
            self.say(report.scale_table(results["scale"]))
            for size, rss in results["rss_mb"].items():
                self.say(f"Aura worker resident size after the {size}-item run: {rss:.0f} MB")
            for size, reports in results["plans"].items():
                self.say("")
                self.say(report.plans_text(size, reports))
        if self.args.report:
            self.args.report.write_text(json.dumps(results, indent=1, default=str))


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    # SIGTERM must still stop the servers and drop the scratch database.
    signal.signal(signal.SIGTERM, _raise_exit)
    Bench(options()).run()


if __name__ == "__main__":
    main()
