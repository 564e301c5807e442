"""Migration 0017 keeps every web post held for moderation, now as written, on SQLite and on PostgreSQL.

Before it, a web post in a moderated group was held as the mail it would have been: raw bytes on
an inbound record marked `written_on_web`. The database here is made at 0016 the way Plein made
such rows, then migrated.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from sqlalchemy import text

from hub.db import upgrade_database
from hub.models import Attachment, HeldMessage, InboundMessage, Post
from hub.services import accounts, attachments, groups, moderation, submissions
from tests.support.migrations import at_revision, insert

NOW = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def context(unmigrated_context):
    """Here the hub's database is made at an older revision by the test itself."""
    return unmigrated_context


def as_mail(title: str, body: str, files: dict[str, bytes]) -> bytes:
    """A web post as Plein kept it before 0017 (`submissions._as_mail`)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Alice <alice@example.com>", "engineering@plein.test", title
    message["Message-ID"] = "<web.1@plein.test>"
    message.set_content(body)
    for filename, data in files.items():
        message.add_attachment(data, maintype="text", subtype="plain", filename=filename)
    return message.as_bytes(policy=SMTP)



def inbound(connection, data_dir, inbound_id: int, raw: bytes | None, status: str, on_web: bool) -> None:
    """An inbound record; its raw mail on disk unless `raw` is None (lost)."""
    path = f"inbound/2026/03/02/{inbound_id}.eml"
    if raw is not None:
        (data_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / path).write_bytes(raw)
    insert(connection, "inbound_messages", id=inbound_id, message_id=f"web.{inbound_id}@plein.test",
           envelope_from="alice@example.com", recipients="engineering@plein.test", path=path, size=len(raw or b""),
           status=status, reason="written on the web; held for moderation", received_at=NOW, written_on_web=on_web)


def held(connection, held_id: int, inbound_id: int, subject: str, body: str, status: str = "held") -> None:
    insert(connection, "held_messages", id=held_id, inbound_id=inbound_id, group_id=1, sender_id=1, subject=subject,
           text=body, reason="Engineering is moderated", status=status, outcome="", created_at=NOW)


def made_before_0017(context) -> None:
    """Alice's web post waiting (held 7, with a file), one whose mail was lost (held 8), one approved
    (held 9, made post 3), and a mail held (held 10). Held message 11 and inbound record 12 were the last
    rows and were deleted: their ids stay used."""
    data_dir = context.settings.data_dir
    with at_revision(context, "0016") as connection:
        for user_id, email, admin in ((1, "alice@example.com", False), (2, "mona@example.com", True)):
            insert(connection, "users", id=user_id, email=email, name=email.split("@")[0].title(), created_at=NOW,
                   timezone="UTC", digest_hour=7, digest_weekday=0, language="en", notify_replies=True, is_admin=admin)
        insert(connection, "groups", id=1, slug="engineering", name="Engineering", description="", is_private=False,
               posting_policy="moderated", created_at=NOW)
        inbound(connection, data_dir, 5, as_mail("Nieuwe kantine", "Open vanaf maandag.", {"menu.txt": b"soep\n"}),
                "held", on_web=True)
        held(connection, 7, 5, "Nieuwe kantine", "Open vanaf maandag.")
        inbound(connection, data_dir, 6, None, "held", on_web=True)
        held(connection, 8, 6, "Verloren", "Mijn bijlage is weg.")
        inbound(connection, data_dir, 9, as_mail("Rooster", "Zie hier.", {}), "posted", on_web=True)
        held(connection, 9, 9, "Rooster", "Zie hier.", status="approved")
        insert(connection, "posts", id=3, group_id=1, author_id=1, title="Rooster", body_text="Zie hier.",
               message_id="web.9@plein.test", inbound_id=9, created_at=NOW)
        inbound(connection, data_dir, 10, as_mail("Per mail", "Gewoon mail.", {}), "held", on_web=False)
        held(connection, 10, 10, "Per mail", "Gewoon mail.")
        inbound(connection, data_dir, 12, b"x", "refused", on_web=False)
        held(connection, 11, 12, "Weg", "x")
        connection.execute(text("DELETE FROM held_messages WHERE id = 11"))
        connection.execute(text("DELETE FROM inbound_messages WHERE id = 12"))
        if connection.dialect.name == "postgresql":  # rows given their ids leave the sequence where it was
            for table, last in (("held_messages", 11), ("inbound_messages", 12)):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})"))


def test_a_web_post_held_before_the_migration_is_kept_as_written_with_its_file(context):
    made_before_0017(context)

    upgrade_database(context.settings)

    with context.session_scope() as session:
        assert [m.id for m in session.query(InboundMessage)] == [10], "only the mail keeps an inbound record"
        waiting = session.get(HeldMessage, 7)
        assert (waiting.inbound_id, waiting.status, waiting.subject, waiting.text) == (
            None, "held", "Nieuwe kantine", "Open vanaf maandag."
        )
        [kept] = waiting.files
        assert (kept.filename, kept.content_type, kept.size) == ("menu.txt", "text/plain", 5)
        assert attachments.blob_path(context.settings.attachments_dir, kept.sha256).read_bytes() == b"soep\n"
        lost = session.get(HeldMessage, 8)
        assert (lost.inbound_id, lost.files, lost.status) == (None, [], "held")
        assert lost.reason.startswith("Engineering is moderated; its files were lost with its stored mail")
        assert (session.get(HeldMessage, 9).inbound_id, session.get(Post, 3).inbound_id) == (None, None)
        assert session.get(HeldMessage, 10).inbound_id == 10

        mona = accounts.get_user(session, "mona@example.com")
        moderation.approve(session, waiting, mona)
        post = session.query(Post).filter_by(title="Nieuwe kantine").one()
        assert (post.author.email, post.body_text) == ("alice@example.com", "Open vanaf maandag.")
        assert [(a.filename, a.sha256) for a in session.query(Attachment)] == [("menu.txt", kept.sha256)]

    with context.session_scope() as session:
        alice, group = accounts.get_user(session, "alice@example.com"), groups.get_group(session, "engineering")
        assert submissions.submit_post(session, alice, group, "Nog een", "Tekst").id == 12, "ids go on from the last"
