"""The production profile keeps every accepted message through a broker or database outage."""

from __future__ import annotations

import smtplib
import time

import httpx
import pytest

from tests.e2e.test_mail_to_hub import mail
from tests.support.databases import PostgresServer, RedisServer
from tests.support.servers import ProductionPlein, wait_for


@pytest.fixture
def plein(tmp_path):
    postgres, redis = PostgresServer(), RedisServer()
    server = ProductionPlein(
        tmp_path / "data", postgres.url, redis.url, sweep_interval="2", sweep_after="4",
    )
    server.cli_batch(
        ["db", "upgrade"],
        ["user", "add", "alice@example.com", "--name", "Alice"],
        ["group", "create", "engineering", "--name", "Engineering"],
        ["group", "add-member", "engineering", "alice@example.com"],
    )
    server.start()
    yield server, postgres, redis
    server.stop()
    redis.close()
    postgres.close()


def titles(server: ProductionPlein) -> list[str]:
    return [row[0] for row in server.query("SELECT title FROM posts ORDER BY id")]


def test_mail_accepted_while_redis_is_down_is_posted_once_when_it_returns(plein):
    server, _, redis = plein
    redis.stop()
    sent = []
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
        for number in range(5):
            message = mail("alice", f"engineering@{server.domain}", f"Tijdens de storing {number}", "Tekst")
            smtp.send_message(message)
            sent.append(message["Subject"])
    time.sleep(10)
    redis.start()

    wait_for(lambda: len(titles(server)) >= 5, timeout=90, what="every message to be posted after Redis returned")
    time.sleep(5)
    assert sorted(titles(server)) == sorted(sent)


def test_smtp_answers_4xx_while_postgresql_is_down_and_accepts_again_after(plein):
    server, postgres, _ = plein
    postgres.stop()
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
        smtp.ehlo()
        smtp.mail("alice@example.com")
        code, answer = smtp.rcpt(f"engineering@{server.domain}")
    assert code == 451, answer

    postgres.start()
    message = mail("alice", f"engineering@{server.domain}", "Na de herstart", "Weer bereikbaar")
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=60) as smtp:
        assert smtp.send_message(message) == {}
    wait_for(lambda: titles(server) == ["Na de herstart"], timeout=60, what="the post after the restart")


def test_search_answers_503_while_the_indexer_is_down_and_the_rest_keeps_working(plein):
    server, _, _ = plein
    token = server.cli("token", "create", "alice@example.com").stdout.strip()
    server.stop("indexer")

    answer = server.api(token, "/api/search", q="storing")
    assert answer.status_code == 503
    assert "Search is unavailable" in answer.json()["detail"]
    assert server.api(token, "/api/groups").status_code == 200
    assert httpx.get(server.base_url + "/readyz").status_code == 503

    server.spawn("indexer", "indexer")
    wait_for(lambda: server.api(token, "/api/search", q="storing").status_code == 200, timeout=60,
             what="search back with the indexer")
