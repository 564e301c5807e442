"""A mention by mail through the real SMTP server: the mentioned person is notified on the web and by mail at once,
in a mail that threads with the group's mail, and answering it by mail lands as a comment."""

from __future__ import annotations

from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import mail, our_message_id, send, wait_for_post
from tests.support.servers import text_of, wait_for


def test_a_mention_in_a_mailed_comment_notifies_by_mail_and_answering_that_mail_comments(company: Company):
    original = mail("alice", company.address("engineering"), "Meetrapport Deventer", "Wie leest mee?")
    send(company, original)
    post = wait_for_post(company, "engineering", "Meetrapport Deventer")
    answer = mail(
        "bob", company.address("engineering"), "Re: Meetrapport Deventer", 'Goed idee. @"Erin Ekker", kijk jij?',
        In_Reply_To=original["Message-ID"], References=original["Message-ID"],
    )
    send(company, answer)

    [notice] = wait_for(
        lambda: company.server.mail_to("erin@example.com", lambda m: "mentioned you" in text_of(m)),
        what="erin's mention mail",
    )
    [comment] = wait_for_post(company, "engineering", "Meetrapport Deventer")["comments"]
    assert notice["Message-ID"] == our_message_id(company, "comment", comment["id"])
    assert notice["In-Reply-To"] == our_message_id(company, "post", post["id"])
    assert notice["List-Id"].startswith("Engineering <engineering.")
    assert notice["Reply-To"].addresses[0].addr_spec.startswith("reply+")
    listed = company.server.api(company.tokens["erin"], "/api/notifications").json()
    assert listed["unread"] >= 1
    assert listed["items"][0]["kind"] == "mention" and listed["items"][0]["who"]["name"] == "Bob Bos"

    reply_to = notice["Reply-To"].addresses[0].addr_spec
    send(company, mail("erin", reply_to, f"Re: {notice['Subject']}", "Ik kijk vanmiddag.",
                       In_Reply_To=notice["Message-ID"], References=notice["Message-ID"]))
    comments = wait_for(
        lambda: (c := wait_for_post(company, "engineering", "Meetrapport Deventer")["comments"])[1:] and c,
        what="erin's answer as a comment",
    )
    assert comments[1]["author"]["email"] == "erin@example.com"
    assert comments[1]["body_text"].startswith("Ik kijk vanmiddag.")
    assert len(company.server.mail_to("erin@example.com", lambda m: m["Message-ID"] == notice["Message-ID"])) == 1
