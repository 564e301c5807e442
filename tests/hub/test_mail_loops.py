"""Two autoresponders cannot answer each other through Plein for ever (issue 15, item 13).

Alice's and Bob's mail programs answer every mail they get, and send none of the headers
that mark an automatic reply: each answer becomes a comment, each comment a mail to the
other. Comments by mail are limited per sender and per thread per hour, so the loop stops at
the limit by itself, each refusal is on record with its reason and answered by no mail, and
a person's reply in the same thread still posts. Mail goes in over real SMTP and through the
worker's service; what Plein mails out is read from its outbox.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.gateway import HubInboundSink
from hub.models import Comment, InboundMessage, InboundStatus, OutgoingMail, Post
from hub.services import accounts, groups, moderation, submissions
from hub.services import inbound as inbound_mail
from tests.mailgateway.test_smtp import running

AUTORESPONDERS = ("alice@example.com", "bob@example.com")
PERSON = "carol@example.com"
ROUNDS = 40


@pytest.fixture
def smtp_port(context, data_dir) -> Iterator[int]:
    """Alice, Bob and Carol in Engineering, each mailed every post and comment; Plein's SMTP server."""
    with context.session_scope() as session:
        group = groups.create_group(session, "engineering", "Engineering")
        for address in (*AUTORESPONDERS, PERSON):
            groups.add_member(session, group, accounts.create_user(session, address, address[0].upper()), "each")
    with running(HubInboundSink(context)) as port:
        yield port


def with_limits(context, per_sender: int, per_thread: int) -> None:
    context.settings.max_mail_comments_per_sender_per_thread_per_hour = per_sender
    context.settings.max_mail_comments_per_thread_per_hour = per_thread


@dataclass(frozen=True)
class Processed:
    """What became of one mail in, and how many mails Plein queued while deciding it."""

    id: int
    envelope_from: str
    status: InboundStatus
    reason: str
    mailed: int


def send(context, port: int, sender: str, to: str, raw: bytes) -> Processed:
    """Mail `raw` to Plein over SMTP, then process it as the worker does."""
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail(sender, [to], raw)
    with context.session_scope() as session:
        stored = session.query(InboundMessage).order_by(InboundMessage.id.desc()).first()
        mailed_before = session.query(OutgoingMail).count()
        result = inbound_mail.process_inbound(session, stored.id)
        mailed = session.query(OutgoingMail).count() - mailed_before
        return Processed(result.id, result.envelope_from, result.status, result.reason, mailed)


def new_post(context, port: int, sender: str, subject: str) -> Processed:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, "engineering@plein.test", subject
    mail["Message-ID"] = make_msgid(domain="example.com")
    mail.set_content("Wie plant de release van Q3?")
    return send(context, port, sender, "engineering@plein.test", mail.as_bytes(policy=policy.SMTP))


