"""Starting and stopping the two servers under test: Aura via `aura serve`, and the floor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from aura.embedded import free_port
from bench import procstat

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class App:
    """One server process tree on a local port."""

    name: str
    port: int
    process: subprocess.Popen

    @property
    def pids(self) -> list[int]:
        return procstat.descendants(self.process.pid)

    def worker_rss_mb(self) -> float:
        """The largest resident size among the serving processes (the workers, or the one
        process when a single worker serves in the supervisor's place)."""
        workers = self.pids[1:] or [self.process.pid]
        return max(procstat.rss_mb(pid) for pid in workers)

    def wait_ready(self, path: str, token: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                # One slow first answer (a big collection) must not be asked for again.
                reply = httpx.get(
                    f"http://127.0.0.1:{self.port}{path}", headers=headers, timeout=timeout
                )
                if reply.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer {path} within {timeout}s")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> App:
    port = free_port()
    log = (workdir / f"{name}.log").open("ab")
    environment = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, *argv, "--port", str(port)], env=environment, cwd=workdir,
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    return App(name, port, process)


def start_aura(env: dict[str, str], workers: int, workdir: Path) -> App:
    """Exactly what production runs: `aura serve` (uvicorn, uvloop, httptools, N workers)."""
    argv = ["-c", "from aura.cli import main; main()", "serve", "--workers", str(workers)]
    return _start("aura", argv, env, workdir)


def start_floor(env: dict[str, str], workers: int, workdir: Path) -> App:
    return _start("floor", ["-m", "bench.floor", "--workers", str(workers)], env, workdir)
