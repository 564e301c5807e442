"""Benchmark: the daily rollup of participation statistics, and `/stats` and `/api/stats` for a year over HTTP with
8 clients, on SQLite and PostgreSQL.

    python bench/stats.py [--scale 1.0] [--rounds 20] [--engines sqlite,postgres] [--web-processes N]

At `--scale 1` it builds, by bulk inserts (COPY on PostgreSQL), the people, departments and groups of
bench/directory.py (30,000 people in 1,066 departments, 300 groups, every tenth private), each person a member
of 3 groups (the first member of each group its owner); 1,000,000 posts and comments (a quarter posts, a tenth of
the posts by mail, a third tagged) and 500,000 reactions written over the last 365 days; 20,000,000 page views spread
over the same days (a third of them of a thread, one in twenty from a link in mail), and 20,000 tag follows.

Then it rolls up each of the 365 days as the nightly task does (`hub.services.participation.roll_up_day`) and
reports the time of a day's rollup (p50, p95, max; the target is under 60 s). Then `plein web` serves the hub and 8
clients ask, `--rounds` times each, for a year of statistics: `/api/stats` and `/stats` as an administrator (the
whole hub, per week and per month, and one department), and as the owner of a group. Figures: p50, p95, p99 and
pages per second; nothing is asserted; the target is a p95 under 300 ms at `--scale 1`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text, update  # noqa: E402

from bench.directory import Hub as People  # noqa: E402
from bench.directory import signed_in_cookie  # noqa: E402
from bench.feed import (  # noqa: E402
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
from hub.models import User  # noqa: E402
from hub.services import accounts, participation  # noqa: E402
from tests.support.servers import wait_for  # noqa: E402

DAYS = 365
TODAY = datetime.now(UTC).date()
FIRST_DAY = TODAY - timedelta(days=DAYS)
TAGS = [f"onderwerp{n}" for n in range(300)]
WORDS = ["glasvezel", "storing", "planning", "wijkkast", "meterkast", "release", "budget", "aansluiting", "monteur",
         "connector", "lasoven", "splitter", "kabelschema", "graafwerk", "klantbezoek"]


class Activity:
    """What the people of bench/directory.py's hub wrote, reacted and opened over a year, from one seed."""

    def __init__(self, people: People, scale: float, seed: int = 29) -> None:
        self.rng = random.Random(seed)
        self.people = people
        self.posts = max(500, int(250_000 * scale))
        self.comments = 3 * self.posts
        self.reactions = 2 * self.posts
        self.views = max(20_000, int(20_000_000 * scale))
        self.inbound = 0

    def moment(self) -> datetime:
        day = FIRST_DAY + timedelta(days=self.rng.randrange(DAYS))
        return datetime.combine(day, clock(), tzinfo=UTC) + timedelta(seconds=self.rng.randrange(6 * 3600, 20 * 3600))

    def person(self) -> int:
        return self.rng.randint(1, self.people.people)

    def membership_rows(self):
        row_id, owners = 0, set()
        for user_id in range(1, self.people.people + 1):
            for group_id in self.rng.sample(range(1, self.people.groups + 1), 3):
                row_id += 1
                owner = group_id not in owners
                owners.add(group_id)
                yield {"id": row_id, "user_id": user_id, "group_id": group_id, "delivery": "each",
                       "is_moderator": owner, "is_owner": owner, "created_at": self.moment()}

    def inbound_rows(self, count: int):
        for n in range(1, count + 1):
            at = self.moment()
            yield {"id": n, "message_id": f"<bench{n}@example.com>", "envelope_from": "person@example.com",
                   "recipients": "group1@plein.bench", "path": f"inbound/bench{n}.eml", "size": 0,
                   "status": "posted", "reason": "", "received_at": at, "processed_at": at}

    def post_rows(self):
        self.post_times = []
        for i in range(1, self.posts + 1):
            at = self.moment()
            self.post_times.append(at)
            tag = f" #{self.rng.choice(TAGS)}" if i % 3 == 0 else ""
            words = " ".join(self.rng.sample(WORDS, 4))
            yield {"id": i, "group_id": self.rng.randint(1, self.people.groups), "author_id": self.person(),
                   "title": f"Onderwerp {i}", "body_text": f"{words}{tag}", "created_at": at,
                   "inbound_id": i if i <= self.posts // 10 else None}

    def tagging_rows(self):
        for i in range(3, self.posts + 1, 3):
            yield {"id": i // 3, "tag": TAGS[(i * 7919) % len(TAGS)], "post_id": i, "comment_id": None,
                   "created_at": self.post_times[i - 1]}

    def comment_rows(self):
        for i in range(1, self.comments + 1):
            post_id = self.rng.randint(1, self.posts)
            at = self.post_times[post_id - 1] + timedelta(minutes=self.rng.randint(5, 3 * 24 * 60))
            yield {"id": i, "post_id": post_id, "author_id": self.person(), "body_text": self.rng.choice(WORDS),
                   "created_at": at, "removed_at": None}

    def reaction_rows(self):
        given = set()
        for i in range(1, self.reactions + 1):
            post_id, user_id = self.rng.randint(1, self.posts), self.person()
            if (post_id, user_id) in given:
                continue
            given.add((post_id, user_id))
            yield {"id": i, "user_id": user_id, "post_id": post_id, "comment_id": None, "reaction": "like",
                   "created_at": self.post_times[post_id - 1] + timedelta(hours=self.rng.randint(1, 48))}

    def follow_rows(self):
        followed = set()
        for i in range(1, max(200, self.people.people * 2 // 3) + 1):
            user_id, tag = self.person(), self.rng.choice(TAGS)
            if (user_id, tag) not in followed:
                followed.add((user_id, tag))
                yield {"id": i, "user_id": user_id, "kind": "tag", "tag": tag, "following": True, "muted": False,
                       "created_at": self.moment()}

    def view_rows(self):
        for i in range(1, self.views + 1):
            yield {"id": i, "user_id": self.person(), "post_id": self.rng.randint(1, self.posts) if i % 3 == 0 else None,
                   "from_mail": i % 20 == 0, "created_at": self.moment()}


def generate(context, people: People, activity: Activity) -> None:
    started = time.perf_counter()
    with context.engine.begin() as connection:
        counts = {
            "departments": load(connection, "departments", people.departments),
            "people": load(connection, "users", people.user_rows()),
            "groups": load(connection, "groups", people.group_rows()),
            "memberships": load(connection, "memberships", activity.membership_rows()),
            "mails in": load(connection, "inbound_messages", activity.inbound_rows(activity.posts // 10)),
            "posts": load(connection, "posts", activity.post_rows()),
            "taggings": load(connection, "taggings", activity.tagging_rows()),
            "comments": load(connection, "comments", activity.comment_rows()),
            "reactions": load(connection, "reactions", activity.reaction_rows()),
            "tag follows": load(connection, "follows", activity.follow_rows()),
            "page views": load(connection, "view_events", activity.view_rows()),
        }
        connection.execute(update(User.__table__).where(User.__table__.c.id == 1).values(is_admin=True))
    analyse(context)
    figures = ", ".join(f"{n:,} {what}" for what, n in counts.items())
    print(f"  data: {figures} in {time.perf_counter() - started:.0f} s", flush=True)


def analyse(context) -> None:
    with context.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if context.engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def roll_up_the_year(context) -> None:
    """Each day rolled up in its own transaction, as the nightly task does; the times of a day's rollup."""
    took = []
    for n in range(DAYS + 1):
        started = time.perf_counter()
        with context.session_scope() as session:
            participation.roll_up_day(session, FIRST_DAY + timedelta(days=n))
        took.append(time.perf_counter() - started)
    cuts = statistics.quantiles(took, n=20)
    print(f"  daily rollup ({len(took)} days): p50 {statistics.median(took):.2f} s  p95 {cuts[18]:.2f} s  "
          f"max {max(took):.2f} s  all {sum(took):.0f} s", flush=True)
    analyse(context)


def run(engine: str, database_url: str, scale: float, rounds: int, processes: int) -> None:
    print(f"{engine}:", flush=True)
    with tempfile.TemporaryDirectory(prefix="plein-bench-stats-") as work:
        settings = settings_for(Path(work), database_url)
        upgrade_database(settings)
        context = build_context(settings)
        people = People(scale)
        activity = Activity(people, scale)
        generate(context, people, activity)
        roll_up_the_year(context)
        with context.session_scope() as session:
            admin = session.get(User, 1)
            owner_id = session.execute(text(
                "SELECT user_id FROM memberships WHERE is_owner AND user_id <> 1 ORDER BY id LIMIT 1"
            )).scalar()
            tokens = {"admin": accounts.create_api_token(session, admin),
                      "owner": accounts.create_api_token(session, session.get(User, owner_id))}
        port = free_port()
        server = serve(Path(work), database_url, port, processes)
        try:
            wait_for(lambda: serving(port), timeout=120, what="the hub")
            cookies = {who: signed_in_cookie(context, port, user_id) for who, user_id in (("admin", 1),
                                                                                        ("owner", owner_id))}
            year = f"from={FIRST_DAY}&to={TODAY}"
            asked = {
                "/api/stats admin, weeks": ("admin", "api", [f"/api/stats?{year}&period=week"]),
                "/api/stats admin, months": ("admin", "api", [f"/api/stats?{year}&period=month"]),
                "/api/stats one department": ("admin", "api", [f"/api/stats?{year}&department={d}" for d in (2, 7)]),
                "/api/stats group owner": ("owner", "api", [f"/api/stats?{year}"]),
                "/stats admin, weeks": ("admin", "page", [f"/stats?{year}&period=week"]),
                "/stats group owner": ("owner", "page", [f"/stats?{year}"]),
            }
            for label, (who, kind, paths) in asked.items():
                headers = [{"Authorization": f"Bearer {tokens[who]}"} if kind == "api" else {"Cookie": cookies[who]}]
                measure(8, 1, page_asker(port, headers, paths))  # warm up
                report(label, measure(8, rounds, page_asker(port, headers, paths)))
        finally:
            server.terminate()
            server.wait(timeout=30)
            context.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 is 30,000 people, 1,000,000 posts and comments "
                                                                 "and 20,000,000 page views")
    parser.add_argument("--rounds", type=int, default=20, help="requests per client, for each kind")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--web-processes", type=int, default=os.cpu_count() or 1,
                        help="PLEIN_WEB_PROCESSES of the `plein web` serving the hub (default: one per core)")
    args = parser.parse_args()
    print(f"scale {args.scale}, {args.rounds} requests per client, machine: {os.uname().machine}, "
          f"{os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}", flush=True)
    for engine, database_url in each_database(args.engines, parser):
        run(engine, database_url, args.scale, args.rounds, args.web_processes)
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
