"""A signed mail cannot be replayed under a title of someone else's (issue 15, item 4).

Plein reads the first Subject, DKIM verifies the last (RFC 6376 §5.4.2). So mail with two of
a header RFC 5322 §3.6 allows once is refused, and a DKIM signature makes mail trusted only
when it signs every header Plein reads. Mail goes in over real SMTP and out of the worker's
service; keys are served by a real DNS server.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import dkim
import pytest

from hub.gateway import HubInboundSink
from hub.models import HeldMessage, InboundMessage, InboundStatus, Post
from hub.services import accounts, groups, inbound
from tests.mailgateway.test_smtp import running
from tests.support.dnsmasq import Dnsmasq, new_dkim_key

GROUP = "engineering@plein.test"


def newsletter() -> bytes:
    message = EmailMessage()
    message["From"] = "Alice <alice@corp.example>"
    message["To"] = "customers@corp.example"
    message["Subject"] = "Nieuwsbrief maart"
    message["Date"] = "Mon, 03 Mar 2025 10:00:00 +0100"
    message["Message-ID"] = "<nieuwsbrief-maart@corp.example>"
    message.set_content("Alles over glasvezel in Zeist.")
    return message.as_bytes().replace(b"\n", b"\r\n")


def signed(private: bytes, raw: bytes, headers: list[bytes]) -> bytes:
    return dkim.sign(raw, b"sel", b"corp.example", private, include_headers=headers) + raw


def send_and_process(context, raw: bytes) -> InboundMessage:
    """Over SMTP into the hub, then what the worker does with it."""
    with running(HubInboundSink(context)) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.sendmail("alice@corp.example", [GROUP], raw)
    with context.session_scope() as session:
        stored = session.query(InboundMessage).order_by(InboundMessage.id.desc()).first()
        result = inbound.process_inbound(session, stored.id)
        session.expunge(result)
        return result


@pytest.fixture
def hub(context):
    """Alice of corp.example in Engineering, with Plein verifying DKIM against a real DNS server."""
    private, public = new_dkim_key()
    with Dnsmasq({"sel._domainkey.corp.example": f"v=DKIM1; k=rsa; p={public}"}) as dns_server:
        context.settings.inbound_auth, context.settings.dns_resolver = "dkim", dns_server.address
        with context.session_scope() as session:
            alice = accounts.create_user(session, "alice@corp.example", "Alice")
            groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), alice)
        yield private


def posted_titles(context) -> list[str]:
    with context.session_scope() as session:
        return [post.title for post in session.query(Post)]


def test_a_signed_mail_replayed_under_a_prepended_subject_is_refused_with_its_reason(context, hub):
    replayed = b"Subject: Betaal de factuur vandaag\r\n" + signed(hub, newsletter(), [b"from", b"subject", b"to"])

    result = send_and_process(context, replayed)

    assert result.status == InboundStatus.REFUSED
    assert result.reason == (
        "mail that reads two ways is not posted: 2 Subject headers; RFC 5322 section 3.6 allows one,"
        " and readers differ on which counts"
    )
    assert posted_titles(context) == []


@pytest.mark.parametrize("name, added", [
    ("From", [b"From: Mallory <alice@corp.example>"]),
    ("Date", [b"Date: Tue, 1 Apr 2025 09:00:00 +0200"]),
    ("In-Reply-To", [b"In-Reply-To: <post-1@plein.test>", b"In-Reply-To: <nieuwsbrief-feb@corp.example>"]),
    ("Cc", [b"Cc: board@plein.test", b"Cc: sales@plein.test"]),
])
def test_any_header_plein_reads_given_twice_is_refused(context, hub, name, added):
    raw = newsletter().replace(b"\r\n\r\n", b"".join(b"\r\n" + line for line in added) + b"\r\n\r\n", 1)
    result = send_and_process(context, raw)
    assert result.status == InboundStatus.REFUSED
    assert f"2 {name} headers; RFC 5322 section 3.6 allows one" in result.reason


def test_a_signature_that_leaves_the_subject_unsigned_does_not_vouch_for_the_mail(context, hub):
    result = send_and_process(context, signed(hub, newsletter(), [b"from", b"to"]))

    assert result.status == InboundStatus.HELD
    assert "d=corp.example does not sign every Subject header, every Date header, every Message-Id header" in (
        result.reason
    )
    with context.session_scope() as session:
        assert session.query(HeldMessage).count() == 1
    assert posted_titles(context) == []


def test_a_signature_with_a_body_length_limit_does_not_vouch_for_the_mail(context, hub):
    headers = [b"from", b"to", b"subject", b"date", b"message-id"]
    raw = dkim.sign(newsletter(), b"sel", b"corp.example", hub, include_headers=headers, length=True)
    result = send_and_process(context, raw + newsletter())
    assert result.status == InboundStatus.HELD
    assert "does not sign the whole body (it has l=)" in result.reason


def test_a_signature_over_every_header_plein_reads_posts_and_oversigning_is_welcome(context, hub):
    headers = [b"from", b"to", b"subject", b"subject", b"date", b"message-id", b"cc", b"in-reply-to", b"references"]
    result = send_and_process(context, signed(hub, newsletter(), headers))
    assert result.status == InboundStatus.POSTED, result.reason
    assert posted_titles(context) == ["Nieuwsbrief maart"]
