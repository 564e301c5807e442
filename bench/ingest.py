"""How fast Plein takes mail in, and how soon a message is visible after its 250.

Starts a real Plein on loopback (the embedded profile, or the production profile with
PostgreSQL and Redis started from Debian's packages), then:

1. throughput: N concurrent SMTP clients send as fast as they can for a fixed time;
   reports messages accepted (250) per second;
2. latency: a few clients send at a fixed rate between them; for every tenth message, the
   time from its 250 to the post being visible in the API (its row committed) and in search
   (found by a word unique to it), reported as p50/p95/p99.

    python bench/ingest.py --profile embedded --clients 8 --seconds 20 --rate 100
    python bench/ingest.py --profile production --smtp-processes 2

`--smtp-processes` starts more `plein smtp` processes on the same port (SO_REUSEPORT; the
kernel spreads connections over them), and `--extra-workers` more `plein worker` processes,
as a deployment with more mail than one process takes would.

Figures and the command that produced them go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import smtplib
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from tests.support.databases import PostgresServer, RedisServer  # noqa: E402
from tests.support.processes import all_processes, root_of  # noqa: E402
from tests.support.servers import PleinServer, ProductionPlein, wait_for  # noqa: E402


def message(server: PleinServer, subject: str, word: str) -> bytes:
    """A plain mail as a client sends it; formatted from a template, so the clients stay cheap."""
    return (
        f"From: Bench <bench@example.com>\r\nTo: bench@{server.domain}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{word}@bench.example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Benchmark message with the unique word {word}.\r\n\r\nOp een dinsdag schreef iemand iets.\r\n"
    ).encode()


def send(smtp: smtplib.SMTP, server: PleinServer, subject: str, word: str) -> None:
    smtp.sendmail("bench@example.com", [f"bench@{server.domain}"], message(server, subject, word))


def throughput(server: PleinServer, clients: int, seconds: float) -> float:
    accepted = [0] * clients
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
            sent = 0
            while time.monotonic() < deadline:
                send(smtp, server, f"load {number}-{sent}", f"load{number}x{sent}")
                sent += 1
                accepted[number] = sent

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(accepted) / (time.monotonic() - started)


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process together with its children (prefork pools)."""
    table = all_processes()
    name_of = {pid: name for name, pid in roots.items()}
    totals = dict.fromkeys(roots, 0.0)
    for process in table.values():
        root = root_of(process.pid, name_of, table)
        if root is not None:
            totals[name_of[root]] += process.cpu_seconds
    totals["bench (its clients and watcher)"] = table[os.getpid()].cpu_seconds
    totals["machine (all processes)"] = sum(process.cpu_seconds for process in table.values())
    return totals


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100)
    return f"p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms"


class Watcher:
    """Notes when sampled messages become visible, from one thread, so that watching costs the
    server little: one query for new post rows on one open connection, then one search per
    message already in the API and not yet found, over one keep-alive HTTP connection."""

    POLL_SECONDS = 0.02

    def __init__(self, server: PleinServer, token: str) -> None:
        self.server, self.token = server, token
        self.sampled: dict[str, str] = {}
        """Title -> the word unique to it."""
        self.in_api: dict[str, float] = {}
        self.in_search: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def watch(self, title: str, word: str) -> None:
        self.sampled[title] = word

    def run(self) -> None:
        database, placeholder = self._connect()
        newer_than = database.execute("SELECT coalesce(max(id), 0) FROM posts").fetchone()[0]
        with httpx.Client(base_url=self.server.base_url, headers={"Authorization": f"Bearer {self.token}"},
                          timeout=10) as http:
            try:
                while not self.stop.is_set():
                    new = database.execute(
                        f"SELECT id, title FROM posts WHERE id > {placeholder} ORDER BY id", (newer_than,)
                    ).fetchall()
                    for post_id, title in new:
                        newer_than = post_id
                        if title in self.sampled:
                            self.in_api[title] = time.monotonic()
                    for title in [t for t in self.in_api if t not in self.in_search]:
                        if http.get("/api/search", params={"q": self.sampled[title]}).json()["total"]:
                            self.in_search[title] = time.monotonic()
                    time.sleep(self.POLL_SECONDS)
            finally:
                database.close()

    def _connect(self):
        """One connection to the server's database, and its parameter placeholder."""
        if isinstance(self.server, ProductionPlein):
            import psycopg

            url = self.server.database_url.replace("postgresql+psycopg://", "postgresql://")
            return psycopg.connect(url, autocommit=True), "%s"
        return sqlite3.connect(self.server.data_dir / "plein.db", isolation_level=None), "?"


