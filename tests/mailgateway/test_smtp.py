"""The SMTP server over a real socket, with a sink that keeps messages in a list."""

from __future__ import annotations

import asyncio
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mailgateway.smtp import MAX_RECIPIENTS, Limits, start_smtp_server, tls_context
from tests.support.servers import free_port


class ListSink:
    def __init__(self, known: set[str], broken: bool = False) -> None:
        self.known = known
        self.broken = broken
        self.stored: list[tuple[bytes, str, list[str]]] = []

    def accepts(self, address: str) -> bool:
        return address.lower() in self.known

    def store(self, raw: bytes, envelope_from: str, recipients: list[str]) -> None:
        if self.broken:
            raise OSError("disk full")
        self.stored.append((raw, envelope_from, recipients))


@contextmanager
def running(
    sink: ListSink, max_message_size: int = 25 * 1024 * 1024, *, tls: ssl.SSLContext | None = None,
    limits: Limits = Limits(), port: int | None = None,
) -> Iterator[int]:
    port = port or free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    server_holder = {}

    async def start() -> None:
        server_holder["server"] = await start_smtp_server(
            sink, "127.0.0.1", port, hostname="plein.test", max_message_size=max_message_size, tls=tls, limits=limits,
        )
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(5)
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(server_holder["server"].close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


MESSAGE = b"From: a@example.com\r\nTo: eng@plein.test\r\nSubject: hi\r\nMessage-ID: <1@example.com>\r\n\r\nHello\r\n"


def test_accepted_message_is_stored_byte_for_byte_before_250():
    sink = ListSink({"eng@plein.test"})
    with running(sink) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        refused = smtp.sendmail("a@example.com", ["eng@plein.test"], MESSAGE)
    assert refused == {}
    [(raw, envelope_from, recipients)] = sink.stored
    assert raw == MESSAGE
    assert (envelope_from, recipients) == ("a@example.com", ["eng@plein.test"])


def test_rcpt_for_unknown_group_gets_550_and_stores_nothing():
    sink = ListSink({"eng@plein.test"})
    with running(sink) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        smtp.mail("a@example.com")
        code, answer = smtp.rcpt("nobody@plein.test")
    assert (code, answer) == (550, b"5.1.1 No such group or address here: nobody@plein.test")
    assert sink.stored == []


def test_message_that_cannot_be_stored_gets_451_never_250():
    sink = ListSink({"eng@plein.test"}, broken=True)
    with running(sink) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("a@example.com", ["eng@plein.test"], MESSAGE)
    assert refused.value.smtp_code == 451
    assert refused.value.smtp_error.startswith(b"4.3.0")


def test_size_limit_is_advertised_and_a_larger_message_gets_552():
    sink = ListSink({"eng@plein.test"})
    with running(sink, max_message_size=1000) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["size"] == "1000"
        with pytest.raises(smtplib.SMTPException) as refused:
            smtp.sendmail("a@example.com", ["eng@plein.test"], MESSAGE + b"x" * 2000)
    assert "552" in str(refused.value)
    assert sink.stored == []


def test_recipients_beyond_the_cap_get_452():
    sink = ListSink({f"g{i}@plein.test" for i in range(MAX_RECIPIENTS + 1)})
    with running(sink) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        smtp.mail("a@example.com")
        codes = [smtp.rcpt(f"g{i}@plein.test")[0] for i in range(MAX_RECIPIENTS + 1)]
    assert codes[:MAX_RECIPIENTS] == [250] * MAX_RECIPIENTS
    assert codes[MAX_RECIPIENTS] == 452


class Conversation:
    """SMTP spoken byte for byte over a plain socket, as an attacker would."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""
        self.reply()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> bytes:
        """One complete (possibly multi-line) reply."""
        while True:
            lines = self.buffer.split(b"\r\n")
            for index, line in enumerate(lines[:-1]):
                if line[3:4] == b" ":
                    self.buffer = b"\r\n".join(lines[index + 1:])
                    return b"\r\n".join(lines[:index + 1])
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed; had {self.buffer!r}")
            self.buffer += chunk

    def command(self, line: bytes) -> bytes:
        self.send(line + b"\r\n")
        return self.reply()


def test_bare_lf_dot_bare_lf_does_not_end_data_so_nothing_is_smuggled():
    sink = ListSink({"eng@plein.test"})
    with running(sink) as port:
        smtp = Conversation(port)
        smtp.command(b"EHLO attacker.example")
        smtp.command(b"MAIL FROM:<a@example.com>")
        smtp.command(b"RCPT TO:<eng@plein.test>")
        assert smtp.command(b"DATA").startswith(b"354")
        smtp.send(
            b"From: a@example.com\r\nTo: eng@plein.test\r\nSubject: one\r\n\r\nfirst\n.\n"
            b"MAIL FROM:<ceo@example.com>\r\nRCPT TO:<eng@plein.test>\r\nDATA\r\n"
            b"From: ceo@example.com\r\nSubject: smuggled\r\n\r\nsecond\r\n.\r\n"
        )
        assert smtp.reply().startswith(b"250 2.0.0")
        assert smtp.command(b"QUIT").startswith(b"221")
    [(raw, envelope_from, _)] = sink.stored
    assert envelope_from == "a@example.com"
    assert b"first\n.\nMAIL FROM:<ceo@example.com>" in raw


def test_bare_lf_inside_the_header_gets_550_and_stores_nothing():
    sink = ListSink({"eng@plein.test"})
    with running(sink) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        smtp.mail("a@example.com")
        smtp.rcpt("eng@plein.test")
        code, answer = smtp.data(b"From: a@example.com\nBcc: ceo@example.com\r\nSubject: x\r\n\r\nbody\r\n")
    assert (code, answer[:5]) == (550, b"5.6.0")
    assert sink.stored == []


@pytest.fixture
def certificate(tmp_path) -> tuple:
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the openssl command is needed to make a test certificate")
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=plein.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def client_context(cert) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    return context


def test_starttls_is_offered_with_a_certificate_and_mail_arrives_over_it(certificate):
    cert, key = certificate
    sink = ListSink({"eng@plein.test"})
    with running(sink, tls=tls_context(cert, key)) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        smtp.starttls(context=client_context(cert))
        assert smtp.sendmail("a@example.com", ["eng@plein.test"], MESSAGE) == {}
    assert [raw for raw, _, _ in sink.stored] == [MESSAGE]


def test_without_a_certificate_starttls_is_not_offered():
    with running(ListSink(set())) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("starttls")


def test_commands_pipelined_after_starttls_are_discarded(certificate):
    cert, key = certificate
    sink = ListSink({"eng@plein.test"})
    with running(sink, tls=tls_context(cert, key)) as port:
        smtp = Conversation(port)
        smtp.command(b"EHLO attacker.example")
        smtp.send(b"STARTTLS\r\nMAIL FROM:<ceo@example.com>\r\n")
        assert smtp.reply().startswith(b"220")
        assert smtp.buffer == b""
        smtp.sock = client_context(cert).wrap_socket(smtp.sock, server_hostname="plein.test")
        smtp.sock.settimeout(1)
        with pytest.raises(TimeoutError):  # nothing answers the injected MAIL: it was dropped
            smtp.sock.recv(1)
        smtp.sock.settimeout(5)
        assert smtp.command(b"EHLO attacker.example").startswith(b"250-plein.test")
        assert smtp.command(b"RCPT TO:<eng@plein.test>").startswith(b"503")


def test_a_sender_over_its_rate_gets_451_while_others_still_get_through():
    sink = ListSink({"eng@plein.test"})
    with running(sink, limits=Limits(per_sender_per_minute=2)) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        codes = []
        for _ in range(3):
            codes.append(smtp.mail("busy@example.com")[0])
            smtp.rset()
        assert codes == [250, 250, 451]
        assert smtp.mail("calm@example.com")[0] == 250


def test_a_client_over_its_rate_gets_451_whoever_it_claims_to_be():
    sink = ListSink({"eng@plein.test"})
    with running(sink, limits=Limits(per_client_per_minute=2)) as port:
        codes = []
        for sender in ("a@example.com", "b@example.com", "c@example.com"):
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                smtp.ehlo()
                codes.append(smtp.mail(sender)[0])
        assert codes == [250, 250, 451]


def test_several_servers_listen_on_one_port_and_one_alone_still_takes_mail():
    first, second = ListSink({"engineering@plein.test"}), ListSink({"engineering@plein.test"})
    with running(first) as port:
        with running(second, port=port):
            pass
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("alice@example.com", ["engineering@plein.test"], b"Subject: one\r\n\r\nx\r\n")
    with running(second, port=port):
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("alice@example.com", ["engineering@plein.test"], b"Subject: two\r\n\r\nx\r\n")
    assert [raw for raw, _, _ in first.stored] == [b"Subject: one\r\n\r\nx\r\n"]
    assert [raw for raw, _, _ in second.stored] == [b"Subject: two\r\n\r\nx\r\n"]
