"""The outbox against a real SMTP sink: one connection per batch, retries, bounces' VERP, crashes."""

from __future__ import annotations

import email
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hub.models import OutgoingMail, OutgoingStatus, utcnow
from hub.services import accounts, digests, groups, inbound, notifications, outbox, posts
from mailgateway import tokens
from tests.support.servers import free_port, wait_for
from tests.support.sink import SmtpSink


def message_to(address: str, subject: str = "Hallo") -> outbox.Composed:
    return outbox.compose(
        subject=subject, sender=("Plein", "no-reply@plein.test"), recipient=("Someone", address),
        text="Een regel tekst.\n" * 200, html="<p>Tekst</p>\n" * 200,
    )


@pytest.fixture
def sink(context):
    def start(**options) -> SmtpSink:
        server = SmtpSink(**options).__enter__()
        started.append(server)
        context.settings.smarthost = server.smarthost
        return server

    started: list[SmtpSink] = []
    yield start
    for server in started:
        server.__exit__(None, None, None)


def queue(context, *addresses: str) -> list[int]:
    with context.session_scope() as session:
        return [outbox.queue_mail(session, f"test:{a}", message_to(a)) for a in addresses]


def rows(context) -> dict[str, OutgoingMail]:
    with context.session_scope() as session:
        return {row.recipient: row for row in session.query(OutgoingMail)}


def test_a_batch_goes_over_one_smtp_connection_with_a_verp_envelope_sender(context, sink):
    server = sink()
    ids = queue(context, "a@example.com", "b@example.com", "c@example.com")

    result = outbox.drain(context)

    assert (result.sent, result.failed, result.deferred) == (3, 0, 0)
    assert len({r.connection for r in server.received}) == 1
    for received, outgoing_id in zip(server.received, ids):
        local, _, domain = received.mail_from.partition("@")
        assert domain == "plein.test"
        assert local.startswith("bounces+")
        assert tokens.verify(context.settings.signing_key(), "bounces", local.partition("+")[2]) == (outgoing_id,)
    assert {row.status for row in rows(context).values()} == {OutgoingStatus.SENT}


def test_a_451_is_retried_after_a_backoff_and_then_delivered(context, sink):
    server = sink(answers=["451 4.3.0 Try again later"])
    queue(context, "later@example.com")

    first = outbox.drain(context)
    row = rows(context)["later@example.com"]
    assert (first.deferred, row.status, row.attempts) == (1, OutgoingStatus.QUEUED, 1)
    assert row.last_error.startswith("451")
    assert row.next_attempt_at > utcnow()
    assert outbox.drain(context).sent == 0, "not due again before its backoff"

    second = outbox.drain(context, now=utcnow() + timedelta(hours=1))

    assert second.sent == 1
    assert rows(context)["later@example.com"].status == OutgoingStatus.SENT
    assert len(server.to("later@example.com")) == 1


def test_a_550_is_permanent_and_never_tried_again(context, sink):
    server = sink(answers=["550 5.1.1 No such user"])
    queue(context, "gone@example.com", "here@example.com")

    result = outbox.drain(context)

    assert (result.sent, result.failed) == (1, 1)
    gone = rows(context)["gone@example.com"]
    assert gone.status == OutgoingStatus.FAILED and gone.last_error.startswith("550")
    assert outbox.drain(context, now=utcnow() + timedelta(days=1)).sent == 0
    assert [r.recipients for r in server.received] == [["here@example.com"]]


def test_an_unreachable_smarthost_defers_the_message_and_loses_nothing(context, data_dir, monkeypatch):
    from tests.support.servers import free_port

    context.settings.smarthost = f"127.0.0.1:{free_port()}"
    queue(context, "patient@example.com")

    result = outbox.drain(context)

    row = rows(context)["patient@example.com"]
    assert result.deferred == 1
    assert row.status == OutgoingStatus.QUEUED and row.next_attempt_at > utcnow()
    assert "Connection" in row.last_error or "refused" in row.last_error


def test_two_drains_at_once_never_take_the_same_message(context, sink):
    server = sink()
    queue(context, *(f"person{i}@example.com" for i in range(6)))
    with context.session_scope() as session:
        first = outbox.claim_batch(session, utcnow(), 4, timedelta(minutes=5))
    with context.session_scope() as session:
        second = outbox.claim_batch(session, utcnow(), 4, timedelta(minutes=5))
    assert len(first) == 4 and len(second) == 2 and not set(first) & set(second)
    assert server.received == []