def latency(
    server: PleinServer, token: str, rate: float, seconds: float, clients: int
) -> tuple[list[float], list[float], int]:
    """`clients` SMTP connections send `rate` messages a second between them; for every tenth
    message, time its post row (the API) and its search hit."""
    accepted_at: dict[str, float] = {}
    watcher = Watcher(server, token)
    watcher.thread.start()

    def client(number: int) -> None:
        with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
            start = time.monotonic()
            sent = 0
            while time.monotonic() - start < seconds:
                title, word = f"timed {number}-{sent}", f"timed{number}x{sent}word"
                if sent % 10 == 0:
                    watcher.watch(title, word)
                send(smtp, server, title, word)
                accepted_at[title] = time.monotonic()
                sent += 1
                time.sleep(max(0.0, start + sent * clients / rate - time.monotonic()))

    senders = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    give_up = time.monotonic() + 60
    while len(watcher.in_search) < len(watcher.sampled) and time.monotonic() < give_up:
        time.sleep(0.1)
    watcher.stop.set()
    watcher.thread.join()
    api = [watcher.in_api[t] - accepted_at[t] for t in watcher.in_api]
    search = [watcher.in_search[t] - accepted_at[t] for t in watcher.in_search]
    return api, search, len(accepted_at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=["embedded", "production"], default="embedded")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=100, help="messages per second in the latency phase")
    parser.add_argument("--latency-clients", type=int, default=4, help="SMTP clients sharing that rate")
    parser.add_argument("--smtp-processes", type=int, default=1, help="`plein smtp` processes on one port")
    parser.add_argument("--extra-workers", type=int, default=0,
                        help="`plein worker` processes (solo pool) started beside the profile's own")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="plein-bench-"))
    databases = []
    unlimited = {"smtp_max_per_sender_per_minute": "1000000000", "smtp_max_per_client_per_minute": "1000000000"}
    if args.profile == "production":
        databases = [PostgresServer(), RedisServer()]
        server = ProductionPlein(workdir / "data", databases[0].url, databases[1].url, **unlimited)
    else:
        server = PleinServer(workdir / "data", **unlimited)
    server.cli("user", "add", "bench@example.com", "--name", "Bench")
    server.cli("group", "create", "bench", "--name", "Bench")
    server.cli("group", "add-member", "bench", "bench@example.com", "--delivery", "none")
    token = server.cli("token", "create", "bench@example.com").stdout.strip()
    server.start()
    for number in range(2, args.smtp_processes + 1):
        server.spawn(f"smtp-{number}", "smtp")
    for number in range(2, args.smtp_processes + 1):  # clients connecting earlier would all go to the first
        log = server.data_dir.parent / f"{server.data_dir.name}-smtp-{number}.log"
        wait_for(lambda: "SMTP on" in log.read_text(errors="replace"), what=f"plein smtp {number} to listen")
    for number in range(1, args.extra_workers + 1):
        server.spawn(f"extra-worker-{number}", "worker")
    os.environ.update({name: value for name, value in server.env.items() if name.startswith("PLEIN_")})
    from hub.jobs import queue_depths  # with this server's broker settings

    try:
        print(f"machine: {platform.node()}, {platform.machine()}, {platform.python_version()}, profile {args.profile}")
        roles = {name: process.pid for name, process in server.processes.items()}
        before = cpu_seconds(roles)
        rate = throughput(server, args.clients, args.seconds)
        used = {name: seconds - before[name] for name, seconds in cpu_seconds(roles).items()}
        print(f"accepted: {rate:.0f} messages/s with {args.clients} concurrent SMTP clients for {args.seconds:.0f} s")
        print("  CPU while accepting, share of one core: " + ", ".join(
            f"{name} {seconds / args.seconds:.2f}" for name, seconds in used.items()
        ))
        drained = time.monotonic()
        while server.query("SELECT count(*) FROM inbound_messages WHERE status = 'received'")[0][0]:
            time.sleep(0.5)
        print(f"  every message posted {time.monotonic() - drained:.1f} s after the last 250")
        while any(queue_depths().values()):
            time.sleep(0.5)
        print(f"  every task done (notifications, index) {time.monotonic() - drained:.1f} s after the last 250")
        before = cpu_seconds(roles)
        api, search, sent = latency(server, token, args.rate, args.seconds, args.latency_clients)
        used = {name: seconds - before[name] for name, seconds in cpu_seconds(roles).items()}
        print(f"latency at {args.rate:.0f} messages/s from {args.latency_clients} clients, {sent} messages:")
        print(f"  250 -> visible in the API: {percentiles(api)} ({len(api)} sampled)")
        print(f"  250 -> found by search: {percentiles(search)} ({len(search)} sampled)")
        print("  CPU in the latency phase, ms per message: " + ", ".join(
            f"{name} {1000 * seconds / sent:.1f}" for name, seconds in used.items()
        ))
    finally:
        server.stop()
        for database in databases:
            database.close()


if __name__ == "__main__":
    main()
