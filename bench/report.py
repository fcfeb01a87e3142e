"""The printed tables."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> dict:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    total_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "nproc": os.cpu_count(), "cpu": model, "memory_gb": round(total_kb / 1024 / 1024, 1),
        "kernel": platform.release(), "python": platform.python_version(),
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _cpu_ms(result: dict, precise: bool = False) -> float | None:
    if not result["requests"]:
        return None
    seconds = result["cpu_precise_s"] if precise else result["cpu_s"]
    return 1000 * seconds / result["requests"]


def comparison_table(rows: list[tuple[str, dict, dict]]) -> str:
    """Per endpoint: Aura and floor throughput, latency, CPU per request, and the ratios."""
    header = (
        f"{'endpoint':<38} {'app':<6} {'requests':>8} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'CPU ms/req':>11}"
    )
    lines = [header, "-" * len(header)]
    for endpoint, aura, floor in rows:
        for name, result in (("aura", aura), ("floor", floor)):
            cpu = _cpu_ms(result)
            lines.append(
                f"{endpoint if name == 'aura' else '':<38} {name:<6} {result['requests']:>8}"
                f" {result['rps']:>8.0f} {_ms(result['p50_ms']):>8} {_ms(result['p99_ms']):>8}"
                f" {_ms(cpu) if cpu is None else f'{cpu:.3f}':>11}"
            )
        aura_cpu, floor_cpu = _cpu_ms(aura), _cpu_ms(floor)
        ratio = aura_cpu / floor_cpu if aura_cpu and floor_cpu else float("nan")
        rps = aura["rps"] / floor["rps"] if floor["rps"] else float("nan")
        lines.append(
            f"{'':<38} {'ratio':<6} {'':>8} {rps:>8.2f} {'':>8} {'':>8} {ratio:>11.2f}"
            f"  {_round_spread(aura, floor)}"
        )
    return "\n".join(lines)


def _round_spread(aura: dict, floor: dict) -> str:
    """The CPU ratio of each round pair (schedstat), to show how much the machine wandered."""
    pairs = zip(aura.get("rounds", []), floor.get("rounds", []), strict=False)
    ratios = sorted(
        _cpu_ms(a, precise=True) / _cpu_ms(f, precise=True)
        for a, f in pairs if a["requests"] and f["requests"] and f["cpu_precise_s"]
    )
    if len(ratios) < 2:
        return ""
    return f"rounds {ratios[0]:.2f}-{ratios[-1]:.2f}"


def scale_table(rows: list[tuple[str, int, dict, dict]]) -> str:
    """Aura and the floor at each size: CPU per request (stat ticks, schedstat, and schedstat
    less the app's idle CPU over the same seconds), its growth from the first size, latency,
    and Aura's CPU over the floor's at that size."""
    header = (
        f"{'endpoint':<38} {'items':>7} {'app':<6} {'requests':>8} {'p50 ms':>9}"
        f" {'CPU ms/req':>11} {'(schedstat)':>11} {'less idle':>10} {'vs first':>8}"
    )
    lines = [header, "-" * len(header)]
    first: dict[tuple[str, str], float | None] = {}
    for endpoint, size, *results in rows:
        nets = []
        for name, result in zip(("aura", "floor"), results, strict=False):
            precise = _cpu_ms(result, precise=True)
            net = _net_cpu_ms(result)
            nets.append(net)
            base = first.setdefault((endpoint, name), net)
            growth = net / base if net and base else float("nan")
            lines.append(
                f"{endpoint if name == 'aura' else '':<38} {size:>7} {name:<6}"
                f" {result['requests']:>8} {_ms(result['p50_ms']):>9}"
                f" {_cpu_ms(result) or 0:>11.3f} {precise or 0:>11.3f} {net or 0:>10.3f}"
                f" {growth:>8.2f}"
            )
        if len(nets) == 2 and nets[0] and nets[1]:
            lines.append(f"{'':<38} {'':>7} {'ratio':<6} {'':>8} {'':>9} {'':>11} {'':>11}"
                         f" {nets[0] / nets[1]:>10.2f}")
    return "\n".join(lines)


def _net_cpu_ms(result: dict) -> float | None:
    """CPU per request less what the app burns idle over the measured seconds."""
    if not result["requests"]:
        return None
    idle = result.get("idle_cpu_per_s", 0.0) * result["seconds"]
    return 1000 * max(result["cpu_precise_s"] - idle, 0.0) / result["requests"]


def plans_text(size: int, reports: list[dict]) -> str:
    lines = [f"Queries Aura sends at {size} items, with their plans:"]
    for report in reports:
        lines.append(f"  {report['request']}")
        for sql in report["sql"]:
            lines.append(f"    SQL  {sql['sql'][:90]}")
            lines.append(f"         plan {' > '.join(sql['nodes'])}  rows {sql['rows']}")
        for query in report["mongo"]:
            shown = {k: query[k] for k in ("filter", "sort", "limit", "hint") if k in query}
            lines.append(f"    MDB  {query['command']} {query['collection']} {shown}")
            if "plan" in query:
                lines.append(f"         {query['plan']}")
                continue
            lines.append(
                f"         plan {' > '.join(query['stages'])} index {query['index']}"
                f" bounds {query['bounds'] or '-'} keys {query['keys_examined']}"
                f" docs {query['docs_examined']} returned {query['returned']}"
                f" server {query['server_ms']} ms"
            )
    return "\n".join(lines)
