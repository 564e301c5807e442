"""Mail in, hub out: real SMTP to `plein run`, answers read from its API, pages, index and outbox."""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from fpdf import FPDF

from tests.e2e.conftest import Company
from tests.support.servers import text_of, wait_for


def send(company: Company, message: EmailMessage, recipients: list[str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", company.server.smtp_port, timeout=10) as smtp:
        smtp.send_message(message, to_addrs=recipients)


def mail(sender: str, to: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{sender.title()} <{sender}@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def our_message_id(company: Company, kind: str, number: int) -> str:
    """The Message-ID of Plein's mail about post or comment `number`, its part read from Plein's database."""
    [(part,)] = company.server.query("SELECT mail_id_part FROM installation")
    return f"<{kind}-{number}.{part}@{company.server.domain}>"


def post_titled(company: Company, token: str, group: str, title: str) -> dict | None:
    posts = company.server.api(company.tokens[token], f"/api/groups/{group}/posts").json()["posts"]
    return next((p for p in posts if p["title"] == title), None)


def wait_for_post(company: Company, group: str, title: str, reader: str = "alice") -> dict:
    summary = wait_for(lambda: post_titled(company, reader, group, title), what=f"post {title!r}")
    return company.server.api(company.tokens[reader], f"/api/posts/{summary['id']}").json()


def inbound_status(company: Company, message_id: str) -> list[tuple[str, str]]:
    return company.server.query(
        "SELECT status, reason FROM inbound_messages WHERE message_id = ? ORDER BY id", message_id.strip("<>")
    )


def pdf_with(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def test_mail_to_a_group_becomes_a_post_with_its_pdf_findable_by_a_word_inside(company: Company):
    message = mail("alice", company.address("engineering"), "Meetrapport glasvezel Utrecht", "Zie bijlage.")
    message.add_attachment(
        pdf_with("Het dempingsbudget van de zeppelinkabel is ruim voldoende."),
        maintype="application", subtype="pdf", filename="meetrapport.pdf",
    )
    send(company, message)

    post = wait_for_post(company, "engineering", "Meetrapport glasvezel Utrecht")
    assert post["body_text"] == "Zie bijlage."
    assert post["author"] == {"name": "Alice Aalders", "email": "alice@example.com", "former_colleague": False, "anonymous": False}
    assert post["group"] == "engineering"
    [attachment] = post["attachments"]
    assert attachment["filename"] == "meetrapport.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["size"] > 0

    found = wait_for(
        lambda: company.server.api(company.tokens["bob"], "/api/search", q="zeppelinkabel", kind="document").json()["results"],
        what="the PDF's text in search",
    )
    assert [(r["kind"], r["post_id"], r["title"]) for r in found] == [("document", post["id"], "meetrapport.pdf")]
    assert "zeppelinkabel" in found[0]["snippet"]
    assert found[0]["url"].startswith(company.server.base_url)


def test_reply_by_mail_becomes_a_threaded_comment_with_the_quote_cut(company: Company):
    original = mail("alice", company.address("engineering"), "Welke splitter voor Zeist?", "1:8 of 1:16?")
    send(company, original)
    post = wait_for_post(company, "engineering", "Welke splitter voor Zeist?")

    reply = mail(
        "bob", company.address("engineering"), "Re: Welke splitter voor Zeist?",
        "Neem 1:8, dan blijft er marge over.\n\n"
        "Op 24 nov. 2026 om 10:12 schreef Alice Aalders <alice@example.com>:\n> 1:8 of 1:16?\n",
        In_Reply_To=original["Message-ID"], References=original["Message-ID"],
    )
    send(company, reply)
    comments = wait_for(
        lambda: company.server.api(company.tokens["alice"], f"/api/posts/{post['id']}").json()["comments"],
        what="the reply as a comment",
    )
    [comment] = comments
    assert comment["body_text"] == "Neem 1:8, dan blijft er marge over."
    assert comment["author"]["email"] == "bob@example.com"
    assert comment["parent_id"] is None

    answer = mail(
        "alice", company.address("engineering"), "Re: Welke splitter voor Zeist?",
        "Top, dank je.\n\nOn Tue, Nov 24, 2026 at 10:15 AM Bob Bos <bob@example.com> wrote:\n> Neem 1:8\n",
        In_Reply_To=reply["Message-ID"], References=f"{original['Message-ID']} {reply['Message-ID']}",
    )
    send(company, answer)
    comments = wait_for(
        lambda: (c := company.server.api(company.tokens["alice"], f"/api/posts/{post['id']}").json()["comments"])[1:] and c,
        what="the answer to the comment",
    )
    assert comments[1]["body_text"] == "Top, dank je."
    assert comments[1]["parent_id"] == comment["id"]


def test_html_only_mail_is_shown_sanitized(company: Company):
    message = mail("alice", company.address("engineering"), "Opgemaakte mail", "placeholder")
    message.set_content(
        "<p>Hallo <b>team</b><script>alert('x')</script></p>"
        "<img src=\"https://tracker.example.com/pixel.gif\" onerror=\"alert(1)\">"
        "<a href=\"javascript:alert(2)\" onclick=\"steal()\">klik</a>",
        subtype="html",
    )
    send(company, message)

    post = wait_for_post(company, "engineering", "Opgemaakte mail")
    html = post["body_html"]
    assert "<b>team</b>" in html
    for forbidden in ("<script", "alert", "onerror", "onclick", "javascript:", "tracker.example.com"):
        assert forbidden not in html
    assert "Hallo team" in post["body_text"].replace("*", "")


def test_private_group_is_invisible_to_a_non_member_in_api_search_and_mail(company: Company):
    send(company, mail("dave", company.address("board"), "Reorganisatie kwartaal vier", "Het woord is stroomlijnplan."))
    post = wait_for_post(company, "board", "Reorganisatie kwartaal vier", reader="dave")
    wait_for(
        lambda: company.server.api(company.tokens["dave"], "/api/search", q="stroomlijnplan").json()["total"],
        what="the private post in the member's search",
    )

    carol = company.tokens["carol"]
    assert "board" not in [g["slug"] for g in company.server.api(carol, "/api/groups").json()]
    assert company.server.api(carol, "/api/groups/board/posts").status_code == 404
    assert company.server.api(carol, f"/api/posts/{post['id']}").status_code == 404
    assert company.server.api(carol, "/api/search", q="stroomlijnplan").json() == {
        "total": 0, "page": 1, "pages": 1, "results": [],
    }

    intruder = mail("carol", company.address("board"), "Mag ik meelezen?", "Hoi")
    send(company, intruder)
    [(status, reason)] = wait_for(
        lambda: [row for row in inbound_status(company, intruder["Message-ID"]) if row[0] != "received"],
        what="the refusal",
    )
    assert status == "refused"
    assert "carol@example.com is not a member of board" in reason


def test_unknown_sender_is_refused_with_the_reason_recorded(company: Company):
    stranger = mail("mallory", company.address("engineering"), "Goedkope modems", "Koop nu!")
    send(company, stranger)
    [(status, reason)] = wait_for(
        lambda: [row for row in inbound_status(company, stranger["Message-ID"]) if row[0] != "received"],
        what="the refusal",
    )
    assert (status, reason) == ("refused", "sender mallory@example.com is not a user of this hub")


def test_the_same_message_id_delivered_twice_makes_one_post(company: Company):
    message = mail("alice", company.address("engineering"), "Dubbel bezorgd", "Eén keer graag.")
    send(company, message)
    send(company, message)
    wait_for(
        # Which copy posts is the workers' race to win (production runs several); one does, once.
        lambda: sorted(row[0] for row in inbound_status(company, message["Message-ID"])) == ["duplicate", "posted"],
        what="the second delivery to be recorded as a duplicate",
    )
    posts = company.server.api(company.tokens["alice"], "/api/groups/engineering/posts").json()["posts"]
    assert [p["title"] for p in posts].count("Dubbel bezorgd") == 1


def test_rcpt_for_an_unknown_address_gets_550(company: Company):
    with smtplib.SMTP("127.0.0.1", company.server.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("alice@example.com")
        code, answer = smtp.rcpt(company.address("no-such-group"))
    assert code == 550
    assert answer.startswith(b"5.1.1")


def test_a_message_over_the_size_limit_gets_552_and_size_is_advertised(company: Company):
    message = mail("alice", company.address("engineering"), "Te groot", "x" * (3 * 1024 * 1024))
    with smtplib.SMTP("127.0.0.1", company.server.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("size")
        assert int(smtp.esmtp_features["size"]) == 2 * 1024 * 1024
        with pytest.raises(smtplib.SMTPException) as refused:
            smtp.send_message(message)
    assert "552" in str(refused.value)


def test_each_member_gets_the_post_and_comments_by_mail_with_list_and_thread_headers(company: Company):
    send(company, mail("alice", company.address("engineering"), "Storing Amersfoort", "Wie kan er kijken?"))
    post = wait_for_post(company, "engineering", "Storing Amersfoort")
    bob = "bob@example.com"
    [post_mail] = wait_for(
        lambda: company.server.mail_to(bob, lambda m: "[Engineering] Storing Amersfoort" in m["Subject"]), what="the post mail"
    )
    domain = company.server.domain
    assert post_mail["Message-ID"] == our_message_id(company, "post", post["id"])
    assert post_mail["Subject"] == "[Engineering] Storing Amersfoort"
    assert post_mail["From"].addresses[0].display_name == "Alice Aalders via Engineering"
    assert post_mail["From"].addresses[0].addr_spec == f"engineering@{domain}"
    assert post_mail["List-Id"] == f"Engineering <engineering.{domain}>"
    assert post_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url, unsubscribe_mailto = re.findall(r"<([^>]+)>", post_mail["List-Unsubscribe"])
    assert unsubscribe_url.startswith(company.server.base_url + "/unsubscribe/")
    assert unsubscribe_mailto.startswith("mailto:unsubscribe+")
    assert post_mail["Reply-To"].addresses[0].addr_spec.startswith("reply+")
    assert "Wie kan er kijken?" in text_of(post_mail)
    assert company.server.mail_to("alice@example.com", lambda m: "[Engineering] Storing Amersfoort" in m["Subject"]) == []

    # Bob answers from his mail client, which keeps only the Reply-To address.
    answer = EmailMessage()
    answer["From"] = f"Bob Bos <{bob}>"
    answer["To"] = post_mail["Reply-To"]
    answer["Subject"] = "Antw: Storing Amersfoort"
    answer.set_content("Ik ga er morgen heen.\n\nVerzonden vanaf mijn iPhone")
    send(company, answer)

    [comment_mail] = wait_for(
        lambda: company.server.mail_to("alice@example.com", lambda m: "[Engineering] Storing Amersfoort" in m["Subject"]),
        what="the comment mail to Alice",
    )
    comment = company.server.api(company.tokens["alice"], f"/api/posts/{post['id']}").json()["comments"][0]
    assert comment["body_text"] == "Ik ga er morgen heen."
    assert comment_mail["Subject"] == "Re: [Engineering] Storing Amersfoort"
    assert comment_mail["Message-ID"] == our_message_id(company, "comment", comment["id"])
    assert comment_mail["In-Reply-To"] == our_message_id(company, "post", post["id"])
    assert comment_mail["References"] == our_message_id(company, "post", post["id"])

    # Alice answers that comment through its Reply-To address: a comment under Bob's comment.
    reply = EmailMessage()
    reply["From"] = "Alice Aalders <alice@example.com>"
    reply["To"] = comment_mail["Reply-To"]
    reply["Subject"] = comment_mail["Subject"]
    reply.set_content("Dank je Bob!")
    send(company, reply)
    comments = wait_for(
        lambda: (c := company.server.api(company.tokens["alice"], f"/api/posts/{post['id']}").json()["comments"])[1:] and c,
        what="the reply through the Reply-To address",
    )
    assert comments[1]["body_text"] == "Dank je Bob!"
    assert comments[1]["parent_id"] == comment["id"]


def test_digest_run_sends_daily_members_what_is_new_once_and_never_empty(company: Company):
    send(company, mail("alice", company.address("engineering"), "Nieuwe meetapparatuur", "Er zijn twee OTDR's bij."))
    post = wait_for_post(company, "engineering", "Nieuwe meetapparatuur")
    wait_for(lambda: company.server.query("SELECT id FROM posts WHERE id = ?", post["id"]), what="the post row")

    first = company.server.cli("digest", "run", "--frequency", "daily")
    assert first.stdout.strip() == "Sent 1 daily digest"
    [digest] = company.server.mail_to("erin@example.com", lambda m: m["Subject"].startswith("Plein:"))
    assert digest["Auto-Submitted"] == "auto-generated"
    assert re.match(r"Plein: \d+ new posts? (and \d+ new comments? )?in Engineering$", digest["Subject"])
    text = text_of(digest)
    assert "Nieuwe meetapparatuur" in text
    assert f"{company.server.base_url}/p/{post['id']}" in text
    assert digest.get_body(preferencelist=("html",)) is not None

    again = company.server.cli("digest", "run", "--frequency", "daily")
    assert again.stdout.strip() == "Sent 0 daily digests"
    assert len(company.server.mail_to("erin@example.com", lambda m: m["Subject"].startswith("Plein:"))) == 1


def test_cli_refuses_bad_input_with_a_message(company: Company):
    result = company.server.cli("group", "add-member", "engineering", "nobody@example.com", check=False)
    assert result.returncode == 1
    assert "no user with address nobody@example.com" in result.stderr
    result = company.server.cli("group", "create", "Bad Slug!", "--name", "X", check=False)
    assert result.returncode == 1
    assert "cannot be a group address" in result.stderr


def test_api_without_a_valid_token_gets_401_with_a_json_reason(company: Company):
    for token in (None, "plein_not-a-token"):
        response = company.server.api(token, "/api/groups")
        assert response.status_code == 401
        assert "API token" in response.json()["detail"]
    response = company.server.api(company.tokens["alice"], "/api/search", kind="post")
    assert response.status_code == 422
    assert "q" in response.json()["detail"]
    response = company.server.api(company.tokens["alice"], "/api/search", q="x", kind="bogus")
    assert response.status_code == 400
    assert "kind must be one of" in response.json()["detail"]


