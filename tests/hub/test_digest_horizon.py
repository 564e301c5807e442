"""A digest never moves its watermark past a post still being written (issue 15, item 10).

On PostgreSQL ids are handed out at INSERT and transactions commit in any order; a post with
a lower id committed after a digest read the newest id used to stay below the watermark for good.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from hub.db import upgrade_database
from hub.models import OutgoingMail
from hub.services import accounts, digests, groups, posts
from tests.support.hub import hub_context


@pytest.fixture
def context(postgres, tmp_path, monkeypatch):
    """A hub on a fresh PostgreSQL database."""
    database_url = postgres.fresh_database("digest_horizon")
    built = hub_context(tmp_path / "data", database_url=database_url)
    upgrade_database(built.settings)
    yield built
    built.close()


def digest_mail_to(context, address: str) -> str:
    with context.session_scope() as session:
        return "\n".join(
            m.message.decode() for m in session.scalars(
                select(OutgoingMail).where(OutgoingMail.recipient == address, OutgoingMail.key.like("digest:%"))
            )
        )


def test_a_post_committed_after_a_later_one_still_reaches_the_digest(context):
    with context.session_scope() as session:
        team = groups.create_group(session, "team", "Team")
        reader = accounts.create_user(session, "reader@example.com", "Reader")
        groups.add_member(session, team, reader, "daily")
        for email in ("slow@example.com", "quick@example.com"):
            groups.add_member(session, team, accounts.create_user(session, email, email.split("@")[0]), "none")
    with context.session_scope() as session:
        digests.send_digests(session, "daily")  # the watermark starts here

    slow = context.session_scope()
    slow_session = slow.__enter__()
    posts.create_post(slow_session, groups.get_group(slow_session, "team"),
                      accounts.get_user(slow_session, "slow@example.com"), "Written slowly", "The lower id.")
    with context.session_scope() as session:
        posts.create_post(session, groups.get_group(session, "team"),
                          accounts.get_user(session, "quick@example.com"), "Written quickly", "The higher id.")

    def run_digest() -> None:
        with context.session_scope() as session:
            digests.send_digests(session, "daily")

    digest_run = threading.Thread(target=run_digest)
    digest_run.start()
    time.sleep(1)
    slow.__exit__(None, None, None)  # the slow post commits while the digest run is under way
    digest_run.join(timeout=30)
    with context.session_scope() as session:
        digests.send_digests(session, "daily")  # the next period's run

    mailed = digest_mail_to(context, "reader@example.com")
    assert mailed.count("Written quickly") >= 1 and mailed.count("Written slowly") >= 1
