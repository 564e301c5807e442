"""Search benchmark: Plein's Tantivy index side by side with SQLite FTS5 and PostgreSQL full-text search.

    python bench/search.py --items 100000

Generates a corpus of Dutch and English posts, comments and documents in 20 groups (3 of
them private), streamed item by item so that `--items 1000000` fits in memory, and builds
three indexes from it: Plein's Tantivy index (`SearchIndex.rebuild`, as `plein reindex`
writes it), SQLite FTS5, and PostgreSQL full-text search (a GIN index over a tsvector
column, what Discourse uses) in a throw-away cluster from Debian's `postgresql`. Build
rates exclude the time spent generating the corpus. All three are then served over HTTP
from one child process, and query latency (p50/p95/p99) is measured with 8 concurrent
clients for a fixed query mix, each query filtered to one user's visible groups; then the
latency of Tantivy's search-as-you-type suggestions for a fixed list of prefixes. It also
prints the server's RSS and the nDCG@10 of the judged relevance set. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from search.documents import IndexedItem  # noqa: E402
from search.index import SearchIndex  # noqa: E402

DUTCH = (
    "de het een en van in op voor met dat is niet bij naar over ook nog wordt werd hebben zijn "
    "vergadering vergaderingen glasvezel aansluiting storing modem kabel kabelgoot begroting offerte "
    "leverancier planning rooster kantine kantoor verhuizing sleutels brandoefening thuiswerken "
    "fietsenstalling parkeren verzekering salaris project klant afspraak onderhoud installatie "
    "monteur wijk straat aannemer graafwerk meterkast splitter verdeelkast netwerk beheer"
).split()
ENGLISH = (
    "the a and of to in for on with is not at from about also still was were have has "
    "meeting invoice deployment release roadmap budget security audit backup printer laptop "
    "password firewall customer feedback onboarding holiday schedule training license server "
    "network outage contract supplier quarter review report dashboard migration database"
).split()
PREFIXES = ["g", "gla", "glasv", "verg", "verga", "mod", "dep", "secu", "kabelg", "the", "offer", "plan"]
GROUPS = 20
PRIVATE = {18, 19, 20}
QUERIES = [
    "glasvezel", "vergadering", "modem storing", '"glasvezel aansluiting"', "offerte -leverancier",
    "invoice", "deployment", "security audit", "backup OR firewall", "kind:document budget",
    "group:g3 planning", "from:user7 rooster", "after:2025-06-01 meeting", "glasvezle", "deploymnet",
    "kabelgoot monteur", "roadmap quarter", "thuiswerken", "customer feedback", "netwerk beheer",
]


def sentence(rng: random.Random, words: list[str], length: int) -> str:
    return " ".join(rng.choice(words) for _ in range(length)).capitalize() + "."


def corpus(count: int, seed: int = 7):
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    post_id = 0
    for n in range(1, count + 1):
        words = DUTCH if rng.random() < 0.6 else ENGLISH
        group = rng.randint(1, GROUPS)
        author = rng.randint(1, 200)
        kind = "post" if n % 5 in (0, 1) or post_id == 0 else ("document" if n % 5 == 2 else "comment")
        if kind == "post":
            post_id = n
        body = " ".join(sentence(rng, words, rng.randint(6, 16)) for _ in range(rng.randint(2, 12 if kind != "document" else 60)))
        yield IndexedItem(
            kind=kind, id=n, post_id=post_id, group_id=group,
            title=sentence(rng, words, rng.randint(3, 7)) if kind != "document" else f"bijlage-{n}.pdf",
            body=body, author_name=f"User {author}", author_email=f"user{author}@example.nl",
            created_at=start + timedelta(minutes=7 * n), group_slug=f"g{group}",
            has_attachment=kind == "document",
        )


class Timed:
    """The corpus as a stream, keeping the time spent generating it, so build rates leave it out."""

    def __init__(self, count: int) -> None:
        self._items = corpus(count)
        self.seconds = 0.0

    def __iter__(self):
        return self

    def __next__(self) -> IndexedItem:
        started = time.perf_counter()
        try:
            return next(self._items)
        finally:
            self.seconds += time.perf_counter() - started


def rate(count: int, build) -> float:
    """Items per second of `build(items)`, leaving out the time spent generating the items."""
    items = Timed(count)
    started = time.perf_counter()
    build(items)
    return count / (time.perf_counter() - started - items.seconds)


def build_tantivy(path: Path, count: int) -> float:
    return rate(count, SearchIndex.open(path).rebuild)


def build_fts(path: Path, count: int) -> float:
    return rate(count, lambda items: _fill_fts(path, items))


def _fill_fts(path: Path, items) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, kind TEXT, group_id INT, created TEXT, title TEXT, body TEXT)")
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, body, content='items', content_rowid='id', "
               "tokenize='unicode61 remove_diacritics 2')")
    batch = []
    for item in items:
        batch.append((item.id, item.kind, item.group_id, item.created_at.isoformat(), item.title, item.body))
        if len(batch) == 5000:
            db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?)", batch)
            batch.clear()
    db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?)", batch)
    db.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
    db.commit()
    db.close()


PG_TEXT = "simple"
"""Text search configuration: lower case, no stemming, like the FTS5 side (the corpus mixes two languages)."""


def build_postgres(url: str, count: int) -> float:
    return rate(count, lambda items: _fill_postgres(url, items))


def _fill_postgres(url: str, items) -> None:
    """COPY the items in as they are generated, then compute the tsvectors and build the GIN index."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS items")
        db.execute("CREATE TABLE items (id int PRIMARY KEY, kind text, group_id int, created timestamptz, "
                   "title text, body text, tsv tsvector)")
        with db.cursor().copy("COPY items (id, kind, group_id, created, title, body) FROM STDIN") as copy:
            for item in items:
                copy.write_row((item.id, item.kind, item.group_id, item.created_at, item.title, item.body))
        db.execute(f"UPDATE items SET tsv = setweight(to_tsvector('{PG_TEXT}', title), 'A') "
                   f"|| setweight(to_tsvector('{PG_TEXT}', body), 'B')")
        db.execute("CREATE INDEX items_tsv ON items USING gin (tsv)")
        db.execute("CREATE INDEX items_group ON items (group_id)")
        db.execute("VACUUM ANALYZE items")


