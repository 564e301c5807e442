"""Mail loops are broken by what a mail says about itself (issue 15, item 13): Plein's own
X-Loop coming back, and an out-of-office subject in Dutch, English, German or French from an
autoresponder that sends none of the headers of RFC 3834. Over real SMTP into the hub, then
what the worker does with it."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from hub.gateway import HubInboundSink
from hub.models import Comment, InboundMessage, InboundStatus, Post
from hub.services import accounts, groups, inbound, outbox
from tests.mailgateway.test_smtp import running

GROUP = "engineering@plein.test"


@pytest.fixture
def hub(context, data_dir):
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), alice)


def send_and_process(context, raw: bytes) -> InboundMessage:
    with running(HubInboundSink(context)) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail("alice@example.com", [GROUP], raw)
    with context.session_scope() as session:
        stored = session.query(InboundMessage).order_by(InboundMessage.id.desc()).first()
        result = inbound.process_inbound(session, stored.id)
        session.expunge(result)
        return result


def nothing_posted(context) -> bool:
    with context.session_scope() as session:
        return session.query(Post).count() == 0 and session.query(Comment).count() == 0


def test_mail_plein_sent_that_a_forwarder_brings_back_is_refused_as_a_loop(context, hub):
    sent = outbox.compose(
        subject="Bevestig je aanmelding", sender=("Plein", "no-reply@plein.test"),
        recipient=("Alice", "alice@example.com"), text="Klik hier.", html="<p>Klik hier.</p>",
    )
    # A redirect rule keeps the headers and sends it on, from Alice, to the group.
    forwarded = sent.data.replace(b"From: Plein <no-reply@plein.test>", b"From: Alice <alice@example.com>")
    forwarded = forwarded.replace(b"To: Alice <alice@example.com>", f"To: {GROUP}".encode())

    result = send_and_process(context, forwarded.replace(b"\n", b"\r\n"))

    assert (result.status, result.reason) == (
        InboundStatus.REFUSED, "mail carrying this hub's own X-Loop plein.test is not posted (a mail loop)",
    )
    assert nothing_posted(context)


@pytest.mark.parametrize("subject", [
    "Afwezigheidsbericht", "Afwezigheidsbericht: [Engineering] Planning", "Automatisch antwoord: Re: Planning",
    "Out of office", "Out of Office: Planning", "Out of Office AutoReply: Planning", "Automatic reply: Planning",
    "Abwesenheitsnotiz: Planning", "Automatische Antwort: Planning", "Réponse automatique : Planning",
    "Absence du bureau", "Message d'absence: Planning",
])
def test_an_out_of_office_subject_without_any_header_is_refused_as_automatic(context, hub, subject):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "alice@example.com", GROUP, subject
    message["Message-ID"] = "<afwezig@example.com>"
    message.set_content("Ik ben tot maandag afwezig.")

    result = send_and_process(context, message.as_bytes().replace(b"\n", b"\r\n"))

    assert result.status == InboundStatus.REFUSED
    assert result.reason == f"automatic mail is not posted: out-of-office subject {subject!r}"
    assert nothing_posted(context)


def test_a_person_writing_about_being_out_of_office_is_posted(context, hub):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "alice@example.com", GROUP, "Out of office tomorrow"
    message.set_content("Ik ben morgen vrij.")
    assert send_and_process(context, message.as_bytes().replace(b"\n", b"\r\n")).status == InboundStatus.POSTED
