"""Deleted content leaves nothing behind: no stored file, no mail still to send (issue 15, item 5).

A post undone through its receipt used to keep its attachment files on disk for good, and
mail about it that was still queued went out after it was gone. The tests take the path a
post takes: mail stored as the SMTP hook stores it and processed as the worker does, the
undo link of its receipt over HTTP, the jobs that commit queued as a worker receives them
from the broker, and the outbox drained to the Maildir.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from fastapi.testclient import TestClient

from hub.db import upgrade_database
from hub.models import Attachment, Comment, OutgoingMail, Post
from hub.services import accounts, attachments, groups, inbound, message_ids, outbox, posts
from hub.settings import Settings
from hub.web.app import create_app
from tests.support.worker import run_jobs
from workers import tasks

MANUAL = b"%PDF-1.4 the lift's manual, page 1 of 1\n"
PHOTO = b"\x89PNG\r\n\x1a\n a photo of the broken lift"


def mail(subject: str, body: str, files: dict[str, bytes] = {}, **headers: str) -> bytes:  # noqa: B006
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Alice <alice@example.com>", "engineering@plein.test", subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    for filename, data in files.items():
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return message.as_bytes()


def receive(context, raw: bytes) -> None:
    """As the SMTP hook and then the worker do, each in a transaction of its own."""
    with context.session_scope() as session:
        stored = inbound.store_inbound(session, raw, "alice@example.com", ["engineering@plein.test"])
    with context.session_scope() as session:
        assert inbound.process_inbound(session, stored.id).status.value == "posted"


def receipt_for(context, kind: str, item_id: int) -> EmailMessage:
    with context.session_scope() as session:
        [row] = session.query(OutgoingMail).filter(OutgoingMail.key.like(f"receipt:{kind}:{item_id}:%"))
        return message_from_bytes(row.message, policy=policy.default)


def undo_through_the_receipt(context, receipt: EmailMessage) -> None:
    text = receipt.get_body(preferencelist=("plain",)).get_content()
    path = "/" + re.search(r"Undo it: (\S+)", text).group(1).split("://", 1)[1].split("/", 1)[1]
    client = TestClient(create_app(context))
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)
    assert client.post(path, data={"csrf": csrf}).status_code == 200




def stored(context, data: bytes) -> bool:
    return attachments.blob_path(context.settings.attachments_dir, hashlib.sha256(data).hexdigest()).exists()


def the_post(context) -> Post:
    with context.session_scope() as session:
        return session.query(Post).order_by(Post.id.desc()).first()


@pytest.fixture
def on_postgresql(postgres, data_dir, monkeypatch):
    """PostgreSQL for the hub's `context`, which reads `PLEIN_DATABASE_URL` as it is built after this."""
    monkeypatch.setenv("PLEIN_DATABASE_URL", postgres.fresh_database("deletion"))
    upgrade_database(Settings(data_dir=data_dir))


@pytest.fixture
def company_on_postgresql(on_postgresql, company):
    return company


@pytest.fixture
def company(context, monkeypatch):
    """Alice writes; Bob gets each mail. The worker's tasks run on this hub's context."""
    assert tasks.sweep_attachments.name == attachments.SWEEP_TASK
    monkeypatch.setattr(tasks, "context", context)
    with context.session_scope() as session:
        group = groups.create_group(session, "engineering", "Engineering")
        for email, name in [("alice@example.com", "Alice"), ("bob@example.com", "Bob")]:
            groups.add_member(session, group, accounts.create_user(session, email, name), "each")


def test_a_post_undone_through_its_receipt_takes_its_attachment_file_with_it(context, company):
    receive(context, mail("Storing lift", "De handleiding zit erbij.", {"handleiding.pdf": MANUAL}))
    post = the_post(context)
    assert stored(context, MANUAL)

    undo_through_the_receipt(context, receipt_for(context, "post", post.id))

    assert stored(context, MANUAL), "a file goes only when a worker sweeps it, after the commit"
    assert run_jobs(context, attachments.SWEEP_TASK) == 1
    assert not stored(context, MANUAL)
    with context.session_scope() as session:
        assert session.query(Attachment).count() == 0


def test_a_comment_undone_through_its_receipt_takes_its_attachment_row_and_file_with_it(context, company):
    receive(context, mail("Storing lift", "De lift staat stil."))
    with context.session_scope() as session:
        post_id = session.query(Post).one().id
        answers = message_ids.message_id(session, "post", post_id)
    receive(context, mail("Re: Storing lift", "Een foto.", {"foto.png": PHOTO}, In_Reply_To=answers))
    with context.session_scope() as session:
        comment_id = session.query(Comment).one().id

    undo_through_the_receipt(context, receipt_for(context, "comment", comment_id))
    run_jobs(context, attachments.SWEEP_TASK)

    with context.session_scope() as session:
        assert session.query(Attachment).count() == 0, "the photo must not stay on the post"
    assert not stored(context, PHOTO)


