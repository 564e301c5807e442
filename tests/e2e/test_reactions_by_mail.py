"""Likes by mail through the real SMTP server: a reply that says only `+1` (or a thumbs-up, `like`, `eens`,
`duim omhoog`) likes what it answers and makes no comment; a reply that says more is a comment."""

from __future__ import annotations

from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import inbound_status, mail, send, wait_for_post
from tests.support.servers import wait_for


def thread(company: Company, post_id: int, reader: str = "alice") -> dict:
    return company.server.api(company.tokens[reader], f"/api/posts/{post_id}").json()


def test_a_reply_saying_only_plus_one_from_a_phone_likes_the_post_and_makes_no_comment(company: Company):
    original = mail("alice", company.address("engineering"), "Kabelplan Amersfoort", "Akkoord met route B?")
    send(company, original)
    post = wait_for_post(company, "engineering", "Kabelplan Amersfoort")

    like = mail(
        "bob", company.address("engineering"), "Re: Kabelplan Amersfoort", "+1\n\nSent from my iPhone\n",
        In_Reply_To=original["Message-ID"], References=original["Message-ID"],
    )
    send(company, like)
    liked = wait_for(lambda: thread(company, post["id"])["reactions"]["like"]["count"] == 1, what="bob's like")
    assert liked
    seen = thread(company, post["id"])
    assert seen["reactions"]["like"]["people"] == [{"name": "Bob Bos", "email": "bob@example.com"}]
    assert seen["comments"] == []
    [(status, reason)] = inbound_status(company, like["Message-ID"])
    assert status == "command" and reason.startswith(f"a like of post {post['id']} from bob@example.com")


def test_an_outlook_thumbs_up_to_a_comment_likes_the_comment_and_more_words_make_a_comment(company: Company):
    original = mail("alice", company.address("engineering"), "Storing Zwolle", "Wie gaat er kijken?")
    send(company, original)
    post = wait_for_post(company, "engineering", "Storing Zwolle")
    answer = mail(
        "bob", company.address("engineering"), "Re: Storing Zwolle", "Ik ga morgen.",
        In_Reply_To=original["Message-ID"], References=original["Message-ID"],
    )
    send(company, answer)
    [comment] = wait_for(lambda: thread(company, post["id"])["comments"], what="bob's comment")

    thumbs = mail(
        "alice", company.address("engineering"), "RE: Storing Zwolle",
        "\N{THUMBS UP SIGN}\N{EMOJI MODIFIER FITZPATRICK TYPE-4}\n\n"
        "From: Bob Bos <bob@example.com>\nSent: Monday, December 7, 2026 9:12 AM\n"
        f"To: Engineering <{company.address('engineering')}>\nSubject: Re: Storing Zwolle\n\nIk ga morgen.\n",
        In_Reply_To=answer["Message-ID"], References=f"{original['Message-ID']} {answer['Message-ID']}",
    )
    send(company, thumbs)
    wait_for(lambda: thread(company, post["id"])["comments"][0]["reactions"]["like"]["count"] == 1, what="the like")

    more = mail(
        "erin", company.address("engineering"), "Re: Storing Zwolle", "+1 but what about the spare parts?",
        In_Reply_To=answer["Message-ID"], References=f"{original['Message-ID']} {answer['Message-ID']}",
    )
    send(company, more)
    comments = wait_for(lambda: (c := thread(company, post["id"])["comments"])[1:] and c, what="erin's comment")
    assert comments[1]["body_text"] == "+1 but what about the spare parts?"
    assert comments[0]["id"] == comment["id"] and comments[0]["reactions"]["like"]["count"] == 1
    assert thread(company, post["id"])["reactions"]["like"]["count"] == 0


def test_a_plus_one_from_a_non_member_to_a_private_post_likes_nothing_and_names_nothing(company: Company):
    original = mail("dave", company.address("board"), "Bonussen 2027", "Alleen voor het bestuur.")
    send(company, original)
    post = wait_for_post(company, "board", "Bonussen 2027", reader="dave")

    like = mail(
        "carol", company.address("board"), "Re: Bonussen 2027", "+1",
        In_Reply_To=original["Message-ID"], References=original["Message-ID"],
    )
    send(company, like)
    [(status, reason)] = wait_for(lambda: [s for s in inbound_status(company, like["Message-ID"]) if s[0] != "received"],
                                  what="carol's mail processed")
    assert status == "refused" and "Bonussen" not in reason and "like" not in reason
    assert thread(company, post["id"], reader="dave")["reactions"]["like"]["count"] == 0
    assert company.server.api(company.tokens["carol"], f"/api/posts/{post['id']}").status_code == 404
