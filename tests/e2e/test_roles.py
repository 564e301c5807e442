"""`plein run` under attack and after a crash, through a real `plein run` (issue 15, items 8, 16, 19):
hostile mail parses on a worker of its own, a child killed outright is started again while
`/readyz` names what is missing, and operators' internals stay off the hub's port."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import time

import httpx
import pytest

from tests.e2e.test_mail_to_hub import mail
from tests.support.processes import all_processes
from tests.support.servers import PleinServer, links_in, text_of, wait_for

PARSE_TIME_LIMIT = 5
HOSTILE = (
    b"From: Alice <alice@example.com>\r\nTo: engineering@plein.localhost\r\nSubject: Slow\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    + b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(40_000)) + b"--b--\r\n"
)
"""40,000 MIME parts: parsing them takes some 12 s on the project's machine (6 s for 20,000), well past
`PARSE_TIME_LIMIT` on a machine twice as fast."""


@pytest.fixture(scope="module")
def plein(tmp_path_factory) -> PleinServer:
    server = PleinServer(tmp_path_factory.mktemp("roles") / "data", parse_time_limit=str(PARSE_TIME_LIMIT))
    server.cli("db", "upgrade")
    server.cli("user", "add", "alice@example.com", "--name", "Alice Aalders", "--admin")
    server.cli("user", "add", "bob@example.com", "--name", "Bob Bos")
    server.cli("group", "create", "engineering", "--name", "Engineering")
    server.cli("group", "add-member", "engineering", "alice@example.com")
    server.start()
    wait_for(lambda: ready(server).status_code == 200, timeout=60, what="every role up")
    yield server
    server.stop()


def ready(server: PleinServer) -> httpx.Response:
    return httpx.get(server.base_url + "/readyz", timeout=10)


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in_mails(server: PleinServer, email: str) -> list:
    return server.mail_to(email, lambda message: "/sign-in/" in text_of(message))


def signed_in(server: PleinServer, email: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=10)
    before = len(sign_in_mails(server, email))
    client.post("/sign-in", data={"email": email, "csrf": csrf_of(client.get("/sign-in"))})
    message = wait_for(lambda: sign_in_mails(server, email)[before:], what=f"the sign-in mail to {email}")[0]
    [link] = [url for url in links_in(text_of(message)) if "/sign-in/" in url]
    client.post(link, data={"csrf": csrf_of(client.get(link))})
    return client


def worker_pid(server: PleinServer, queue: str) -> int:
    """The Celery worker `plein run` started for `queue` (not the parser child it forks)."""
    run = server.processes["run"].pid
    [pid] = [p.pid for p in all_processes().values() if p.parent == run and f"--queues={queue} " in p.command]
    return pid


def test_a_sign_in_link_arrives_within_seconds_while_hostile_mail_holds_the_inbound_worker(plein):
    with smtplib.SMTP("127.0.0.1", plein.smtp_port, timeout=30) as smtp:
        for _ in range(3):
            smtp.sendmail("alice@example.com", [f"engineering@{plein.domain}"], HOSTILE)
    wait_for(lambda: plein.query("SELECT count(*) FROM inbound_messages")[0][0] == 3, what="the hostile mail stored")
    time.sleep(2)  # the inbound worker is well into the first of 15 seconds of parsing

    client = httpx.Client(base_url=plein.base_url, timeout=10)
    asked = time.monotonic()
    client.post("/sign-in", data={"email": "bob@example.com", "csrf": csrf_of(client.get("/sign-in"))})
    wait_for(lambda: sign_in_mails(plein, "bob@example.com"), timeout=6, what="the sign-in link, behind hostile mail")
    assert time.monotonic() - asked < 6
    assert plein.query("SELECT count(*) FROM inbound_messages WHERE status = 'received'")[0][0] >= 2  # still parsing

    wait_for(
        lambda: plein.query("SELECT count(*) FROM inbound_messages WHERE status = 'failed'")[0][0] == 3,
        timeout=3 * PARSE_TIME_LIMIT + 30, what="the hostile mail quarantined",
    )


def test_a_killed_worker_is_started_again_and_readyz_names_it_while_it_is_missing(plein):
    killed = worker_pid(plein, "plein.inbound")
    os.kill(killed, signal.SIGKILL)
    with smtplib.SMTP("127.0.0.1", plein.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail("alice", f"engineering@{plein.domain}", "Terwijl de worker weg was", "Toch verwerkt."))

    missing = wait_for(lambda: (answer := ready(plein)).status_code == 503 and answer, timeout=10, what="/readyz 503")
    assert "inbound worker" in missing.json()["checks"]["roles"]["detail"]

    wait_for(lambda: ready(plein).status_code == 200, timeout=60, what="/readyz 200 with the worker back")
    assert worker_pid(plein, "plein.inbound") != killed
    wait_for(
        lambda: plein.query("SELECT title FROM posts WHERE title = 'Terwijl de worker weg was'"),
        timeout=30, what="the mail sent meanwhile posted",
    )
    log = (plein.data_dir.parent / f"{plein.data_dir.name}-run.log").read_text()
    assert f"the inbound worker (pid {killed}) stopped with exit status -9; starting it again in 1 s" in log


def test_metrics_are_served_on_their_own_port_and_not_on_the_hubs(plein):
    assert httpx.get(plein.base_url + "/metrics").status_code == 404
    metrics = httpx.get(plein.metrics_url, timeout=10)
    assert metrics.status_code == 200
    assert 'plein_queue_depth{queue="plein.inbound"}' in metrics.text


def test_readyz_says_why_in_words_without_urls_or_paths(plein):
    answer = ready(plein).text
    assert "://" not in answer and str(plein.data_dir) not in answer and "sqlite" not in answer.lower()
    assert set(ready(plein).json()["checks"]) == {"database", "broker", "index", "roles"}


HUGE = "99999999999999999999999"


@pytest.fixture(scope="module")
def alice(plein) -> httpx.Client:
    return signed_in(plein, "alice@example.com")


@pytest.mark.parametrize("path", [
    f"/p/{HUGE}", f"/p/{2**31}", f"/comments/{HUGE}/original", f"/attachments/{HUGE}/report.pdf",
    f"/admin/inbound/{HUGE}/raw", f"/g/engineering/moderation/{HUGE}/original",
])
def test_a_huge_id_in_a_page_path_is_not_found(alice, path):
    assert alice.get(path).status_code == 404


@pytest.mark.parametrize("path", [
    f"/p/{HUGE}/comments", f"/admin/inbound/{HUGE}/retry", f"/g/engineering/moderation/{HUGE}/approve",
])
def test_a_huge_id_in_a_form_path_is_not_found(alice, path):
    csrf = csrf_of(alice.get("/sign-in"))
    assert alice.post(path, data={"csrf": csrf, "body": "Hallo"}).status_code == 404


def test_a_huge_id_in_the_api_is_not_found_and_a_non_number_is_422(plein):
    token = plein.cli("token", "create", "alice@example.com").stdout.strip()
    assert plein.api(token, f"/api/posts/{HUGE}").status_code == 404
    assert plein.api(token, f"/api/posts/{HUGE}/related").status_code == 404
    assert plein.api(token, "/api/posts/1e30").status_code == 422