def start_worker(env: dict[str, str], log_path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        env=env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_mid_batch_neither_loses_nor_repeats_a_digest(context, sink, data_dir, tmp_path):
    server = sink(delay=0.4)
    readers = [f"reader{i}@example.com" for i in range(6)]
    with context.session_scope() as session:
        writer = accounts.create_user(session, "writer@example.com", "Wendy Writer")
        group = groups.create_group(session, "engineering", "Engineering")
        for address in readers:
            groups.add_member(session, group, accounts.create_user(session, address, address.split("@")[0]), "daily")
        posts.create_post(session, group, writer, "Kabelbreuk in Zwolle", "Het was een graafmachine.")
    env = {**os.environ, "PLEIN_SMARTHOST": context.settings.smarthost, "PLEIN_OUTBOX_LEASE_SECONDS": "1"}
    log_path = tmp_path / "worker.log"
    worker = start_worker(env, log_path)
    try:
        with context.session_scope() as session:
            assert len(digests.send_digests(session, "daily")) == 6
        wait_for(lambda: server.data_started >= 3, timeout=60, what=f"the third digest on the wire ({log_path})")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert len(server.received) == 2, "the third was cut off before its 250"

        worker = start_worker(env, log_path)
        wait_for(lambda: all_sent_after_sweeps(context), timeout=60, what=f"every digest sent after the restart ({log_path})")
    finally:
        worker.kill()
        worker.wait(timeout=10)

    assert sorted(r.recipients[0] for r in server.received) == readers
    assert len({r.message["Message-ID"] for r in server.received}) == 6
    assert rows_by_status(context) == {OutgoingStatus.SENT: 6}


def rows_by_status(context) -> dict[OutgoingStatus, int]:
    found: dict[OutgoingStatus, int] = {}
    for row in rows(context).values():
        found[row.status] = found.get(row.status, 0) + 1
    return found


def all_sent_after_sweeps(context) -> bool:
    """What beat does every minute, sooner: start a drain while messages are left."""
    if rows_by_status(context) == {OutgoingStatus.SENT: 6}:
        return True
    with context.session_scope() as session:
        outbox.requeue_stalled(session, older_than=timedelta(0))
    time.sleep(1)
    return False


def test_the_smarthost_is_reached_over_starttls_with_a_login(context, data_dir, monkeypatch, tmp_path):
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the openssl command is needed to make a test certificate")
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    class Relay:
        logins: list[str] = []
        received: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):
            assert session.ssl is not None, "mail must only travel after STARTTLS"
            self.received.append(envelope.original_content)
            return "250 2.0.0 Accepted"

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"plein", b"geheim")
        Relay.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    port = free_port()
    relay = Controller(
        Relay(), hostname="127.0.0.1", port=port, tls_context=server_context, require_starttls=True,
        authenticator=authenticate, auth_required=True,
    )
    relay.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        context.settings.smarthost = f"127.0.0.1:{port}"
        context.settings.smarthost_user, context.settings.smarthost_password = "plein", "geheim"
        queue(context, "a@example.com", "b@example.com")
        result = outbox.drain(context)
    finally:
        relay.stop()
    assert (result.sent, result.failed, result.deferred) == (2, 0, 0)
    assert Relay.logins == ["plein"]
    assert len(Relay.received) == 2


BARE_CR, BARE_LF = re.compile(rb"\r(?!\n)"), re.compile(rb"(?<!\r)\n")
def plain_text(received) -> str:
    return received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


SMUGGLED = "Tot vrijdag.\r.\r\nMAIL FROM:<ceo@bank.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nBetaal nu.\rEinde"


def test_a_post_with_lone_carriage_returns_reaches_the_relay_as_one_message_with_crlf_only(context, sink):
    server = sink()
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        bob = accounts.create_user(session, "bob@example.com", "Bob")
        group = groups.create_group(session, "engineering", "Engineering")
        groups.add_member(session, group, alice)
        groups.add_member(session, group, bob, "each")
        post = posts.create_post(session, group, alice, "Planning", SMUGGLED)
        notifications.notify_post(session, post.id)

    assert outbox.drain(context).sent == 1

    [received] = server.received
    assert received.recipients == ["bob@example.com"]
    assert not BARE_CR.search(received.data) and not BARE_LF.search(received.data)
    text = plain_text(received)
    assert "Tot vrijdag.\n.\nMAIL FROM:<ceo@bank.example>" in text and "Betaal nu.\nEinde" in text


def test_a_carriage_return_that_came_in_quoted_printable_goes_out_as_a_line_end(context, sink):
    server = sink()
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        group = groups.create_group(session, "engineering", "Engineering")
        groups.add_member(session, group, alice)
        groups.add_member(session, group, accounts.create_user(session, "bob@example.com", "Bob"), "each")
    raw = (
        b"From: alice@example.com\r\nTo: engineering@plein.test\r\nSubject: Planning\r\n"
        b"Message-ID: <qp-cr@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nTot vrijdag.=0D.=0D=0AMAIL FROM:<ceo@bank.example>=0DEinde\r\n"
    )
    with context.session_scope() as session:
        stored = inbound.store_inbound(session, raw, "alice@example.com", ["engineering@plein.test"])
    with context.session_scope() as session:
        inbound.process_inbound(session, stored.id)

    outbox.drain(context)

    [received] = server.to("bob@example.com")
    assert not BARE_CR.search(received.data) and not BARE_LF.search(received.data)
    assert "Tot vrijdag.\n.\nMAIL FROM:<ceo@bank.example>\nEinde" in plain_text(received)


def test_every_mail_plein_sends_names_this_installation_in_x_loop(data_dir):
    assert email.message_from_bytes(message_to("a@example.com").data)["X-Loop"] == "plein.test"
