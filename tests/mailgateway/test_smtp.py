"""The SMTP server over a real socket, with a sink that keeps messages in a list."""

from __future__ import annotations

import asyncio
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mailgateway.smtp import MAX_RECIPIENTS, start_smtp_server
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
def running(sink: ListSink, max_message_size: int = 25 * 1024 * 1024) -> Iterator[int]:
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    server_holder = {}

    async def start() -> None:
        server_holder["server"] = await start_smtp_server(
            sink, "127.0.0.1", port, hostname="plein.test", max_message_size=max_message_size
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
