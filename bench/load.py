"""The load generator: keep-alive HTTP/1.1 connections driven from one asyncio loop.

It runs in its own process (`python -m bench.load`, spec as JSON on stdin, result as JSON on
stdout) so that its CPU never mixes with the server's. It is Aura's own because it must read
the server's /proc counters at the exact edges of the measured window, which wrk or oha do not:
the window starts after a warm-up with no request in flight and ends when the last measured
response has arrived, so every request counted was served entirely inside it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field

import uvloop

from bench import procstat


@dataclass
class Phase:
    """One stretch of load: stops at `deadline` or after `budget` requests, whichever first."""

    deadline: float
    budget: int
    issued: int = 0
    latencies: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def take(self) -> bool:
        if self.issued >= self.budget or time.monotonic() >= self.deadline:
            return False
        self.issued += 1
        return True


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


def encode(request: dict, host: str) -> bytes:
    body = request.get("body", "").encode()
    lines = [f"{request['method']} {request['path']} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in request.get("headers", {}).items()]
    if body or request["method"] in ("POST", "PUT"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def drive(self, phase: Phase, payloads: list[bytes], offset: int, stride: int) -> None:
        index = offset
        while phase.take():
            payload = payloads[index % len(payloads)]
            index += stride
            started = time.perf_counter_ns()
            self.writer.write(payload)
            status = await read_response(self.reader)
            phase.latencies.append(time.perf_counter_ns() - started)
            phase.statuses[status] = phase.statuses.get(status, 0) + 1


async def run_phase(host: str, port: int, count: int, payloads: list[bytes], phase: Phase) -> None:
    """`count` fresh connections (a connection left idle while others drain the previous phase
    may have been closed by the server's keep-alive timeout) driven until the phase ends."""
    connections = [Connection(*await asyncio.open_connection(host, port)) for _ in range(count)]
    await asyncio.gather(
        *(connection.drive(phase, payloads, i, count) for i, connection in enumerate(connections))
    )
    for connection in connections:
        connection.writer.close()


def percentile(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return ordered[index] / 1e6


async def main(spec: dict) -> dict:
    host, port = spec["host"], spec["port"]
    payloads = [encode(request, f"{host}:{port}") for request in spec["requests"]]
    count = spec["concurrency"]
    warmup = Phase(time.monotonic() + spec["warmup"], spec.get("warmup_requests", 10**9))
    await run_phase(host, port, count, payloads, warmup)

    pids = spec["pids"]
    before, started = procstat.cpu(pids), time.monotonic()
    measured = Phase(started + spec["duration"], spec.get("requests_limit", 10**9))
    await run_phase(host, port, count, payloads, measured)
    elapsed, used = time.monotonic() - started, procstat.cpu(pids) - before

    done = len(measured.latencies)
    return {
        "requests": done,
        "seconds": elapsed,
        "rps": done / elapsed if elapsed else 0.0,
        "p50_ms": percentile(measured.latencies, 0.50) if done else None,
        "p99_ms": percentile(measured.latencies, 0.99) if done else None,
        "statuses": {str(status): n for status, n in sorted(measured.statuses.items())},
        "cpu_s": used.seconds,
        "cpu_precise_s": used.precise_seconds,
        "latencies_ns": measured.latencies,
    }


if __name__ == "__main__":
    result = uvloop.run(main(json.loads(sys.stdin.read())))
    json.dump(result, sys.stdout)
