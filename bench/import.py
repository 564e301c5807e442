"""Benchmark: `plein import mbox` of a generated list archive, until searchable, then `plein export` of the group.

    python bench/import.py [--messages 100000] [--message-kb 9] [--database-url postgresql+psycopg://...]

Writes an mbox of realistic threads (tests/support/archives.py: answers by In-Reply-To and References,
some by subject alone, some before the message they answer, an attachment now and then), about 1 GB
at the defaults. It builds a fresh hub in a temporary data directory (SQLite as `plein run` has it,
or the database given), migrates it, and runs the real commands as child processes
(`python -m hub.cli import mbox ...`). "Searchable" is the import plus the index's flush of what it
marked (`hub.services.index_writer.flush`, as the indexer runs it), timed apart. Memory is the peak
resident size of the import's process, also for an archive a tenth the size: flat means the two are
close. Each figure is wall-clock time and the CPU time the command used.
Requirement: 100,000 messages imported, threaded and searchable in under 5 minutes (at least 330
messages a second), memory flat in the archive's size, and the export at least as fast.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailgateway.archives import read_mbox  # noqa: E402
from mailgateway.timebox import parse_and_trim  # noqa: E402
from tests.support.archives import write_mbox  # noqa: E402

PARSED_APART = 1_000
"""Messages parsed and trimmed in the bench's own process, to show the parser child's share apart."""

FLUSH = "from hub.context import build_context; from hub.services import index_writer; print(index_writer.flush(build_context()))"
"""The indexer's flush, in a process of its own: the bench's memory is no child's (a fork starts with its parent's)."""


def _parse_cpu(path: Path) -> float:
    raws = [mail.raw for _, mail in zip(range(PARSED_APART), read_mbox(path, 1 << 30)) if mail.raw is not None]
    started = time.process_time()
    for raw in raws:
        parse_and_trim(raw)
    return (time.process_time() - started) * 1000 / max(1, len(raws))


def _timed(env: dict, *command: str) -> tuple[float, float, int, str]:
    """Run `plein COMMAND` in a fresh process: wall seconds, its CPU seconds, its peak resident kB, last line."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as output:
        child = subprocess.Popen([sys.executable, "-m", "hub.cli", *command], env=env, cwd=ROOT,
                                 stdout=output, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        output.seek(0)
        lines = output.read().strip().splitlines()
    if child.returncode not in (0, 1):
        sys.exit(f"plein {' '.join(command)} failed with exit status {child.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, (lines or [""])[-1]


def run(messages: int, message_kb: float, database_url: str, folder: Path) -> None:
    data = folder / f"data-{messages}"
    data.mkdir()
    env = {**os.environ, "PLEIN_DATA_DIR": str(data), "PLEIN_DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "hub.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-m", "hub.cli", "group", "create", "team", "--name", "Team"],
                   env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    path = folder / f"archive-{messages}.mbox"
    archive = write_mbox(path, messages, message_kb=message_kb)
    size = path.stat().st_size
    print(f"{messages} messages in {archive.threads} threads, {size / 1e6:.0f} MB")
    print(f"  parsing and trimming alone (the parser child's work): {_parse_cpu(path):.2f} ms of CPU a message")
    elapsed, cpu, peak, summary = _timed(env, "import", "mbox", str(path), "--group", "team")
    print(f"  import: {elapsed:.1f} s ({cpu:.1f} s CPU), {messages / elapsed:.0f} messages/s, "
          f"peak memory {peak / 1024:.0f} MB: {summary}")
    started = time.perf_counter()
    flushed = subprocess.run([sys.executable, "-c", FLUSH], env=env, cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.strip()
    indexing = time.perf_counter() - started
    print(f"  index: {flushed} items in {indexing:.1f} s; searchable after {elapsed + indexing:.1f} s, "
          f"{messages / (elapsed + indexing):.0f} messages/s")
    elapsed, cpu, _, summary = _timed(env, "export", "--group", "team", "--format", "mbox", str(folder / "out.mbox"))
    print(f"  export: {elapsed:.1f} s ({cpu:.1f} s CPU), {messages / elapsed:.0f} messages/s: {summary}")
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--message-kb", type=float, default=9.0, help="quoted history added to each message")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plein-bench-import-") as folder:
        for messages in (max(1, args.messages // 10), args.messages):
            run(messages, args.message_kb, args.database_url, Path(folder))


if __name__ == "__main__":
    main()
