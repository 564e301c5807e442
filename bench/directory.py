"""Benchmark: the people directory (`/people`) and the department tree (`/org`, `/org/{id}`) over HTTP with
8 clients, on SQLite and PostgreSQL.

    python bench/directory.py [--scale 1.0] [--rounds 60] [--engines sqlite,postgres] [--web-processes N]

At `--scale 1` it builds, by bulk inserts, 30,000 people in a 6-level tree of 1,066 departments
(1 at the top, then 5, 4, 4, 3 and 3 below each), each department headed by its first person
whom the others in it report to, the head reporting to the head above; 20 locations, 2 or 3
expertise tags from 200 each, 2 % deactivated; 300 groups (every tenth private) with 40,000
posts and 120,000 comments over the last 120 days (about the density of bench/feed.py's hub).

Then `plein web` serves the hub (`--web-processes`, one per core by default, as docs/deployment.md
advises for a machine that serves the web) and 8 signed-in browsers ask, `--rounds` times each, for the pages as people use them: `/people`
(the first page, a letter, a search word, a department, a location, an expertise, the second
page), `/org` (the whole tree), and `/org/{id}` of departments from the top to the bottom.
Figures: p50, p95 and p99 per kind of page and pages per second, and the server's processor time per page with
one client asking in turn (which the machine's other work hardly moves). Nothing is asserted; the target
is a p95 under 50 ms at `--scale 1`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.feed import (  # noqa: E402
    cpu_per_page,
    each_database,
    free_port,
    load,
    measure,
    page_asker,
    report,
    serve,
    serving,
    settings_for,
)
from hub.context import build_context  # noqa: E402
from hub.db import upgrade_database  # noqa: E402
from hub.services import signing  # noqa: E402
from tests.support.servers import wait_for  # noqa: E402

NOW = datetime.now(UTC)
FANOUT = (5, 4, 4, 3, 3)
FIRST = ["Anna", "Bram", "Chloé", "Daan", "Eva", "Fleur", "Gijs", "Hanna", "Iris", "Joost", "Kim", "Lars", "Mila",
         "Noah", "Olga", "Pieter", "Quinten", "Roos", "Sem", "Tess", "Umut", "Vera", "Wout", "Xander", "Yara", "Zoë"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer", "Bos", "Vos", "Peters",
        "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
        "Kok", "Jacobs", "Vermeulen", "Schouten", "Willems", "Hoekstra", "Koster", "Prins", "Huisman", "Zwart"]
PLACES = ["Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg", "Almere", "Breda",
          "Nijmegen", "Apeldoorn", "Haarlem", "Arnhem", "Enschede", "Amersfoort", "Zaanstad", "Zwolle", "Leiden",
          "Maastricht", "Dordrecht"]
TAGS = [f"vak{n}" for n in range(200)]
WORDS = ["glasvezel", "storing", "planning", "klant", "meting", "wijkkast", "release", "budget"]


class Hub:
    """The rows of one benchmark hub at a scale, made from one seed."""

    def __init__(self, scale: float, seed: int = 23) -> None:
        self.rng = random.Random(seed)
        self.departments: list[dict] = []
        self._tree("Bench", None, 0)
        # A head for every department, and at least as many people again: the readers are drawn from them.
        self.people = max(2 * len(self.departments), int(30_000 * scale))
        self.groups = max(20, int(300 * scale))
        self.posts = max(400, int(40_000 * scale))
        self.comments = 3 * self.posts
        self.heads: dict[int, int] = {}
        self.placed: list[int] = []

    def _tree(self, path: str, parent_id: int | None, level: int) -> None:
        department_id = len(self.departments) + 1
        name = path.rsplit("/", 1)[-1]
        self.departments.append({"id": department_id, "name": name, "path": path, "parent_id": parent_id,
                                 "created_at": NOW})
        if level < len(FANOUT):
            for n in range(1, FANOUT[level] + 1):
                self._tree(f"{path}/Afdeling {level + 1}.{n}", department_id, level + 1)

    def user_rows(self):
        parent = {d["id"]: d["parent_id"] for d in self.departments}
        ids = [d["id"] for d in self.departments]
        # Every department gets its head first, then the rest of the people go anywhere.
        self.placed = ids + [self.rng.choice(ids) for _ in range(self.people - len(ids))]
        for user_id, department_id in enumerate(self.placed, start=1):
            head = self.heads.setdefault(department_id, user_id)
            manager = self.heads.get(parent[department_id]) if head == user_id else head
            yield {
                "id": user_id, "email": f"person{user_id}@example.com",
                "name": f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}", "created_at": NOW,
                "timezone": "Europe/Amsterdam", "digest_hour": 8, "digest_weekday": 0, "language": "nl",
                "notify_replies": True, "job_title": self.rng.choice(["Monteur", "Planner", "Adviseur", "Engineer"]),
                "expertise": ", ".join(self.rng.sample(TAGS, self.rng.randint(2, 3))),
                "department_id": department_id, "department": self.departments[department_id - 1]["path"],
                "manager_id": manager, "location": self.rng.choice(PLACES),
                "deactivated_at": NOW if self.rng.random() < 0.02 and head != user_id else None,
            }

    def group_rows(self):
        for g in range(1, self.groups + 1):
            yield {"id": g, "slug": f"group{g}", "name": f"Group {g}", "description": "", "is_private": g % 10 == 0,
                   "created_at": NOW}

    def post_rows(self):
        for i in range(1, self.posts + 1):
            yield {"id": i, "group_id": self.rng.randint(1, self.groups), "author_id": self.rng.randint(1, self.people),
                   "title": f"Onderwerp {i}", "body_text": self.rng.choice(WORDS),
                   "created_at": NOW - timedelta(minutes=self.rng.randint(1, 120 * 24 * 60))}

    def comment_rows(self):
        for i in range(1, self.comments + 1):
            yield {"id": i, "post_id": self.rng.randint(1, self.posts), "author_id": self.rng.randint(1, self.people),
                   "body_text": self.rng.choice(WORDS),
                   "created_at": NOW - timedelta(minutes=self.rng.randint(1, 120 * 24 * 60)), "removed_at": None}


def generate(context, hub: Hub) -> None:
    started = time.perf_counter()
    with context.engine.begin() as connection:
        counts = {
            "departments": load(connection, "departments", hub.departments),
            "people": load(connection, "users", hub.user_rows()),
            "groups": load(connection, "groups", hub.group_rows()),
            "posts": load(connection, "posts", hub.post_rows()),
            "comments": load(connection, "comments", hub.comment_rows()),
        }
    with context.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if context.engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    figures = ", ".join(f"{n:,} {what}" for what, n in counts.items())
    print(f"  data: {figures} in {time.perf_counter() - started:.0f} s", flush=True)


def signed_in_cookie(context, port: int, user_id: int) -> str:
    """The cookie of a browser that signed in as `user_id` by the link in its mail."""
    with context.session_scope() as session:
        token = signing.sign_expiring(session, "sign-in", user_id, lifetime_seconds=600)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as browser:
        page = browser.get(f"/sign-in/{token}").text
        browser.post(f"/sign-in/{token}", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', page)[1]})
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def people_paths(hub: Hub, cookie: str, port: int) -> list[str]:
    rng = random.Random(5)
    paths = ["/people"]
    paths += [f"/people?letter={letter}" for letter in "ABDFJKMPRSTVZ"]
    paths += [f"/people?q={word}" for word in ("jansen", "anna", "monteur", "vak17", "de+vries", "person123@")]
    paths += [f"/people?{urlencode({'department': d['path']})}" for d in rng.sample(hub.departments, 10)]
    paths += [f"/people?location={place}" for place in rng.sample(PLACES, 5)]
    paths += [f"/people?expertise={tag}" for tag in rng.sample(TAGS, 5)]
    second = httpx.get(f"http://127.0.0.1:{port}/people", headers={"Cookie": cookie}).text
    paths.append(re.search(r'href="(/people\?[^"]*cursor=[^"]+)"', second)[1].replace("&amp;", "&"))
    return paths


def run(engine: str, database_url: str, scale: float, rounds: int, processes: int) -> None:
    print(f"{engine}:", flush=True)
    with tempfile.TemporaryDirectory(prefix="plein-bench-directory-") as work:
        settings = settings_for(Path(work), database_url)
        upgrade_database(settings)
        context = build_context(settings)
        hub = Hub(scale)
        generate(context, hub)
        port = free_port()
        server = serve(Path(work), database_url, port, processes)
        try:
            wait_for(lambda: serving(port), timeout=120, what="the hub")
            readers = random.Random(3).sample(range(len(hub.departments) + 1, hub.people + 1), 8)
            cookies = [signed_in_cookie(context, port, user_id) for user_id in readers]
            browsers = [{"Cookie": cookie} for cookie in cookies]
            asked = {
                "/people (7 kinds)": people_paths(hub, cookies[0], port),
                "/org (whole tree)": ["/org"],
                "/org/{id} (every level)": [f"/org/{d['id']}" for d in random.Random(9).sample(hub.departments, 60)]
                + ["/org/1", "/org/2"],
            }
            for label, paths in asked.items():
                measure(8, max(3, rounds // 6), page_asker(port, browsers, paths))  # warm up
                report(label, measure(8, rounds, page_asker(port, browsers, paths)))
                print(f"  {'':<28} server CPU per page, one client: "
                      f"{cpu_per_page(server, 4 * rounds, page_asker(port, browsers, paths)):.1f} ms", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            context.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 is 30,000 people")
    parser.add_argument("--rounds", type=int, default=60, help="pages per client, for each kind of page")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument(
        "--web-processes", type=int, default=os.cpu_count() or 1,
        help="PLEIN_WEB_PROCESSES of the `plein web` serving the hub (default: one per core, as docs/deployment.md advises)",
    )
    args = parser.parse_args()
    print(
        f"scale {args.scale}, {args.rounds} pages per client, machine: {os.uname().machine}, "
        f"{os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for engine, database_url in each_database(args.engines, parser):
        run(engine, database_url, args.scale, args.rounds, args.web_processes)
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
