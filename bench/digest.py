"""Benchmark: the daily digest for 10,000 subscribers over 50 groups, end to end into an SMTP sink.

    python bench/digest.py [--users 10000] [--groups 50] [--posts-per-group 6] [--comments-per-post 3]

Builds a fresh hub in a temporary data directory (SQLite, as `plein run` has it): the people,
groups and memberships, digests already sent yesterday (the steady state), then a day of posts
and comments. Then it runs what beat runs at the digest hour, the `plein.digests.send_due`
task, here in this process, while a real Celery worker (`--pool=solo`, a child process, as
`plein run` starts one) drains the outbox as each chunk of digests commits, over one SMTP
connection per batch to the smarthost: a real aiosmtpd sink on loopback in another child
process. It prints the time of each stage; the figure that counts is from the start of the
digest task until the sink has every digest.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_sink(port: int, received, ready) -> None:
    """An SMTP server that accepts and counts every message."""
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            with received.get_lock():
                received.value += 1
            return "250 2.0.0 Accepted"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


class Stages:
    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    def run(self, name: str, work):
        started = time.perf_counter()
        result = work()
        self.timings.append((name, time.perf_counter() - started))
        print(f"{name:<42} {self.timings[-1][1]:8.2f} s", flush=True)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--posts-per-group", type=int, default=6)
    parser.add_argument("--comments-per-post", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    options = parser.parse_args()
    random.seed(options.seed)

    data_dir = Path(tempfile.mkdtemp(prefix="plein-bench-digest-"))
    port = free_port()
    received = multiprocessing.Value("i", 0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink, args=(port, received, ready), daemon=True)
    sink.start()
    ready.wait(30)
    os.environ.update(
        PLEIN_DATA_DIR=str(data_dir), PLEIN_MAIL_DOMAIN="plein.bench",
        PLEIN_SMARTHOST=f"127.0.0.1:{port}", PLEIN_BROKER_URL=f"sqla+sqlite:///{data_dir / 'broker.db'}",
    )

    from sqlalchemy import func, insert, select

    from hub.db import session_scope, upgrade_database
    from hub.models import Comment, DigestWatermark, Group, Membership, OutgoingMail, Post, User, utcnow
    from workers import tasks

    stages = Stages()
    upgrade_database()
    now = utcnow()
    local_hour = now.astimezone(ZoneInfo("Europe/Amsterdam")).hour
    yesterday = now - timedelta(days=1, hours=1)

    def people_and_groups() -> None:
        with session_scope() as session:
            session.execute(insert(User), [
                {"id": i, "email": f"person{i}@example.com", "name": f"Person {i}", "created_at": yesterday,
                 "timezone": "Europe/Amsterdam", "digest_hour": local_hour, "digest_weekday": 0,
                 "language": "nl" if i % 3 == 0 else "en", "notify_replies": True}
                for i in range(1, options.users + 1)
            ])
            session.execute(insert(Group), [
                {"id": g, "slug": f"group{g}", "name": f"Group {g}", "description": "", "is_private": False,
                 "created_at": yesterday}
                for g in range(1, options.groups + 1)
            ])
            memberships = []
            for user_id in range(1, options.users + 1):
                for group_id in random.sample(range(1, options.groups + 1), random.randint(3, 8)):
                    memberships.append({"user_id": user_id, "group_id": group_id, "created_at": yesterday,
                                        "delivery": "daily" if random.random() < 0.9 else "each"})
            session.execute(insert(Membership), memberships)
            session.execute(insert(DigestWatermark), [
                {"user_id": i, "frequency": "daily", "last_post_id": 0, "last_comment_id": 0,
                 "sent_at": yesterday, "period": (now - timedelta(days=1)).astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()}
                for i in range(1, options.users + 1)
            ])
            print(f"{options.users} people, {options.groups} groups, {len(memberships)} memberships", flush=True)

    def a_day_of_activity() -> None:
        with session_scope() as session:
            post_rows, comment_rows = [], []
            for group_id in range(1, options.groups + 1):
                for _ in range(options.posts_per_group):
                    post_id = len(post_rows) + 1
                    created = now - timedelta(minutes=random.randint(60, 23 * 60))
                    post_rows.append({
                        "id": post_id, "group_id": group_id, "author_id": random.randint(1, options.users),
                        "title": f"Storing {post_id} in regio {group_id}: wie kan er morgen langs?",
                        "body_text": "Bij een klant brandt het LOS-lampje rood na de installatie. " * 4,
                        "created_at": created,
                    })
                    for _ in range(options.comments_per_post):
                        comment_rows.append({
                            "post_id": post_id, "author_id": random.randint(1, options.users),
                            "body_text": "Meestal is de connector vuil; reinigen en opnieuw meten.",
                            "created_at": created + timedelta(minutes=random.randint(1, 50)),
                        })
            session.execute(insert(Post), post_rows)
            session.execute(insert(Comment), sorted(comment_rows, key=lambda row: row["created_at"]))
            print(f"{len(post_rows)} posts, {len(comment_rows)} comments", flush=True)

    stages.run("setup: people, groups, memberships", people_and_groups)
    stages.run("setup: a day of posts and comments", a_day_of_activity)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle"],
        env=os.environ.copy(), cwd=Path(__file__).resolve().parent.parent,
        stdout=(data_dir / "worker.log").open("wb"), stderr=subprocess.STDOUT,
    )
    try:
        started = time.perf_counter()
        stages.run("digests: find due, build, render, queue", tasks.send_due_digests)
        with session_scope() as session:
            expected = session.scalar(select(func.count()).select_from(OutgoingMail))

        def all_received() -> None:
            while received.value < expected:
                time.sleep(0.05)

        stages.run("outbox: the rest of the drain to the sink", all_received)
        total = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(30)
        sink.terminate()
    with session_scope() as session:
        counts = dict(session.execute(select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)).all())
    print(f"outbox: {dict((k.value, v) for k, v in counts.items())}; sink received {received.value}")
    print(f"daily digest end to end: {expected} digests in {total:.1f} s ({expected / total:.0f}/s)")


if __name__ == "__main__":
    main()
