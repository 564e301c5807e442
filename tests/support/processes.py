"""What /proc says about the processes a test or a bench started (Linux)."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    command: str
    nice: int
    cpu_seconds: float
    """User and system time so far."""


def all_processes() -> dict[int, Process]:
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()  # after the command name, which may hold spaces
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended meanwhile
        pid = int(stat.parent.name)
        found[pid] = Process(pid, int(fields[1]), command, int(fields[16]), (int(fields[11]) + int(fields[12])) / ticks)
    return found


def root_of(pid: int, roots: Collection[int], table: dict[int, Process]) -> int | None:
    """The first of `roots` at or above `pid`, if any."""
    while pid in table and pid not in roots:
        pid = table[pid].parent
    return pid if pid in roots else None


def tree(root: int) -> list[Process]:
    """`root` and every process under it."""
    table = all_processes()
    return [process for process in table.values() if root_of(process.pid, {root}, table) == root]
