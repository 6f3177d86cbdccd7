"""Where the cores go during a benchmark: CPU seconds of each component, read from /proc (Linux).

    with CpuAccount(servers=[pid, ...]) as account:
        ...load...
    account.per(1000, count)   -> {"servers": s, "PostgreSQL": s, "Redis": s, "load generator": s,
                                   "other": s, "machine busy %": p}

PostgreSQL and Redis are counted whole (every backend of the cluster, including those of other
databases on a shared machine) and "other" is the rest of the machine's busy time: on a shared
machine those two say how much of the budget was someone else's."""

from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def _cpu(pid: int, children: bool = False) -> float:
    """utime + stime (and, with `children`, the CPU of reaped children) in seconds."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    used = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of proc(5))
    if children:
        used += int(fields[13]) + int(fields[14])  # cutime, cstime: exited backends
    return used / TICK


def _by_name(name: str) -> list[tuple[int, int]]:
    """(pid, parent pid) of the processes called `name`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append((int(entry.name), int(_stat(int(entry.name))[1])))
            except (FileNotFoundError, ProcessLookupError, TypeError):
                continue
    return found


def _postgres() -> float:
    """The whole cluster: every postgres process, plus the postmaster's reaped children (a
    backend that ended between two samples)."""
    processes = _by_name("postgres")
    pids = {pid for pid, _parent in processes}
    return sum(_cpu(pid, children=parent not in pids) for pid, parent in processes)


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


def _backends(database_url: str) -> dict[int, float]:
    """CPU seconds of the live backends connected to this database (the servers' pooled
    connections; a backend that ends inside the window is missed: see the cluster figure)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid()").fetchall()
    return {pid: _cpu(pid) for (pid,) in rows}


class CpuAccount:
    def __init__(self, servers: list[int], database_url: str = ""):
        self.servers, self.database_url = servers, database_url

    def _sample(self) -> dict[str, float]:
        busy, total = _machine()
        self.backends = _backends(self.database_url) if self.database_url.startswith("postgres") else {}
        return {"servers": sum(_cpu(pid, children=True) for pid in self.servers), "PostgreSQL": _postgres(),
                "Redis": sum(_cpu(pid) for pid, _ in _by_name("redis-server")),
                "load generator": time.process_time(), "busy": busy, "total": total}

    def __enter__(self) -> CpuAccount:
        self.start = self._sample()
        self.start_backends = self.backends
        return self

    def __exit__(self, *exc) -> None:
        self.end = self._sample()
        # Backends present at both ends: what this database's connections used in the window.
        self.own_backends = sum(cpu - self.start_backends[pid] for pid, cpu in self.backends.items()
                                if pid in self.start_backends)

    def per(self, unit: int, count: int) -> dict[str, float]:
        used = {key: self.end[key] - self.start[key] for key in self.start}
        ours = sum(used[key] for key in ("servers", "PostgreSQL", "Redis", "load generator"))
        scale = unit / max(count, 1)
        shares = {key: used[key] * scale for key in ("servers", "PostgreSQL", "Redis", "load generator")}
        shares["other"] = max(used["busy"] - ours, 0.0) * scale
        if self.database_url.startswith("postgres"):
            shares["of which this database's pooled backends"] = self.own_backends * scale
        shares["machine busy %"] = 100 * used["busy"] / max(used["total"], 1e-9)
        return shares


def ceiling(shares: dict[str, float], unit: int, processes: int, cores: int | None = None) -> float:
    """The rate these CPU costs allow on `cores` cores that are ours alone: each server process
    is one Python interpreter (one core at most, the GIL), and everything (servers, PostgreSQL,
    Redis, the load generator) shares the cores."""
    cores = cores or os.cpu_count() or 1
    server = shares["servers"] / unit
    everything = sum(shares[key] for key in ("servers", "PostgreSQL", "Redis", "load generator")) / unit
    return min(min(processes, cores) / server, cores / everything) if server and everything else 0.0


def describe(shares: dict[str, float], unit: int) -> str:
    own = shares.get("of which this database's pooled backends")
    parts = []
    for key in ("servers", "PostgreSQL", "Redis", "load generator", "other"):
        extra = f" (this database's pooled backends {own:.2f})" if key == "PostgreSQL" and own is not None else ""
        parts.append(f"{key} {shares[key]:.2f}{extra}")
    return f"CPU s per {unit:,} webhooks: {', '.join(parts)}; machine busy {shares['machine busy %']:.0f}%"
