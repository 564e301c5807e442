"""A post undone and sent again is mailed, receipted and digested like any other (issue 15, item 9).

SQLite hands a deleted last row's id to the next row unless the table is AUTOINCREMENT. A post
undone through its receipt's link and sent again, corrected, got the undone post's id, so its
outbox keys (`post:ID:to:USER`, `receipt:post:ID`) were taken already: no member got it, its
sender got no receipt, and a digest that had covered the first skipped it. Ids are never reused
(migration 0013), and mail keys name the item's creation time as well.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import text

from hub.db import MIGRATIONS_DIR, upgrade_database
from hub.models import Base, Comment, OutgoingMail, Post
from hub.services import accounts, digests, groups, inbound, message_ids, posts
from hub.web.app import create_app
from tests.support.hub import hub_context

KEYED_TABLES = [
    "users", "groups", "memberships", "posts", "comments", "attachments", "held_messages", "inbound_messages",
    "outgoing_mail",
]


def mail(subject: str, body: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Alice <alice@example.com>", "engineering@plein.test", subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def receive(context, raw: bytes) -> None:
    """As the SMTP hook and then the worker do, each in a transaction of its own."""
    with context.session_scope() as session:
        stored = inbound.store_inbound(session, raw, "alice@example.com", ["engineering@plein.test"])
    with context.session_scope() as session:
        assert inbound.process_inbound(session, stored.id).status.value == "posted"


def outbox(context, prefix: str, to: str) -> list[EmailMessage]:
    with context.session_scope() as session:
        rows = session.query(OutgoingMail).filter(OutgoingMail.key.like(f"{prefix}%"), OutgoingMail.recipient == to)
        return [message_from_bytes(row.message, policy=policy.default) for row in rows.order_by(OutgoingMail.id)]


def body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def undo_through_the_receipt(context, receipt: EmailMessage) -> None:
    url = re.search(r"Undo it: (\S+)", body(receipt)).group(1)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    client = TestClient(create_app(context))
    asked = client.get(path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', asked.text).group(1)
    assert client.post(path, data={"csrf": csrf}).status_code == 200


@pytest.fixture
def company(context, data_dir):
    """Alice writes; Bob gets each mail; Dave gets a daily digest."""
    with context.session_scope() as session:
        group = groups.create_group(session, "engineering", "Engineering")
        for email, name, delivery in [("alice@example.com", "Alice", "each"), ("bob@example.com", "Bob", "each"),
                                      ("dave@example.com", "Dave", "daily")]:
            groups.add_member(session, group, accounts.create_user(session, email, name), delivery)


def test_a_post_undone_through_its_receipt_and_sent_again_is_mailed_receipted_and_digested(context, company):
    receive(context, mail("Storing lift", "De lift staat stil. Bel de monteur niet."))
    with context.session_scope() as session:
        assert len(digests.send_digests(session, "daily")) == 1
    [receipt] = outbox(context, "receipt:", "alice@example.com")
    assert len(outbox(context, "post:", "bob@example.com")) == 1

    undo_through_the_receipt(context, receipt)
    receive(context, mail("Storing lift", "De lift staat stil. Bel de monteur."))

    with context.session_scope() as session:
        corrected = session.query(Post).one()
        assert corrected.body_text == "De lift staat stil. Bel de monteur."
        assert len(digests.send_digests(session, "daily")) == 1
    to_bob = outbox(context, "post:", "bob@example.com")
    assert len(to_bob) == 2 and "Bel de monteur.\n" in body(to_bob[-1])
    receipts = outbox(context, "receipt:", "alice@example.com")
    assert len(receipts) == 2 and f"/p/{corrected.id}" in body(receipts[-1])
    assert "Bel de monteur." in body(outbox(context, "digest:", "dave@example.com")[-1])


def test_a_comment_undone_through_its_receipt_and_sent_again_is_mailed_and_receipted(context, company):
    receive(context, mail("Storing lift", "De lift staat stil."))
    with context.session_scope() as session:
        answers = message_ids.message_id(session, "post", session.query(Post).one().id)
    receive(context, mail("Re: Storing lift", "Ik bel de monteur niet.", In_Reply_To=answers))
    receipt = outbox(context, "receipt:comment", "alice@example.com")[-1]

    undo_through_the_receipt(context, receipt)
    receive(context, mail("Re: Storing lift", "Ik bel de monteur.", In_Reply_To=answers))

    with context.session_scope() as session:
        assert [(c.body_text, c.removed_at is None) for c in session.query(Comment)] == [
            ("", False), ("Ik bel de monteur.", True)
        ], "the undone comment stays as removed by its author"
    assert len(outbox(context, "comment:", "bob@example.com")) == 2
    assert len(outbox(context, "receipt:comment", "alice@example.com")) == 2


def test_every_table_whose_ids_name_something_outside_the_database_never_hands_out_an_id_twice(context):
    assert {t.name for t in Base.metadata.sorted_tables if t.kwargs.get("sqlite_autoincrement")} >= set(KEYED_TABLES)
    with context.engine.connect() as connection:
        for table in KEYED_TABLES:
            created = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
            assert "AUTOINCREMENT" in created, table


def test_ids_deleted_before_the_migration_and_named_in_the_outbox_or_a_digest_never_come_back(tmp_path):
    """A database made before 0013: post 2 (the last) was mailed and deleted, comment 3 was digested and deleted."""
    (tmp_path / "data").mkdir()
    context = hub_context(tmp_path / "data")
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["settings"] = context.settings
        with context.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0012")
            now = "2026-01-01 00:00:00"
            connection.execute(text(
                f"INSERT INTO users (id, email, name, created_at, timezone, digest_hour, digest_weekday, language,"
                f" notify_replies) VALUES (1, 'alice@example.com', 'Alice', '{now}', 'UTC', 7, 0, 'en', 1)"
            ))
            connection.execute(text(f"INSERT INTO groups (id, slug, name, description, is_private, created_at)"
                                    f" VALUES (1, 'engineering', 'Engineering', '', 0, '{now}')"))
            for post_id in (1, 2):
                connection.execute(text(f"INSERT INTO posts (id, group_id, author_id, title, body_text, created_at)"
                                        f" VALUES ({post_id}, 1, 1, 'Titel', 'Tekst', '{now}')"))
            for comment_id in (1, 2, 3):
                connection.execute(text(f"INSERT INTO comments (id, post_id, author_id, body_text, created_at)"
                                        f" VALUES ({comment_id}, 1, 1, 'Ja', '{now}')"))
            connection.execute(text(
                f"INSERT INTO outgoing_mail (key, recipient, envelope_from, message, status, attempts, last_error,"
                f" created_at) VALUES ('receipt:post:2', 'alice@example.com', '', x'00', 'sent', 1, '', '{now}')"
            ))
            connection.execute(text("INSERT INTO digest_watermarks (user_id, frequency, last_post_id, last_comment_id)"
                                    " VALUES (1, 'daily', 2, 3)"))
            connection.execute(text("DELETE FROM comments WHERE id IN (2, 3)"))
            connection.execute(text("DELETE FROM posts WHERE id = 2"))

        upgrade_database(context.settings)

        with context.session_scope() as session:
            group, alice = groups.get_group(session, "engineering"), accounts.get_user(session, "alice@example.com")
            assert [p.id for p in session.query(Post)] == [1], "rows are kept through the rebuild"
            new_post = posts.create_post(session, group, alice, "Nieuw", "Tekst")
            new_comment = posts.create_comment(session, new_post, alice, "Ja")
            assert (new_post.id, new_comment.id) == (3, 4)
    finally:
        context.close()