def answer(context, port: int, sender: str, notification: EmailMessage, text: str) -> Processed:
    """A reply to a mail from the group, as a mail program that ignores `Precedence: list` writes it."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = notification["Reply-To"]
    reply["Subject"] = f"Re: {notification['Subject']}"
    reply["Message-ID"] = make_msgid(domain="example.com")
    reply["In-Reply-To"] = notification["Message-ID"]
    reply["References"] = f"{notification.get('References', '')} {notification['Message-ID']}".strip()
    reply.set_content(text)
    return send(context, port, sender, notification["Reply-To"].addresses[0].addr_spec, reply.as_bytes(policy=policy.SMTP))


def group_mail(context, recipient: str, after: int = 0) -> list[tuple[int, EmailMessage]]:
    """The posts and comments Plein mailed to `recipient` (their Reply-To is the thread's), by outbox id."""
    with context.session_scope() as session:
        rows = session.query(OutgoingMail).filter(
            OutgoingMail.recipient == recipient, OutgoingMail.id > after,
        ).order_by(OutgoingMail.id)
        mails = [(row.id, message_from_bytes(row.message, policy=policy.default)) for row in rows]
    return [(number, mail) for number, mail in mails if str(mail.get("Reply-To", "")).startswith("reply+")]


def run_autoresponders(context, port: int) -> list[Processed]:
    """Let Alice's and Bob's autoresponders answer every group mail until none comes; every answer's record."""
    answered = dict.fromkeys(AUTORESPONDERS, 0)
    results: list[Processed] = []
    for _ in range(ROUNDS):
        answers = 0
        for responder in AUTORESPONDERS:
            for number, notification in group_mail(context, responder, after=answered[responder]):
                results.append(answer(context, port, responder, notification, "I am away until Monday."))
                answered[responder] = number
                answers += 1
        if not answers:
            return results
    pytest.fail(f"the autoresponders still answered each other after {ROUNDS} rounds")


def post_id(context) -> int:
    with context.session_scope() as session:
        return session.query(Post).one().id


def mail_comments(context, author: str | None = None) -> int:
    with context.session_scope() as session:
        query = session.query(Comment).filter(Comment.inbound_id.is_not(None))
        if author:
            query = query.filter(Comment.author_id == accounts.get_user(session, author).id)
        return query.count()


def test_two_autoresponders_stop_at_the_limit_per_sender_and_a_person_still_replies(context, smtp_port, monkeypatch):
    with_limits(context, per_sender=10, per_thread=60)
    assert new_post(context, smtp_port, PERSON, "Release Q3").status == InboundStatus.POSTED

    results = run_autoresponders(context, smtp_port)

    assert [mail_comments(context, responder) for responder in AUTORESPONDERS] == [10, 10]
    refused = [result for result in results if result.status == InboundStatus.REFUSED]
    assert {result.envelope_from for result in refused} == set(AUTORESPONDERS)
    for result in refused:
        assert result.reason == (
            f"{result.envelope_from} already wrote 10 comments by mail on post {post_id(context)} within the hour,"
            " the most taken from one sender (a mail loop?)"
        )
        assert result.mailed == 0, "an answer to a refused autoresponder would feed the loop"
    listed = CliRunner().invoke(main, ["inbound", "list", "--status", "refused"])
    assert listed.exit_code == 0, listed.output
    assert all(f"{result.id}\t" in listed.output for result in refused)
    assert "the most taken from one sender (a mail loop?)" in listed.output

    [(_, latest)] = group_mail(context, PERSON)[-1:]
    reply = answer(context, smtp_port, PERSON, latest, "Ik plan hem, de week van 14 juli.")
    assert reply.status == InboundStatus.POSTED, reply.reason


def test_many_senders_together_stop_at_the_limit_per_thread_and_the_web_still_takes_comments(context, 
    smtp_port, monkeypatch,
):
    with_limits(context, per_sender=10, per_thread=6)
    new_post(context, smtp_port, PERSON, "Release Q3")

    results = run_autoresponders(context, smtp_port)

    assert mail_comments(context) == 6
    refused = [result for result in results if result.status == InboundStatus.REFUSED]
    assert refused and all(result.mailed == 0 for result in refused)
    over_the_limit = f"post {post_id(context)} already had 6 comments by mail within the hour, the most taken (a mail loop?)"
    assert {result.reason for result in refused} == {over_the_limit}
    [(_, latest)] = group_mail(context, PERSON)[-1:]
    reply = answer(context, smtp_port, PERSON, latest, "Ik plan hem.")
    assert (reply.status, reply.reason) == (InboundStatus.REFUSED, over_the_limit)
    with context.session_scope() as session:
        carol, post = accounts.get_user(session, PERSON), session.query(Post).one()
        submissions.submit_comment(session, carol, post, "Ik plan hem, op de website.")
    with context.session_scope() as session:
        assert session.query(Comment).filter(Comment.inbound_id.is_(None)).count() == 1


def test_an_hour_later_the_same_sender_is_taken_again(context, smtp_port, monkeypatch):
    with_limits(context, per_sender=2, per_thread=60)
    new_post(context, smtp_port, PERSON, "Release Q3")
    run_autoresponders(context, smtp_port)
    assert mail_comments(context, "alice@example.com") == 2

    with context.session_scope() as session:
        for comment in session.query(Comment):
            comment.created_at -= timedelta(minutes=61)
    [(_, latest)] = group_mail(context, "alice@example.com")[-1:]

    assert answer(context, smtp_port, "alice@example.com", latest, "Terug van vakantie.").status == InboundStatus.POSTED


def test_a_web_comment_a_moderator_approved_is_not_counted_as_mail(context, smtp_port):
    with_limits(context, per_sender=10, per_thread=1)
    with context.session_scope() as session:
        group = groups.get_group(session, "engineering")
        moderation.set_moderator(session, group, accounts.get_user(session, PERSON))
        moderation.set_policy(session, group, "moderated")
    new_post(context, smtp_port, PERSON, "Release Q3")
    with context.session_scope() as session:
        post, alice = session.query(Post).one(), accounts.get_user(session, "alice@example.com")
        held = submissions.submit_comment(session, alice, post, "Ik plan hem, op de website.")
        moderation.approve(session, held, accounts.get_user(session, PERSON))
        moderation.set_policy(session, post.group, "members")
    [(_, notification)] = group_mail(context, "bob@example.com")[:1]

    assert answer(context, smtp_port, "bob@example.com", notification, "Ik help.").status == InboundStatus.POSTED
    assert answer(context, smtp_port, "bob@example.com", notification, "Nog eens.").status == InboundStatus.REFUSED
    assert mail_comments(context) == 1
