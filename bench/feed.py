"""Benchmark: the home feed over HTTP with 8 clients, beside the same query in plain SQL, on SQLite and PostgreSQL.

    python bench/feed.py [--scale 1.0] [--rounds 100] [--engines sqlite,postgres] [--web-processes N] [--keep DIR]

At `--scale 1` it builds a hub of 30,000 people in 1,000 groups (every tenth private), with
1,000,000 posts and comments (a quarter posts) written over two years, 8% of posts and comments
tagged from 500 tags (a few tags common, most rare) and 1% of comments removed. Each person
is a member of 10 groups and follows them, and follows 50 people, 5 tags and 20 threads; they
have opened 10 threads. The rows go in by COPY on PostgreSQL and by bulk inserts on SQLite,
not through the services: this measures reading the feed, not writing.

Then `plein web` serves the hub (`--web-processes`, one per core by default, as docs/deployment.md advises
for a machine that serves the web) and 8 clients ask for
the first page of `GET /api/feed` of random people (each with an API token), `--rounds` times
each; beside it, in the same run, 8 threads send the same SQL that finds a page's items
(`hub.services.feed.feed_keys`: the statements it sent for each person, with their values)
over plain DB-API connections: what the database alone costs, without the page's other reads
(the items, reactions, read marks), the session, JSON and HTTP. The figures are the latencies
(p50, p95, p99) and the pages per second, and the server's processor time per page with one client asking in
turn (a figure the machine's other work hardly moves). Nothing is asserted; the target is a p95 under 50 ms at `--scale 1`.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, text  # noqa: E402

from hub.context import build_context  # noqa: E402
from hub.db import upgrade_database  # noqa: E402
from hub.models import Base, User  # noqa: E402
from hub.services import accounts, feed  # noqa: E402
from hub.settings import Settings  # noqa: E402
from tests.support.servers import wait_for  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
TAGS = [f"onderwerp{n}" for n in range(500)]
TAG_WEIGHTS = [1 / (n + 1) for n in range(len(TAGS))]
SENTENCES = [
    "Bij een klant brandt het LOS-lampje rood na de installatie.",
    "Wie kan er morgen langs om de meterkast na te lopen?",
    "De planning voor volgende week staat in de bijlage.",
    "Meestal is de connector vuil; reinigen en opnieuw meten.",
    "Thanks, I will pick this up after the stand-up.",
    "The release moved to Thursday; the rollback plan is ready.",
]
CHUNK = 20_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def body(rng: random.Random) -> str:
    return " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 4)))


def stamp(moment: datetime) -> datetime:
    return min(moment, NOW)


class Hub:
    """The sizes of one benchmark hub at a scale, and its rows, made from one seed."""

    def __init__(self, scale: float, seed: int = 17) -> None:
        self.people = max(100, int(30_000 * scale))
        self.groups = max(20, int(1_000 * scale))
        items = max(1_000, int(1_000_000 * scale))
        self.posts = items // 4
        self.comments = items - self.posts
        self.rng = random.Random(seed)
        self.post_times: list[datetime] = []
        self.post_groups: list[int] = []

    def is_private(self, group_id: int) -> bool:
        return group_id % 10 == 0

    def users(self):
        for i in range(1, self.people + 1):
            yield {
                "id": i,
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "created_at": NOW - SPAN,
                "timezone": "Europe/Amsterdam",
                "digest_hour": 8,
                "digest_weekday": 0,
                "language": "nl",
                "notify_replies": True,
            }

    def group_rows(self):
        for g in range(1, self.groups + 1):
            yield {
                "id": g,
                "slug": f"group{g}",
                "name": f"Group {g}",
                "description": "",
                "is_private": self.is_private(g),
                "created_at": NOW - SPAN,
            }

    def post_rows(self):
        step = SPAN / self.posts
        for i in range(1, self.posts + 1):
            group_id = self.rng.randint(1, self.groups)
            created = NOW - SPAN + step * i
            self.post_times.append(created)
            self.post_groups.append(group_id)
            yield {
                "id": i,
                "group_id": group_id,
                "author_id": self.rng.randint(1, self.people),
                "title": f"Onderwerp {i}: wie weet raad?",
                "body_text": body(self.rng),
                "created_at": created,
            }

    def comment_rows(self):
        for i in range(1, self.comments + 1):
            post_id = self.rng.randint(1, self.posts)
            created = stamp(self.post_times[post_id - 1] + timedelta(minutes=self.rng.randint(1, 7 * 24 * 60)))
            removed = created if self.rng.random() < 0.01 else None
            yield {
                "id": i,
                "post_id": post_id,
                "author_id": self.rng.randint(1, self.people),
                "body_text": "" if removed else body(self.rng),
                "created_at": created,
                "removed_at": removed,
            }

    def tagging_rows(self, comment_times: dict[int, tuple[int, datetime]]):
        for post_id in range(1, self.posts + 1):
            if self.rng.random() < 0.08:
                yield {
                    "tag": self.tag(),
                    "post_id": post_id,
                    "comment_id": None,
                    "created_at": self.post_times[post_id - 1],
                }
        for comment_id, (post_id, created) in comment_times.items():
            yield {"tag": self.tag(), "post_id": post_id, "comment_id": comment_id, "created_at": created}

    def tag(self) -> str:
        return self.rng.choices(TAGS, TAG_WEIGHTS)[0]

    def membership_rows(self, members: dict[int, list[int]]):
        for user_id, group_ids in members.items():
            for group_id in group_ids:
                yield {"user_id": user_id, "group_id": group_id, "delivery": "none", "created_at": NOW - SPAN}

    def follow_rows(self, members: dict[int, list[int]]):
        for user_id in range(1, self.people + 1):
            common = dict(
                user_id=user_id,
                following=True,
                muted=False,
                created_at=NOW - SPAN,
                person_id=None,
                group_id=None,
                post_id=None,
                tag=None,
            )
            for person_id in self.rng.sample(range(1, self.people + 1), 50):
                if person_id != user_id:
                    yield {**common, "kind": "person", "person_id": person_id}
            for group_id in members[user_id]:
                yield {**common, "kind": "group", "group_id": group_id}
            for tag in set(self.rng.choices(TAGS, TAG_WEIGHTS, k=5)):
                yield {**common, "kind": "tag", "tag": tag}
            for post_id in self.rng.sample(range(1, self.posts + 1), 20):
                yield {**common, "kind": "post", "post_id": post_id}

    def read_rows(self):
        for user_id in range(1, self.people + 1):
            for post_id in self.rng.sample(range(1, self.posts + 1), 10):
                yield {
                    "user_id": user_id,
                    "post_id": post_id,
                    "read_at": stamp(self.post_times[post_id - 1] + timedelta(days=1)),
                }


def load(connection, table: str, rows) -> int:
    """`rows` into `table`: by COPY on PostgreSQL (psycopg's copy), by bulk inserts in chunks elsewhere; how many."""
    if connection.dialect.name == "postgresql":
        return copy(connection, table, rows)
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            connection.execute(insert(Base.metadata.tables[table]), batch)
            count, batch = count + len(batch), []
    if batch:
        connection.execute(insert(Base.metadata.tables[table]), batch)
    return count + len(batch)


def copy(connection, table: str, rows) -> int:
    """`COPY table FROM STDIN` of `rows`, in the transaction of `connection`: timestamps as naive UTC, as
    `hub.models.base.UTCDateTime` stores them."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    columns, count = list(first), 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copying:
        for row in itertools.chain([first], rows):
            copying.write_row([naive(row[column]) for column in columns])
            count += 1
    return count


def naive(value):
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value


def generate(context, hub: Hub) -> None:
    started = time.perf_counter()
    members = {u: hub.rng.sample(range(1, hub.groups + 1), 10) for u in range(1, hub.people + 1)}
    counts = {}
    with context.engine.begin() as connection:
        counts["people"] = load(connection, "users", hub.users())
        counts["groups"] = load(connection, "groups", hub.group_rows())
        counts["memberships"] = load(connection, "memberships", hub.membership_rows(members))
        counts["posts"] = load(connection, "posts", hub.post_rows())
        tagged_comments: dict[int, tuple[int, datetime]] = {}

        def comments():
            for row in hub.comment_rows():
                if row["removed_at"] is None and hub.rng.random() < 0.08:
                    tagged_comments[row["id"]] = (row["post_id"], row["created_at"])
                yield row

        counts["comments"] = load(connection, "comments", comments())
        counts["taggings"] = load(connection, "taggings", hub.tagging_rows(tagged_comments))
        counts["follows"] = load(connection, "follows", hub.follow_rows(members))
        counts["thread reads"] = load(connection, "thread_reads", hub.read_rows())
    with context.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if context.engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE"))
        else:  # as `plein run` would have it after a while: statistics, and the write-ahead log folded in
            connection.execute(text("ANALYZE"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    figures = ", ".join(f"{n:,} {what}" for what, n in counts.items())
    print(f"  data: {figures} in {time.perf_counter() - started:.0f} s", flush=True)


def settings_for(data_dir: Path, database_url: str) -> Settings:
    return Settings(data_dir=data_dir, mail_domain="plein.bench", database_url=database_url)


def serve(data_dir: Path, database_url: str, port: int, processes: int) -> subprocess.Popen:
    """`plein web` on the bench hub, as a deployment runs it: `processes` processes on one port."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PLEIN_")} | {
        "PLEIN_DATA_DIR": str(data_dir),
        "PLEIN_DATABASE_URL": database_url,
        "PLEIN_MAIL_DOMAIN": "plein.bench",
        "PLEIN_HTTP_PORT": str(port),
        "PLEIN_METRICS_PORT": "0",
        "PLEIN_WEB_PROCESSES": str(processes),
    }
    command = [sys.executable, "-m", "hub.cli", "web"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(clients: int, rounds: int, ask) -> dict:
    """`ask(client, round)` timed `rounds` times by each of `clients` threads at once."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        mine = []
        ask_one = ask(n)
        for r in range(rounds):
            started = time.perf_counter()
            ask_one(r)
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "rate": len(latencies) / elapsed}


def server_cpu_seconds(server: subprocess.Popen) -> float:
    """Processor time, user and system, of `plein web` and its processes so far (Linux's /proc)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    total = 0
    for pid in [server.pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_per_page(server: subprocess.Popen, pages: int, ask) -> float:
    """Milliseconds of the server's processor time per page, one client asking `pages` in turn: unlike latency
    under 8 clients, this does not depend on what else the machine runs."""
    ask_one = ask(0)
    before = server_cpu_seconds(server)
    for r in range(pages):
        ask_one(r)
    return (server_cpu_seconds(server) - before) * 1000 / pages


def http_asker(port: int, tokens: list[str]):
    def for_client(n: int):
        # http.client, not httpx: the clients share the cores with the server (see bench/search.py).
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def ask(r: int) -> None:
            token = tokens[(n * 7919 + r) % len(tokens)]
            connection.request("GET", "/api/feed", headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200 or not json.loads(answer)["items"]:
                raise RuntimeError(f"/api/feed answered {response.status}: {answer[:200]!r}")

        return ask

    return for_client


def page_asker(port: int, headers: list[dict[str, str]], paths: list[str]):
    """Clients that each ask, in turn, for the `paths` with their own `headers` (a cookie, a token); any answer but
    200 stops the bench."""
    def for_client(n: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def ask(r: int) -> None:
            path = paths[(n * 7919 + r) % len(paths)]
            connection.request("GET", path, headers=headers[n % len(headers)])
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}: {answer[:200]!r}")

        return ask

    return for_client


def feed_statements(context, session, reader: User) -> list[tuple[str, object]]:
    """The SQL statements, with their parameters, that reading the keys of `reader`'s first page sends."""
    sent = []

    def keep(connection, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    feed.feed_keys(session, reader)  # the process's newest items (hub.services.newest_items) are read once
    event.listen(context.engine, "before_cursor_execute", keep)
    try:
        feed.feed_keys(session, reader)
    finally:
        event.remove(context.engine, "before_cursor_execute", keep)
    return sent


def sql_asker(context, statements: list[list[tuple[str, object]]]):
    def for_client(n: int):
        raw = context.engine.raw_connection()

        def ask(r: int) -> None:
            cursor = raw.cursor()
            for statement, parameters in statements[(n * 7919 + r) % len(statements)]:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            cursor.close()

        return ask

    return for_client


def report(label: str, figures: dict) -> None:
    print(
        f"  {label:<28} 8 clients: p50 {figures['p50']:6.1f} ms  p95 {figures['p95']:6.1f} ms  "
        f"p99 {figures['p99']:6.1f} ms  {figures['rate']:6.0f} pages/s",
        flush=True,
    )


def run(engine: str, database_url: str, scale: float, rounds: int, readers: int, processes: int, kept: Path | None):
    print(f"{engine}:", flush=True)
    with tempfile.TemporaryDirectory(prefix="plein-bench-feed-") as work:
        data_dir = kept or Path(work)
        settings = settings_for(data_dir, database_url)
        hub = Hub(scale)
        built = data_dir / f"built-at-scale-{scale}"
        if not built.exists():
            upgrade_database(settings)
            context = build_context(settings)
            generate(context, hub)
            built.touch()
        else:
            print(f"  data: kept in {data_dir}", flush=True)
            context = build_context(settings)
        chosen = random.Random(3).sample(range(1, hub.people + 1), readers)
        with context.session_scope() as session:
            tokens = [accounts.create_api_token(session, session.get(User, user_id)) for user_id in chosen]
        with context.session_scope() as session:
            statements = [feed_statements(context, session, session.get(User, user_id)) for user_id in chosen]
        port = free_port()
        server = serve(data_dir, database_url, port, processes)
        try:
            wait_for(lambda: serving(port), timeout=120, what="the hub")
            asked_over_http, asked_in_sql = http_asker(port, tokens), sql_asker(context, statements)
            measure(8, max(5, rounds // 4), asked_over_http)  # warm up caches and connections
            measure(8, max(5, rounds // 4), asked_in_sql)
            print(f"  load {os.getloadavg()[0]:.1f}", flush=True)
            report("plain SQL, feed query", measure(8, rounds, asked_in_sql))
            report(f"GET /api/feed, {processes} web processes", measure(8, rounds, asked_over_http))
            print(f"  server CPU per page, one client: {cpu_per_page(server, 8 * rounds, asked_over_http):.1f} ms")
            print(f"  load {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            context.engine.dispose()


def serving(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/health/live")
        return connection.getresponse().status < 500
    except OSError:
        return False


def each_database(engines: str, parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
    """(engine, database URL) for each of the comma-separated `engines`: SQLite in the bench's data directory
    (an empty URL), or a PostgreSQL started for the run and stopped after it."""
    for engine in engines.split(","):
        if engine == "sqlite":
            yield engine, ""
        elif engine == "postgres":
            from tests.support import databases

            if databases.POSTGRES_BIN is None:
                print("postgres: not installed (Debian package postgresql): left out")
                continue
            postgres = databases.PostgresServer()
            try:
                yield engine, postgres.url
            finally:
                postgres.close()
        else:
            parser.error(f"unknown engine {engine!r}: sqlite or postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 is 30,000 people and 1,000,000 items")
    parser.add_argument("--rounds", type=int, default=100, help="pages per client, for each of HTTP and SQL")
    parser.add_argument("--readers", type=int, default=200, help="people whose feeds are asked for, in turn")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument(
        "--web-processes",
        type=int,
        default=os.cpu_count() or 1,
        help="PLEIN_WEB_PROCESSES of the `plein web` serving the hub (default: one per core, as docs/deployment.md advises)",
    )
    parser.add_argument("--keep", type=Path, help="SQLite only: build the hub in this directory once, and use it again")
    args = parser.parse_args()
    print(
        f"scale {args.scale}, {args.rounds} pages per client, machine: {os.uname().machine}, "
        f"{os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for engine, database_url in each_database(args.engines, parser):
        kept = args.keep if engine == "sqlite" else None
        run(engine, database_url, args.scale, args.rounds, args.readers, args.web_processes, kept)
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