def start_postgres():
    """A throw-away PostgreSQL like the tests start, or None (with the reason printed) when it is not installed."""
    from tests.support import databases

    if databases.POSTGRES_BIN is None or shutil.which("runuser") is None:
        print("postgres:    not installed (Debian package postgresql): left out")
        return None
    return databases.PostgresServer()


def serve(index_dir: str, fts_path: str, postgres_url: str, port: int) -> None:
    """The child process: one HTTP server answering /tantivy, /suggest, /fts and /postgres, like the web role would."""
    import re

    import uvicorn
    from fastapi import FastAPI

    index = SearchIndex.open(Path(index_dir))
    local = threading.local()
    app = FastAPI()

    @app.get("/tantivy")
    def tantivy_search(q: str, groups: str) -> dict:
        found = index.search(q, {int(g) for g in groups.split(",")}, limit=20)
        return {"total": found.total, "ids": [hit.id for hit in found.hits]}

    @app.get("/fts")
    def fts_search(q: str, groups: str) -> dict:
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(fts_path, check_same_thread=False)
        words = " ".join(f'"{w}"' for w in re.findall(r"\w+", re.sub(r"\w+:\S+", " ", q)) if w != "OR")
        visible = ",".join(str(int(g)) for g in groups.split(","))
        rows = local.db.execute(
            f"SELECT items.id FROM fts JOIN items ON items.id = fts.rowid WHERE fts MATCH ? "
            f"AND items.group_id IN ({visible}) ORDER BY bm25(fts, 2.0, 1.0) LIMIT 20", (words or '""',)
        ).fetchall()
        total = local.db.execute(
            f"SELECT count(*) FROM fts JOIN items ON items.id = fts.rowid WHERE fts MATCH ? AND items.group_id IN ({visible})",
            (words or '""',),
        ).fetchone()[0]
        return {"total": total, "ids": [r[0] for r in rows]}

    @app.get("/suggest")
    def tantivy_suggest(q: str, groups: str) -> dict:
        return {"titles": [s.title for s in index.suggest(q, {int(g) for g in groups.split(",")})]}

    @app.get("/postgres")
    def postgres_search(q: str, groups: str) -> dict:
        import psycopg

        if not hasattr(local, "pg"):
            local.pg = psycopg.connect(postgres_url, autocommit=True)
        words = re.sub(r"\w+:\S+", " ", q)
        visible = [int(g) for g in groups.split(",")]
        query = f"websearch_to_tsquery('{PG_TEXT}', %s)"
        rows = local.pg.execute(
            f"SELECT id FROM items WHERE tsv @@ {query} AND group_id = ANY(%s) "
            f"ORDER BY ts_rank_cd(tsv, {query}) DESC LIMIT 20", (words, visible, words),
        ).fetchall()
        total = local.pg.execute(
            f"SELECT count(*) FROM items WHERE tsv @@ {query} AND group_id = ANY(%s)", (words, visible)
        ).fetchone()[0]
        return {"total": total, "ids": [r[0] for r in rows]}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def measure(base_url: str, engine: str, rounds: int, clients: int = 8, queries: list[str] = QUERIES) -> dict:
    visible = ",".join(str(g) for g in range(1, GROUPS + 1) if g not in PRIVATE or g == 19)
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            mine = []
            for r in range(rounds):
                query = queries[(n + r) % len(queries)]
                started = time.perf_counter()
                http.get(f"/{engine}?" + urlencode({"q": query, "groups": visible})).raise_for_status()
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
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "qps": len(latencies) / elapsed}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def relevance() -> float:
    from tests.search.relevance_set import NOW, mean_ndcg
    from tests.search.relevance_set import corpus as judged_corpus

    index = SearchIndex.in_memory()
    index.rebuild(judged_corpus()[0])
    mean, _ = mean_ndcg(lambda q: [hit.id for hit in index.search(q, {1}, limit=10, now=NOW).hits])
    return mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=100, help="queries per client per engine")
    parser.add_argument("--serve", nargs=4, metavar=("INDEX_DIR", "FTS_PATH", "POSTGRES_URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], args.serve[2], int(args.serve[3]))
        return
    postgres = start_postgres()
    try:
        with tempfile.TemporaryDirectory() as work:
            run(Path(work), args.items, args.rounds, postgres)
    finally:
        if postgres is not None:
            postgres.close()
    print(f"relevance    nDCG@10 over the judged set: {relevance():.3f}")
    print(json.dumps({"machine": os.uname().machine, "cpus": os.cpu_count(), "load": os.getloadavg()}))


def run(work: Path, items: int, rounds: int, postgres) -> None:
    index_dir, fts_path = work / "index", work / "fts.db"
    postgres_url = postgres.url.replace("postgresql+psycopg://", "postgresql://") if postgres else ""
    print(f"corpus: {items} items (60% Dutch, 40% English; posts, comments, documents), {GROUPS} groups")
    print(f"index build  tantivy:  {build_tantivy(index_dir, items):8.0f} items/s")
    print(f"index build  fts5:     {build_fts(fts_path, items):8.0f} items/s")
    engines = ["tantivy", "fts"]
    if postgres:
        print(f"index build  postgres: {build_postgres(postgres_url, items):8.0f} items/s")
        engines.append("postgres")
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(index_dir), str(fts_path), postgres_url or "-", str(port)]
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/docs", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        for engine in engines:  # warm up caches and connections
            measure(base_url, engine, rounds // 2)
        for engine in engines:
            report(f"http query   {engine:9s}", measure(base_url, engine, rounds))
        measure(base_url, "suggest", rounds // 2, queries=PREFIXES)
        report("http suggest tantivy  ", measure(base_url, "suggest", rounds, queries=PREFIXES))
        print(f"server RSS after queries: {rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=20)


def report(label: str, figures: dict) -> None:
    print(f"{label} 8 clients: p50 {figures['p50']:6.1f} ms  p95 {figures['p95']:6.1f} ms  "
          f"p99 {figures['p99']:6.1f} ms  {figures['qps']:6.0f} q/s")


if __name__ == "__main__":
    main()
