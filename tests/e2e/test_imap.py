"""Mail taken from a real Dovecot mailbox by `plein run` and `plein imap`, as an admin would set it up."""

from __future__ import annotations

import signal

from imapclient import IMAPClient

from tests.support.dovecot import Dovecot
from tests.support.servers import PleinServer, wait_for


def append(dovecot: Dovecot, *mails: bytes) -> None:
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login("plein", "secret")
        for mail in mails:
            client.append("INBOX", mail)


def unseen(dovecot: Dovecot) -> list[int]:
    with IMAPClient("127.0.0.1", port=dovecot.port, ssl=False) as client:
        client.login("plein", "secret")
        client.select_folder("INBOX")
        return client.search(["UNSEEN"])


def mail(number: int) -> bytes:
    return (
        f"From: Alice <alice@example.com>\r\nTo: engineering@plein.localhost\r\n"
        f"Subject: Bericht {number}\r\nMessage-ID: <imap-{number}@example.com>\r\n\r\nTekst {number}\r\n"
    ).encode()


def test_plein_run_posts_mail_from_the_mailbox_in_plein_imap_url(tmp_path, dovecot):
    server = PleinServer(tmp_path / "data", imap_url=dovecot.url())
    server.cli("db", "upgrade")
    server.cli("user", "add", "alice@example.com", "--name", "Alice")
    server.cli("group", "create", "engineering", "--name", "Engineering")
    server.cli("group", "add-member", "engineering", "alice@example.com")
    server.start()
    try:
        append(dovecot, mail(1))
        wait_for(lambda: server.query("SELECT title FROM posts"), timeout=60, what="the mailbox mail to be posted")
        assert server.query("SELECT title FROM posts") == [("Bericht 1",)]
        assert unseen(dovecot) == []
    finally:
        server.stop()


def test_plein_imap_killed_mid_stream_takes_every_message_exactly_once(tmp_path, dovecot):
    server = PleinServer(tmp_path / "data", imap_url=dovecot.url())
    server.cli("db", "upgrade")
    server.cli("user", "add", "alice@example.com", "--name", "Alice")
    count = 40
    append(dovecot, *(mail(n) for n in range(count)))

    def stored() -> int:
        return server.query("SELECT count(*) FROM imap_messages")[0][0]

    first = server.spawn("imap", "imap")
    wait_for(lambda: stored() >= 3, timeout=60, what="the watcher to store some messages")
    first.send_signal(signal.SIGKILL)
    first.wait()
    server.processes.pop("imap")
    try:
        server.spawn("imap-again", "imap")
        wait_for(lambda: stored() == count and not unseen(dovecot), timeout=60, what="every message to be taken")
    finally:
        server.stop()
    message_ids = [row[0] for row in server.query("SELECT message_id FROM inbound_messages")]
    assert sorted(message_ids) == sorted(f"imap-{n}@example.com" for n in range(count))
