"""Receipts end to end: mail in over SMTP, the receipt out through a real relay, its undo link over HTTP."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import httpx
import pytest

from tests.e2e.conftest import make_server
from tests.support.servers import PleinServer, links_in, text_of, wait_for
from tests.support.sink import SmtpSink


@pytest.fixture(scope="module", params=["embedded"])
def relayed(request, tmp_path_factory):
    """A Plein whose outgoing mail goes to a real SMTP sink, as it would to the company's relay."""
    with SmtpSink() as sink:
        server = make_server(request, tmp_path_factory, smarthost=sink.smarthost)
        server.cli("db", "upgrade")
        server.cli("user", "add", "alice@example.com", "--name", "Alice Aalders")
        server.cli("user", "add", "bob@example.com", "--name", "Bob Bos")
        server.cli("group", "create", "engineering", "--name", "Engineering")
        server.cli("group", "add-member", "engineering", "alice@example.com", "--delivery", "daily")
        server.cli("group", "add-member", "engineering", "bob@example.com", "--delivery", "each")
        token = server.cli("token", "create", "bob@example.com").stdout.strip()
        server.start()
        yield server, sink, token
        server.stop()


def send(server: PleinServer, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "Alice Aalders <alice@example.com>"
    message["To"] = f"engineering@{server.domain}"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


def test_the_sender_gets_a_receipt_whose_undo_link_takes_the_post_away(relayed):
    server, sink, bobs_token = relayed
    send(server, "Lift in gebouw B", "De lift in gebouw B staat stil.\nDe monteur komt om drie uur.")

    receipt = wait_for(
        lambda: next((r.message for r in sink.to("alice@example.com")
                      if r.message["Subject"] == "Posted to Engineering: Lift in gebouw B"), None),
        what="the receipt at the relay",
    )
    assert receipt["Auto-Submitted"] == "auto-generated"
    text = text_of(receipt).replace("\r\n", "\n")
    assert "Posted to Engineering as:\n\nLift in gebouw B\n\nDe lift in gebouw B staat stil.\nDe monteur komt om drie uur." in text
    [undo_url] = [link for link in links_in(text) if link.endswith("/undo")]
    post_id = int(re.search(r"/p/(\d+)", text).group(1))
    assert server.api(bobs_token, f"/api/posts/{post_id}").status_code == 200

    with httpx.Client(timeout=10) as browser:
        asked = browser.get(undo_url)
        assert asked.status_code == 200 and "Undo your post?" in asked.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', asked.text).group(1)
        undone = browser.post(undo_url, data={"csrf": csrf})
    assert undone.status_code == 200 and "Undone" in undone.text

    assert server.api(bobs_token, f"/api/posts/{post_id}").status_code == 404
    listed = server.api(bobs_token, "/api/groups/engineering/posts").json()["posts"]
    assert post_id not in [p["id"] for p in listed]