def test_a_deletion_that_rolls_back_keeps_the_file_and_sweeps_nothing(context, company):
    receive(context, mail("Storing lift", "De handleiding zit erbij.", {"handleiding.pdf": MANUAL}))
    post_id = the_post(context).id

    with pytest.raises(RuntimeError), context.session_scope() as session:
        post = session.get(Post, post_id)
        posts.delete_post(session, post, post.author)
        raise RuntimeError("the request failed after the delete")

    assert run_jobs(context, attachments.SWEEP_TASK) == 0
    assert stored(context, MANUAL)
    with context.session_scope() as session:
        assert [a.filename for a in session.get(Post, post_id).attachments] == ["handleiding.pdf"]


def test_a_file_two_attachments_share_stays_while_one_still_names_it(context, company):
    receive(context, mail("Storing lift", "De handleiding.", {"handleiding.pdf": MANUAL}))
    first = the_post(context).id
    receive(context, mail("Storing lift 2", "Nog eens de handleiding.", {"manual.pdf": MANUAL}))
    second = the_post(context).id

    undo_through_the_receipt(context, receipt_for(context, "post", first))
    run_jobs(context, attachments.SWEEP_TASK)
    assert stored(context, MANUAL)

    undo_through_the_receipt(context, receipt_for(context, "post", second))
    run_jobs(context, attachments.SWEEP_TASK)
    assert not stored(context, MANUAL)


def test_the_sweep_waits_for_a_post_that_is_attaching_the_same_file_and_keeps_it(context, company):
    the_sweep_waits_for_a_post_attaching_the_same_file(context)


def test_on_postgresql_the_sweep_waits_for_a_post_that_is_attaching_the_same_file(company_on_postgresql, context):
    the_sweep_waits_for_a_post_attaching_the_same_file(context)


def the_sweep_waits_for_a_post_attaching_the_same_file(context) -> None:
    """A post being written finds the file still stored and names it; the sweep freed by an older deletion must keep it."""
    receive(context, mail("Storing lift", "De handleiding.", {"handleiding.pdf": MANUAL}))
    with context.session_scope() as session:
        post = session.query(Post).one()
        posts.delete_post(session, post, post.author)
    swept = []
    with context.session_scope() as session:
        alice = accounts.get_user(session, "alice@example.com")
        again = posts.create_post(session, groups.get_group(session, "engineering"), alice, "Storing lift", "Opnieuw.")
        attachments.attach(session, again, "handleiding.pdf", "application/pdf", MANUAL)  # the file is still there
        sweeper = threading.Thread(target=lambda: swept.append(run_jobs(context, attachments.SWEEP_TASK)))
        sweeper.start()
        sweeper.join(timeout=1)
        assert sweeper.is_alive(), "the sweep must wait for this transaction"
    sweeper.join(timeout=30)
    assert swept == [1]
    assert stored(context, MANUAL)


def test_mail_about_an_undone_post_still_in_the_outbox_is_never_sent(context, company):
    receive(context, mail("Storing lift", "De lift staat stil. Bel de monteur niet."))
    post = the_post(context)
    with context.session_scope() as session:
        queued = session.query(OutgoingMail).filter(OutgoingMail.key.like(f"post:{post.id}:%")).count()
    assert queued == 1, "Bob's copy waits in the outbox"

    undo_through_the_receipt(context, receipt_for(context, "post", post.id))
    outbox.drain(context)

    sent = [message_from_bytes(m.as_bytes(), policy=policy.default) for m in mailbox.Maildir(context.settings.outbox_dir)]
    assert [m["To"] for m in sent if "Storing lift" in m["Subject"]] == []
    with context.session_scope() as session:
        reasons = {row.last_error for row in session.query(OutgoingMail).filter(OutgoingMail.key.like("%:" + str(post.id) + ":%"))}
    assert reasons == {"not sent: what it was about was deleted"}


def test_mail_about_an_undone_comment_is_never_sent_and_the_answer_to_it_stays_under_its_mark(context, company):
    receive(context, mail("Storing lift", "De lift staat stil."))
    outbox.drain(context)
    with context.session_scope() as session:
        answers = message_ids.message_id(session, "post", session.query(Post).one().id)
    receive(context, mail("Re: Storing lift", "Ik bel de monteur niet.", In_Reply_To=answers))
    with context.session_scope() as session:
        comment = session.query(Comment).one()
        bob = accounts.get_user(session, "bob@example.com")
        answer = posts.create_comment(session, comment.post, bob, "Ik wel.", parent=comment)
        answer_id = answer.id
    with context.session_scope() as session:
        keys = [k for (k,) in session.query(OutgoingMail.key).filter(OutgoingMail.status == "queued")]
    assert any(k.startswith(f"comment:{comment.id}:to:") for k in keys)

    undo_through_the_receipt(context, receipt_for(context, "comment", comment.id))
    outbox.drain(context)

    sent = [message_from_bytes(m.as_bytes(), policy=policy.default) for m in mailbox.Maildir(context.settings.outbox_dir)]
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in sent]
    assert not [t for t in texts if "monteur niet" in t]
    with context.session_scope() as session:
        kept = session.get(Comment, answer_id)
        assert kept.body_text == "Ik wel.", "Bob's answer is Bob's: it stays"
        assert kept.parent.removed_at is not None and kept.parent.body_text == ""
