"""Moderation end to end: mail to a moderated group over SMTP is held, the moderation mail (and a notice to
the sender) goes out through a real relay, the moderator's reply to it approves, and the post appears in the
API as its sender's."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.e2e.conftest import make_server
from tests.support.servers import PleinServer, text_of, wait_for
from tests.support.sink import SmtpSink


@pytest.fixture(scope="module", params=["embedded"])
def moderated(request, tmp_path_factory):
    """`plein run` with a moderated group whose moderator is Mona; outgoing mail goes to a real SMTP sink."""
    with SmtpSink() as sink:
        server = make_server(request, tmp_path_factory, smarthost=sink.smarthost)
        server.cli("db", "upgrade")
        server.cli("user", "add", "alice@example.com", "--name", "Alice Aalders")
        server.cli("user", "add", "mona@example.com", "--name", "Mona Mulder")
        server.cli("group", "create", "news", "--name", "News", "--policy", "moderated")
        server.cli("group", "add-member", "news", "alice@example.com")
        server.cli("group", "add-member", "news", "mona@example.com")
        server.cli("group", "moderator", "news", "mona@example.com")
        token = server.cli("token", "create", "alice@example.com").stdout.strip()
        server.start()
        yield server, sink, token
        server.stop()


def send(server: PleinServer, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


def mail(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(body)
    return message


def news_titles(server: PleinServer, token: str) -> list[str]:
    return [post["title"] for post in server.api(token, "/api/groups/news/posts").json()["posts"]]


def inbound_status(server: PleinServer, message: EmailMessage) -> str | None:
    rows = server.query("SELECT status FROM inbound_messages WHERE message_id = ?", message["Message-ID"].strip("<>"))
    return rows[0][0] if rows else None


def test_a_held_post_is_approved_by_replying_to_the_moderation_mail(moderated):
    server, sink, alices_token = moderated
    post = mail("Alice Aalders <alice@example.com>", f"news@{server.domain}", "Nieuwe kantine", "Vanaf maandag open.")
    send(server, post)

    held_mail = wait_for(
        lambda: next((r.message for r in sink.to("mona@example.com")
                      if r.message["Subject"] == "[News] Held: Nieuwe kantine"), None),
        what="the moderation mail at the relay",
    )
    assert inbound_status(server, post) == "held"
    assert news_titles(server, alices_token) == []
    assert "Vanaf maandag open." in text_of(held_mail)
    notice = wait_for(
        lambda: next((r.message for r in sink.to("alice@example.com")
                      if r.message["Subject"] == "[News] Waiting for a moderator: Nieuwe kantine"), None),
        what="the notice to Alice that her mail waits",
    )
    assert notice["In-Reply-To"] == post["Message-ID"] and notice["Auto-Submitted"] == "auto-replied"

    reply = mail("Mona Mulder <mona@example.com>", held_mail["Reply-To"].addresses[0].addr_spec,
                 "Re: " + held_mail["Subject"], "Prima.")
    reply["In-Reply-To"] = held_mail["Message-ID"]
    send(server, reply)

    wait_for(lambda: news_titles(server, alices_token) == ["Nieuwe kantine"], what="the approved post in the API")
    [summary] = server.api(alices_token, "/api/groups/news/posts").json()["posts"]
    posted = server.api(alices_token, f"/api/posts/{summary['id']}").json()
    assert posted["author"]["email"] == "alice@example.com"
    assert posted["body_text"].strip() == "Vanaf maandag open."
    assert wait_for(lambda: inbound_status(server, post) == "posted", what="the held message to read posted")
    assert inbound_status(server, reply) == "command"
