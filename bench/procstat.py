"""CPU time and resident memory of server processes, read from /proc.

Only the app processes are counted: the databases and the load generator run in other
processes and never enter these sums.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class CpuSample:
    """utime+stime from /proc/<pid>/stat (clock ticks, the figure reported) and the
    nanosecond run time from each thread's schedstat (for windows shorter than a second)."""

    ticks: int
    nanoseconds: int

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.ticks - other.ticks, self.nanoseconds - other.nanoseconds)

    @property
    def seconds(self) -> float:
        return self.ticks / TICKS

    @property
    def precise_seconds(self) -> float:
        return self.nanoseconds / 1e9


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name sits in parentheses and may hold spaces: split after it.
    return raw[raw.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn's workers are children of its supervisor)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def _thread_nanoseconds(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def cpu(pids: list[int]) -> CpuSample:
    """The CPU used so far by `pids` (utime+stime, fields 14 and 15 of /proc/<pid>/stat)."""
    ticks = nanoseconds = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
            ticks += int(fields[11]) + int(fields[12])
            nanoseconds += _thread_nanoseconds(pid)
        except (OSError, ValueError):
            continue
    return CpuSample(ticks, nanoseconds)


def rss_mb(pid: int) -> float:
    """Resident set size of one process in MB (field 2 of /proc/<pid>/statm)."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * PAGE / 1e6
