"""Under `plein run` the web hub and SMTP share one event loop: a web request that waits on the
database must not make SMTP wait with it."""

from __future__ import annotations

import smtplib
import sqlite3
import threading
import time

import httpx
import pytest

from tests.e2e.conftest import Company
from tests.e2e.test_web_hub import csrf_of, signed_in
from tests.support.servers import PleinServer


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    server = PleinServer(tmp_path_factory.mktemp("event-loop") / "data")
    server.cli("db", "upgrade")
    server.cli("user", "add", "alice@example.com", "--name", "Alice Aalders")
    server.cli("group", "create", "engineering", "--name", "Engineering")
    server.cli("group", "add-member", "engineering", "alice@example.com")
    server.start()
    yield Company(server, {})
    server.stop()


def seconds_to_answer_ehlo(server: PleinServer) -> float:
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.ehlo("client.example.com")
    return time.monotonic() - started


def test_smtp_answers_ehlo_at_once_while_a_web_post_waits_for_the_database_write_lock(company: Company):
    alice = signed_in(company, "alice@example.com")
    csrf = csrf_of(alice.get("/g/engineering"))
    answers: list[httpx.Response] = []
    poster = threading.Thread(target=lambda: answers.append(alice.post(
        "/g/engineering/posts", data={"csrf": csrf, "title": "Onder het slot", "body": "Even wachten."}, timeout=30,
    )))

    holder = sqlite3.connect(company.server.data_dir / "plein.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long transaction elsewhere would hold it
        poster.start()
        time.sleep(1)  # the post is now waiting for the lock
        assert poster.is_alive()
        waited = seconds_to_answer_ehlo(company.server)
        time.sleep(1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    poster.join(30)

    assert waited < 1, f"EHLO took {waited:.1f} s while a web request waited on the database"
    assert answers[0].status_code == 303 and answers[0].headers["location"].startswith("/p/")
