"""Moderation end to end: mail to a moderated group over SMTP is held, the moderation mail (and a notice to
the sender) goes out through a real relay, the moderator's reply to it approves, and the post appears in the
API as its sender's. A post written on the web waits the same way, kept as written and never as mail."""

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


def mail_to(sink: SmtpSink, address: str, subject: str) -> EmailMessage:
    return wait_for(
        lambda: next((r.message for r in sink.to(address) if r.message["Subject"] == subject), None),
        what=f"the mail {subject!r} to {address} at the relay",
    )


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def signed_in(server: PleinServer, sink: SmtpSink, email: str) -> httpx.Client:
    """A browser session for `email`, through the sign-in link Plein mails."""
    client = httpx.Client(base_url=server.base_url, timeout=10, follow_redirects=True)
    client.post("/sign-in", data={"email": email, "csrf": csrf_of(client.get("/sign-in"))})
    message = wait_for(lambda: next((r.message for r in sink.to(email) if "/sign-in/" in text_of(r.message)), None),
                       what=f"the sign-in mail to {email}")
    [link] = [url for url in links_in(text_of(message)) if "/sign-in/" in url]
    client.post(link, data={"csrf": csrf_of(client.get(link))})
    return client


def test_a_web_post_waits_as_written_and_a_moderators_reply_posts_it_with_its_file(moderated):
    server, sink, alices_token = moderated
    alice = signed_in(server, sink, "alice@example.com")
    mail_records = server.query("SELECT count(*) FROM inbound_messages")
    written = "Vanaf maandag open.\n\n> Wie kookt?\nIk.\n\n-- \nAlice"
    sent = alice.post(
        "/g/news/posts", data={"csrf": csrf_of(alice.get("/g/news")), "title": "Menu", "body": written},
        files=[("files", ("menu.txt", b"soep\nbrood\n", "text/plain"))],
    )
    assert "Your message waits for a moderator of News" in sent.text

    held_mail = mail_to(sink, "mona@example.com", "[News] Held: Menu")
    mail_to(sink, "alice@example.com", "[News] Waiting for a moderator: Menu")
    assert server.query("SELECT count(*) FROM inbound_messages") == mail_records, "nothing was kept as mail"
    assert "Menu" not in news_titles(server, alices_token)

    send(server, mail("Mona Mulder <mona@example.com>", held_mail["Reply-To"].addresses[0].addr_spec,
                      "Re: " + held_mail["Subject"], "Akkoord."))

    wait_for(lambda: "Menu" in news_titles(server, alices_token), what="the approved web post in the API")
    [summary] = [p for p in server.api(alices_token, "/api/groups/news/posts").json()["posts"] if p["title"] == "Menu"]
    posted = server.api(alices_token, f"/api/posts/{summary['id']}").json()
    assert (posted["author"]["email"], posted["body_text"]) == ("alice@example.com", written)
    assert [(a["filename"], a["size"]) for a in posted["attachments"]] == [("menu.txt", 11)]
    mail_to(sink, "alice@example.com", "Posted to News: Menu")
