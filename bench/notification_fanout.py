"""Benchmark: the notifications of one new post in a group of 5,000 members, on SQLite and PostgreSQL.

    python bench/notification_fanout.py [--members 5000] [--repeat 3]

Builds a fresh hub per database (SQLite in a temporary data directory, as `plein run` has it,
and a throw-away PostgreSQL cluster as the tests start one, when installed): the members, who
follow the group as joining does, a tenth of them following the author too, one in fifty who
muted the group, one in fifty who chose mail at once for new posts. Then, per repeat, one post
is written, and the job the post asks for (`plein.inbox.notify_post`) runs here, in its own
transaction as the worker runs it; the figure is that job from start to commit, which makes
every notification and queues the mails at once. Requirement (issue 17): under 5 s.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def fill(context, members: int):
    from sqlalchemy import insert, select

    from hub.models import Delivery, Follow, Membership, NotificationChannel, User
    from hub.services import accounts, groups

    with context.session_scope() as session:
        author = accounts.create_user(session, "author@example.com", "Anna Auteur")
        group = groups.create_group(session, "all-hands", "All hands")
        groups.add_member(session, group, author, "none")
        session.execute(
            insert(User),
            [
                {
                    "email": f"member{i}@example.com",
                    "name": f"Member {i}",
                    "timezone": "Europe/Amsterdam",
                    "digest_hour": 7,
                    "digest_weekday": 0,
                    "language": "nl" if i % 2 else "en",
                }
                for i in range(members - 1)
            ],
        )
        ids = session.scalars(select(User.id).where(User.email.like("member%"))).all()
        session.execute(
            insert(Membership), [{"group_id": group.id, "user_id": i, "delivery": Delivery.NONE} for i in ids]
        )
        session.execute(
            insert(Follow),
            [
                {"user_id": i, "kind": "group", "group_id": group.id, "following": True, "muted": n % 50 == 0}
                for n, i in enumerate(ids)
            ]
            + [{"user_id": i, "kind": "person", "person_id": author.id, "following": True} for i in ids[::10]],
        )
        session.execute(
            insert(NotificationChannel), [{"user_id": i, "kind": "post", "channel": "mail"} for i in ids[1::50]]
        )
        return author.id, group.id


def measure(name: str, context, members: int, repeat: int) -> list[float]:
    from sqlalchemy import func, select

    from hub.models import Group, Notification, OutgoingMail, User
    from hub.services import inbox, posts

    started = time.perf_counter()
    author_id, group_id = fill(context, members)
    print(f"{name}: {members} members filled in {time.perf_counter() - started:.1f} s", flush=True)
    figures = []
    for round_ in range(repeat):
        with context.session_scope() as session:
            post = posts.create_post(
                session,
                session.get(Group, group_id),
                session.get(User, author_id),
                f"Ronde {round_}",
                "Morgen om tien uur in de grote zaal. #allhands",
            )
            post_id = post.id
        started = time.perf_counter()
        with context.session_scope() as session:
            made = inbox.notify_post(session, post_id)
        figures.append(time.perf_counter() - started)
        with context.session_scope() as session:
            stored = session.scalar(select(func.count()).where(Notification.post_id == post_id))
            mailed = session.scalar(select(func.count()).where(OutgoingMail.key.like(f"post:{post_id}:to:%")))
        print(
            f"{name}: post {post_id}: {made} notifications ({stored} stored, {mailed} mails at once) "
            f"in {figures[-1]:.2f} s",
            flush=True,
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()

    from hub.context import build_context
    from hub.db import upgrade_database
    from hub.settings import Settings

    results = {}
    work = Path(tempfile.mkdtemp(prefix="plein-bench-fanout-"))
    try:
        settings = Settings(data_dir=work / "sqlite", mail_domain="plein.test")
        settings.data_dir.mkdir()
        upgrade_database(settings)
        context = build_context(settings)
        try:
            results["SQLite"] = measure("SQLite", context, options.members, options.repeat)
        finally:
            context.close()

        from tests.support import databases

        if databases.POSTGRES_BIN is None or shutil.which("runuser") is None:
            print("PostgreSQL: not installed (Debian package postgresql): left out")
        else:
            server = databases.PostgresServer()
            try:
                settings = Settings(data_dir=work / "pg", mail_domain="plein.test", database_url=server.url)
                settings.data_dir.mkdir()
                upgrade_database(settings)
                context = build_context(settings)
                try:
                    results["PostgreSQL"] = measure("PostgreSQL", context, options.members, options.repeat)
                finally:
                    context.close()
            finally:
                server.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    for name, figures in results.items():
        print(f"{name:<11} best {min(figures):.2f} s, worst {max(figures):.2f} s over {len(figures)} posts")


if __name__ == "__main__":
    main()
