"""Nothing accepted is lost, nothing is posted twice: SIGKILL the SMTP server and the worker mid-stream.

The embedded profile runs here as separate roles (`plein smtp`, `plein worker`, `plein beat`)
so that each can be killed on its own. A message counts as accepted when SMTP answered 250;
each accepted message must end as exactly one post. A message whose connection died before
the answer may or may not be posted, but never twice.
"""

from __future__ import annotations

import signal
import smtplib
import threading
import time
from collections import Counter

import pytest

from tests.e2e.test_mail_to_hub import mail
from tests.support.servers import PleinServer, _listening, wait_for

KILLS = 10
ROLES = {"smtp": ("smtp",), "worker": ("worker",), "beat": ("beat",)}


@pytest.fixture
def plein(tmp_path):
    server = PleinServer(
        tmp_path / "data", sweep_interval="1", sweep_after="2",
        smtp_max_per_sender_per_minute="0", smtp_max_per_client_per_minute="0",
    )
    server.cli("db", "upgrade")
    server.cli("user", "add", "alice@example.com", "--name", "Alice")
    server.cli("group", "create", "engineering", "--name", "Engineering")
    server.cli("group", "add-member", "engineering", "alice@example.com")
    server.data_dir.mkdir(parents=True, exist_ok=True)
    for name, command in ROLES.items():
        server.spawn(name, *command)
    wait_for(lambda: _listening(server.smtp_port), timeout=30, what="plein smtp to listen")
    yield server
    server.stop()


class Stream:
    """Sends numbered messages until stopped, and remembers which ones were answered 250."""

    def __init__(self, server: PleinServer) -> None:
        self.server = server
        self.accepted: list[str] = []
        self.unanswered: list[str] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        number = 0
        while not self.stopped.is_set():
            number += 1
            subject = f"Bericht {number:04d}"
            message = mail("alice", f"engineering@{self.server.domain}", subject, f"Tekst {number}")
            try:
                with smtplib.SMTP("127.0.0.1", self.server.smtp_port, timeout=5) as smtp:
                    smtp.send_message(message)
            except (OSError, smtplib.SMTPException):
                self.unanswered.append(subject)
                time.sleep(0.05)
                continue
            self.accepted.append(subject)


def kill_and_restart(server: PleinServer, name: str, down_for: float) -> None:
    process = server.processes.pop(name)
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(down_for)
    server.spawn(name, *ROLES[name])
    if name == "smtp":  # on a busy machine a restart takes a while; the stream must get through between kills
        wait_for(lambda: _listening(server.smtp_port), timeout=30, what="plein smtp to listen again")


def post_titles(server: PleinServer) -> Counter[str]:
    return Counter(title for (title,) in server.query("SELECT title FROM posts"))


def test_every_message_answered_250_is_posted_exactly_once_across_sigkills(plein: PleinServer):
    stream = Stream(plein)
    stream.thread.start()
    for kill in range(KILLS):
        time.sleep(1.5)
        kill_and_restart(plein, "smtp" if kill % 2 == 0 else "worker", down_for=0.3)
    time.sleep(1)
    stream.stopped.set()
    stream.thread.join(timeout=30)

    assert len(stream.accepted) >= 20, "too few messages got through to prove anything"
    wait_for(
        lambda: set(stream.accepted) <= set(post_titles(plein))
        and not plein.query("SELECT id FROM inbound_messages WHERE status = 'received'"),
        timeout=60, what="every accepted message to be posted",
    )
    time.sleep(3)  # a sweep or a redelivered job that would post a second time has run by now
    titles = post_titles(plein)
    assert all(titles[subject] == 1 for subject in stream.accepted)
    assert set(titles) <= set(stream.accepted) | set(stream.unanswered)
    assert max(titles.values()) == 1
    statuses = dict(plein.query("SELECT status, COUNT(*) FROM inbound_messages GROUP BY status"))
    assert set(statuses) <= {"posted", "duplicate"}, statuses
