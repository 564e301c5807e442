"""Anonymous posts and comments (issue 20): nobody learns who wrote one, through any channel.

Anna writes anonymously, by mail to `voice+anonymous@` and on the web. Her colleagues, a follower of
hers, a moderator and an administrator then try every way Plein shows who wrote something: the pages
and the API, the feed, search by `from:` and its author facet, digests, notifications and their
timing, every mail Plein sends (names, addresses, Message-IDs, Received and client headers), the
reactions, her profile's recent activity and learned expertise, her department's counts, and the raw
message views. None of it names her. She still gets her receipt and the answers to her thread and
can edit and delete what she wrote; only `plein anonymous reveal` with the private key and a reason
names her, and that is in the audit log.
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.cli import main
from hub.models import (
    AnonymousAuthor,
    AuditEntry,
    Comment,
    Follow,
    HeldMessage,
    InboundMessage,
    InboundStatus,
    Notification,
    OutgoingMail,
    Post,
    Revision,
)
from hub.services import (
    accounts,
    anonymity,
    departments,
    digests,
    follows,
    groups,
    inbound,
    index_writer,
    message_ids,
    moderation,
    notifications,
    organisation,
    person_details,
    posts,
    reactions,
    searching,
)
from hub.services.errors import Forbidden, Invalid
from hub.web.app import create_app
from tests.support.hub import MAIL_DOMAIN
from tests.support.servers import links_in
from tests.support.web import csrf_of, signed_in
from tests.support.worker import run_jobs
from workers import tasks

ANNA = ("Anna Anoniem", "anna.anoniem@example.com")
TELLS = ("Anna", "Anoniem", "anna.anoniem", "mua.anna.example", "AnnaMail 9.1")
"""What would name Anna or her mail: her name, her address, her mail server (Received) and her mail client."""
ORIGINAL_ID = "<klacht-1@mua.anna.example>"


@pytest.fixture(autouse=True)
def keys(monkeypatch, tmp_path):
    """A key pair as `plein anonymous keygen` makes it: the hub holds the public key, the test the private one."""
    private, public = anonymity.new_key_pair()
    monkeypatch.setenv("PLEIN_ANONYMOUS_KEY", public)
    monkeypatch.setenv("PLEIN_INDEX_COMMIT_INTERVAL", "0")
    key_file = tmp_path / "anonymous.key"
    key_file.write_text(private + "\n")
    return key_file


@pytest.fixture
def hub(context, keys, monkeypatch):
    """A public group `voice` taking anonymous posts; Anna (department Juridisch), Bob who follows her, Carol, an
    admin, and a moderator of a moderated group `raad`."""
    monkeypatch.setattr(tasks, "context", context)  # the worker's own, built from the environment at import
    with context.session_scope() as session:
        juridisch = organisation.department_for_path(session, "Juridisch")
        anna = accounts.create_user(session, ANNA[1], ANNA[0])
        anna.department_id = juridisch.id
        bob = accounts.create_user(session, "bob@example.com", "Bob Bos")
        carol = accounts.create_user(session, "carol@example.com", "Carol Claes")
        admin = accounts.create_user(session, "root@example.com", "Ria Root")
        admin.is_admin = True
        voice = groups.create_group(session, "voice", "Voice")
        anonymity.set_mode(session, voice, "on")
        raad = groups.create_group(session, "raad", "Raad")
        anonymity.set_mode(session, raad, "moderated")
        for person in (anna, bob, carol):
            groups.add_member(session, voice, person, "each")
            groups.add_member(session, raad, person, "each")
        groups.set_member(session, raad, carol, role="moderator")
        follows.follow(session, bob, anna)
    return context


def anna_mail(to: str, subject: str, body: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["Received"] = "from laptop.mua.anna.example (10.0.0.7) by mua.anna.example; Mon, 7 Dec 2026 09:00:00 +0000"
    message["From"] = f"{ANNA[0]} <{ANNA[1]}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("message_id", ORIGINAL_ID)
    message["X-Mailer"] = "AnnaMail 9.1"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    signature = f"{ANNA[0]}\nJuridische zaken"  # as her mail program adds it, in both parts
    message.set_content(f"{body}\n\n-- \n{signature}\n")
    message.add_alternative(f"<p>{body}</p><div class=signature>-- <br>{signature}</div>", subtype="html")
    return message.as_bytes()


def api(context, email: str) -> TestClient:
    with context.session_scope() as session:
        token = accounts.create_api_token(session, accounts.get_user(session, email))
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})


def receive(context, raw: bytes, to: str):
    with context.session_scope() as session:
        stored = inbound.store_inbound(session, raw, ANNA[1], [to])
        processed = inbound.process_inbound(session, stored.id)
        return processed.id, processed.status, processed.reason


def mails(context, *, to_anna: bool) -> list[tuple[str, EmailMessage]]:
    with context.session_scope() as session:
        rows = session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()
        return [
            (row.key, message_from_bytes(row.message, policy=policy.default)) for row in rows
            if (row.recipient == ANNA[1]) == to_anna
        ]


def assert_tells_nothing(text: str, where: str) -> None:
    for tell in TELLS:
        assert tell.lower() not in text.lower(), f"{where} names {tell!r}"


@pytest.fixture
def complaint(hub):
    """Anna's anonymous post by mail, with its notifications run as the workers run them; its id."""
    outcome = receive(hub, anna_mail(f"voice+anonymous@{MAIL_DOMAIN}", "Werkdruk", "De werkdruk is te hoog. #werkdruk"),
                      f"voice+anonymous@{MAIL_DOMAIN}")
    assert outcome[1] == InboundStatus.POSTED
    run_jobs(hub, notifications.NOTIFY_POST)
    run_jobs(hub, "plein.inbox.notify_post")
    index_writer.flush(hub)
    with hub.session_scope() as session:
        return session.scalar(select(Post.id).where(Post.title == "Werkdruk"))


def test_a_post_by_mail_to_the_anonymous_address_is_stored_without_its_author(hub, complaint, keys):
    with hub.session_scope() as session:
        post = session.get(Post, complaint)
        anna = accounts.get_user(session, ANNA[1])
        assert (post.author_id, post.anonymous, post.inbound_id) == (None, True, None)
        assert post.message_id != ORIGINAL_ID and "mua.anna.example" not in post.message_id
        assert session.scalar(select(Follow).where(Follow.user_id == anna.id, Follow.post_id == post.id)) is None
        sealed = session.scalar(select(AnonymousAuthor).where(AnonymousAuthor.item_id == post.id)).sealed_author
        assert anonymity.unseal(keys.read_text(), "post", post.id, sealed) == anna.id
        with pytest.raises(Forbidden):
            anonymity.unseal(keys.read_text(), "comment", post.id, sealed)  # bound to its item
        [record] = session.scalars(select(InboundMessage)).all()
        assert f"post {post.id}" not in record.reason, "the inbound record names the post it became"


def test_pages_and_the_api_show_anonymous_to_everyone_else(hub, complaint):
    bob, bob_api = signed_in(hub, "bob@example.com"), api(hub, "bob@example.com")
    for client, path in ((bob, f"/p/{complaint}"), (bob, "/g/voice"), (bob, "/"), (bob, "/tags/werkdruk"),
                         (bob_api, f"/api/posts/{complaint}"), (bob_api, "/api/feed"),
                         (bob_api, "/api/groups/voice/posts"), (bob_api, "/api/search?q=werkdruk")):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert_tells_nothing(answer.text, path)
    assert "Anonymous" in bob.get(f"/p/{complaint}").text
    author = bob_api.get(f"/api/posts/{complaint}").json()["author"]
    assert author == {"name": "Anonymous", "email": "", "former_colleague": False, "anonymous": True}
    assert f"/p/{complaint}/edit" not in bob.get(f"/p/{complaint}").text
    assert bob.get(f"/p/{complaint}/edit").status_code == 403


def test_search_by_from_and_the_author_facet_do_not_find_her(hub, complaint):
    with hub.session_scope() as session:
        bob = accounts.get_user(session, "bob@example.com")
        found = searching.search(session, bob, "werkdruk")
        assert [r.hit.id for r in found.results if r.hit.kind == "post"] == [complaint], "the post is found by its words"
        assert all(r.hit.author_email == "" for r in found.results)
        assert not [f for f in found.facets.get("author", []) if ANNA[1] in f.value or "Anna" in f.label]
        by_author = searching.search(session, bob, f"from:{ANNA[1]} werkdruk")
        assert by_author.results == []
        assert searching.search(session, bob, "Anoniem werkdruk").results == []


def test_no_mail_to_others_names_her_or_carries_her_mail_headers(hub, complaint):
    sent = mails(hub, to_anna=False)
    assert {message["To"] for _, message in sent} >= {"Bob Bos <bob@example.com>", "Carol Claes <carol@example.com>"}
    for key, message in sent:
        assert_tells_nothing(message.as_string(), key)
        assert ORIGINAL_ID not in message.as_string()
        assert message["Received"] is None and message["X-Mailer"] is None
        assert message["From"].startswith("Anonymous via Voice")


def test_a_follower_of_hers_is_not_told_and_learns_nothing_from_notifications(hub, complaint):
    with hub.session_scope() as session:
        bob = accounts.get_user(session, "bob@example.com")
        assert session.scalars(select(Notification).where(Notification.user_id == bob.id)).all() == []
        anna = accounts.get_user(session, ANNA[1])
        named = posts.create_post(session, groups.get_group(session, "voice"), anna, "Lunch", "Wie gaat er mee?")
    run_jobs(hub, "plein.inbox.notify_post")
    with hub.session_scope() as session:
        told = session.scalars(select(Notification.post_id).where(Notification.user_id == bob.id)).all()
        assert told == [named.id], "a follower is told of her named post only"
        assert session.scalars(select(Notification).where(Notification.actor_id.is_(None))).all() == []


def test_a_digest_names_no_one(hub, complaint):
    with hub.session_scope() as session:
        carol = accounts.get_user(session, "carol@example.com")
        groups.set_member(session, groups.get_group(session, "voice"), carol, delivery="daily")
        digest = digests.preview_digest(session, carol, "daily")
        assert digest is not None and "Werkdruk" in digest.text
        assert "Anonymous" in digest.text
        assert_tells_nothing(digest.text + digest.html, "the digest")


def test_her_profile_learned_expertise_and_department_show_nothing_of_it(hub, complaint):
    bob = signed_in(hub, "bob@example.com")
    profile = bob.get(f"/people/{ANNA[1]}").text
    assert "Werkdruk" not in profile
    with hub.session_scope() as session:
        anna = accounts.get_user(session, ANNA[1])
        viewer = accounts.get_user(session, "bob@example.com")
        assert person_details.person_details(session, viewer, anna).activity == []
        assert "werkdruk" not in index_writer.learned_expertise(session, anna).lower()
        juridisch = organisation.department_for_path(session, "Juridisch")
        assert departments.active_groups(session, viewer, juridisch) == []
    with hub.session_scope() as session:
        bob_user = accounts.get_user(session, "bob@example.com")
        found = searching.search(session, bob_user, "Anna Anoniem", "person")
        assert all("werkdruk" not in (r.hit.body or "").lower() for r in found.results)


def test_reactions_tell_her_nothing_in_the_hub_and_show_no_author(hub, complaint):
    with hub.session_scope() as session:
        bob = accounts.get_user(session, "bob@example.com")
        post = session.get(Post, complaint)
        reactions.react(session, bob, post, "like")
        assert session.scalars(select(Notification).where(Notification.post_id == post.id)).all() == []
    assert_tells_nothing(json.dumps(api(hub, "bob@example.com").get(f"/api/posts/{complaint}").json()), "the reactions")


def test_the_raw_message_views_are_closed_to_everyone_even_an_admin(hub, complaint):
    admin = signed_in(hub, "root@example.com")
    with hub.session_scope() as session:
        record = session.scalar(select(InboundMessage.id))
    assert admin.get(f"/admin/inbound/{record}/raw").status_code == 404
    answer = receive(hub, anna_mail(f"voice+anonymous@{MAIL_DOMAIN}", "Re: Werkdruk", "Eens. Groet, Anna Anoniem",
                                    message_id="<klacht-2@mua.anna.example>", in_reply_to=ORIGINAL_ID),
                     f"voice+anonymous@{MAIL_DOMAIN}")
    assert answer[1] == InboundStatus.POSTED
    with hub.session_scope() as session:
        comment = session.scalar(select(Comment).where(Comment.anonymous.is_(True)))
        assert comment.original_text is None
    assert admin.get(f"/comments/{comment.id}/original").status_code == 404


def test_she_gets_her_receipt_and_the_answers_to_her_thread(hub, complaint):
    [receipt] = [message for key, message in mails(hub, to_anna=True) if key.startswith("receipt:")]
    assert receipt["Subject"] == "Posted to Voice: Werkdruk"
    [edit_link] = [u for u in links_in(receipt.get_body(("plain",)).get_content()) if "/receipts/post/" in u
                   and not u.endswith("/undo")]
    nobody = TestClient(create_app(hub))
    form = nobody.get(edit_link.removeprefix(hub.settings.base_url))
    assert form.status_code == 200 and "De werkdruk is te hoog." in form.text, "her receipt's link opens her post"
    with hub.session_scope() as session:
        bob = accounts.get_user(session, "bob@example.com")
        groups.set_member(session, groups.get_group(session, "voice"), accounts.get_user(session, ANNA[1]),
                          delivery="daily")  # else she gets the answer as every member on `each` does
        posts.create_comment(session, session.get(Post, complaint), bob, "Herkenbaar, laten we praten.")
    run_jobs(hub, notifications.NOTIFY_COMMENT)
    answers = [message for key, message in mails(hub, to_anna=True) if key.startswith("comment:")]
    assert len(answers) == 1 and "answered your post" in answers[0].get_body(("plain",)).get_content()
    assert answers[0]["Reply-To"] == f"voice+anonymous@{MAIL_DOMAIN}", "her answer by mail stays anonymous"
    for key, message in mails(hub, to_anna=False):
        assert "answered your post" not in message.get_body(("plain",)).get_content(), key


def test_she_edits_and_deletes_it_and_no_one_else_may(hub, complaint):
    anna = signed_in(hub, ANNA[1])
    page = anna.get(f"/p/{complaint}").text
    assert f"/p/{complaint}/edit" in page
    edited = anna.post(f"/p/{complaint}/edit", data={"csrf": csrf_of(page), "title": "Werkdruk", "body": "Te hoog."})
    assert edited.status_code == 200 and "Te hoog." in edited.text
    with hub.session_scope() as session:
        [revision] = session.scalars(select(Revision)).all()
        assert revision.editor_id is None, "the edit history names no one"
        with pytest.raises(Forbidden):
            posts.delete_post(session, session.get(Post, complaint), accounts.get_user(session, "bob@example.com"))
    deleted = anna.post(f"/p/{complaint}/delete", data={"csrf": csrf_of(page)})
    assert deleted.status_code == 200
    with hub.session_scope() as session:
        assert session.get(Post, complaint) is None
        assert session.scalars(select(AnonymousAuthor)).all() == [], "the sealed author goes with the post"


def test_on_the_web_and_the_api_the_box_and_the_flag_post_anonymously(hub):
    bob = signed_in(hub, "bob@example.com")
    group_page = bob.get("/g/voice").text
    assert "Post anonymously" in group_page
    made = bob.post("/g/voice/posts", data={"csrf": csrf_of(group_page), "title": "Koffie", "body": "Slecht.",
                                            "anonymous": "1"}, follow_redirects=False)
    assert made.status_code == 303
    post_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert "Comment anonymously" in bob.get(f"/p/{post_id}").text
    bob_api = api(hub, "bob@example.com")
    commented = bob_api.post(f"/api/posts/{post_id}/comments", json={"body": "Echt slecht.", "anonymous": True})
    assert commented.status_code == 201 and commented.json()["author"]["anonymous"] is True
    unclear = bob_api.post("/api/groups/voice/posts", json={"title": "x", "body": "y", "anonymous": "misschien"})
    assert unclear.status_code == 400
    with hub.session_scope() as session:
        sealed = session.scalars(select(AnonymousAuthor.item_kind).order_by(AnonymousAuthor.id)).all()
        assert sealed == ["post", "comment"]
    carol, carol_api = signed_in(hub, "carol@example.com"), api(hub, "carol@example.com")
    assert "Bob" not in carol.get(f"/p/{post_id}").text
    assert "Bob" not in carol_api.get(f"/api/posts/{post_id}").text
    assert f"/p/{post_id}/edit" in bob.get(f"/p/{post_id}").text
    assert bob_api.delete(f"/api/comments/{commented.json()['id']}").status_code == 204
    with hub.session_scope() as session:
        assert session.scalars(select(AnonymousAuthor.item_kind)).all() == ["post"], "a removed comment's author goes"


def test_a_group_that_is_off_refuses_anonymous_items_everywhere(hub):
    with hub.session_scope() as session:
        groups.create_group(session, "closed", "Closed")
        groups.add_member(session, groups.get_group(session, "closed"), accounts.get_user(session, ANNA[1]))
        assert inbound.recipient_refusal(session, f"closed+anonymous@{MAIL_DOMAIN}")
    anna = signed_in(hub, ANNA[1])
    assert "Post anonymously" not in anna.get("/g/closed").text
    refused = api(hub, ANNA[1]).post("/api/groups/closed/posts", json={"title": "x", "body": "y", "anonymous": True})
    assert refused.status_code == 403 and "anonymous" in refused.json()["detail"]


def test_a_reply_stays_anonymous_only_when_sent_to_the_anonymous_address(hub, complaint):
    with hub.session_scope() as session:
        thread_id = message_ids.message_id(session, "post", complaint)
    for n, to in enumerate((f"voice@{MAIL_DOMAIN}", f"voice+anonymous@{MAIL_DOMAIN}")):
        answer = anna_mail(to, "Re: Werkdruk", f"Antwoord {n}.", message_id=f"<re-{n}@mua.anna.example>",
                           in_reply_to=thread_id)
        assert receive(hub, answer, to)[1] == InboundStatus.POSTED
    with hub.session_scope() as session:
        answers = session.scalars(select(Comment).where(Comment.post_id == complaint).order_by(Comment.id)).all()
        anna = accounts.get_user(session, ANNA[1])
        assert [(c.body_text, c.author_id, c.anonymous) for c in answers] == [
            ("Antwoord 0.", anna.id, False), ("Antwoord 1.", None, True),
        ]


def test_a_private_groups_anonymous_post_is_invisible_to_a_non_member(hub):
    with hub.session_scope() as session:
        secret = groups.create_group(session, "geheim", "Geheim", private=True)
        anonymity.set_mode(session, secret, "on")
        groups.add_member(session, secret, accounts.get_user(session, ANNA[1]))
        post = posts.create_post(session, secret, accounts.get_user(session, ANNA[1]), "Fusie", "Vertrouwelijk",
                                 anonymous=True)
    index_writer.flush(hub)
    carol = signed_in(hub, "carol@example.com")
    missing = carol.get("/p/999999")
    hidden = carol.get(f"/p/{post.id}")
    assert (hidden.status_code, hidden.text) == (missing.status_code, missing.text.replace("999999", str(post.id)))
    assert api(hub, "carol@example.com").get(f"/api/posts/{post.id}").status_code == 404
    with hub.session_scope() as session:
        assert searching.search(session, accounts.get_user(session, "carol@example.com"), "Fusie").results == []


def test_moderators_approve_anonymous_items_without_seeing_who_wrote_them(hub):
    outcome = receive(hub, anna_mail(f"raad+anonymous@{MAIL_DOMAIN}", "Salaris", "Te laag.",
                                     message_id="<raad-1@mua.anna.example>"), f"raad+anonymous@{MAIL_DOMAIN}")
    assert outcome[1] == InboundStatus.HELD
    for key, message in mails(hub, to_anna=False):
        assert_tells_nothing(message.as_string(), key)
        if key.startswith("moderation:"):
            assert "it is posted anonymously" in message.get_body(("plain",)).get_content()
    carol = signed_in(hub, "carol@example.com")
    queue = carol.get("/g/raad/moderation").text
    assert "Salaris" in queue and "Anonymous" in queue
    assert_tells_nothing(queue, "the moderation queue")
    with hub.session_scope() as session:
        held = session.scalar(select(HeldMessage))
        assert carol.get(f"/g/raad/moderation/{held.id}/original").status_code == 404
        moderation.approve(session, held, accounts.get_user(session, "carol@example.com"))
        post = session.scalar(select(Post).where(Post.title == "Salaris"))
        assert (post.author_id, post.anonymous) == (None, True)


def test_revealing_takes_the_private_key_and_a_reason_and_is_in_the_audit_log(hub, complaint, keys, tmp_path):
    runner = CliRunner()
    without = runner.invoke(main, ["anonymous", "reveal", "post", str(complaint), "--reason", " ",
                                   "--key-file", str(keys)])
    assert without.exit_code == 1 and "reason" in without.output
    wrong_key = tmp_path / "other.key"
    wrong_key.write_text(anonymity.new_key_pair()[0])
    wrong = runner.invoke(main, ["anonymous", "reveal", "post", str(complaint), "--reason", "Klacht over intimidatie",
                                 "--key-file", str(wrong_key)])
    assert wrong.exit_code == 1 and ANNA[0] not in wrong.output
    revealed = runner.invoke(main, ["anonymous", "reveal", "post", str(complaint), "--reason",
                                    "Klacht over intimidatie", "--key-file", str(keys), "--by", "root@example.com"])
    assert revealed.exit_code == 0, revealed.output
    assert f"{ANNA[0]} <{ANNA[1]}>" in revealed.output
    listed = runner.invoke(main, ["audit", "list"])
    assert "root@example.com" in listed.output and "Klacht over intimidatie" in listed.output
    assert ANNA[1] not in listed.output, "the log says what was revealed, not whom"
    admin = signed_in(hub, "root@example.com")
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and "Klacht over intimidatie" in page.text
    assert signed_in(hub, "bob@example.com").get("/admin/audit").status_code == 404
    with hub.session_scope() as session:
        [entry] = session.scalars(select(AuditEntry)).all()
        assert (entry.actor_id, entry.subject) == (accounts.get_user(session, "root@example.com").id, f"post {complaint}")


def test_no_one_but_the_author_can_tell_it_is_theirs(hub, complaint):
    with hub.session_scope() as session:
        post = session.get(Post, complaint)
        people = {email: accounts.get_user(session, email) for email in (ANNA[1], "bob@example.com", "carol@example.com")}
        assert [email for email, person in people.items() if anonymity.is_author(post, person)] == [ANNA[1]]
        with pytest.raises(Invalid):
            anonymity.reveal(session, "post", complaint, "", "not a key", "someone")


def test_a_colleague_mentioned_anonymously_is_told_by_anonymous(hub):
    with hub.session_scope() as session:
        anna = accounts.get_user(session, ANNA[1])
        post = posts.create_post(session, groups.get_group(session, "voice"), anna, "Vraag", "@bob weet jij dit?",
                                 anonymous=True)
    run_jobs(hub, "plein.inbox.notify_post")
    [entry] = api(hub, "bob@example.com").get("/api/notifications").json()["items"]
    assert (entry["kind"], entry["post_id"], entry["who"]) == ("mention", post.id, {"name": "Anonymous", "email": ""})
    assert entry["what"].startswith("Anonymous")
    page = signed_in(hub, "bob@example.com").get("/notifications").text
    assert "Anonymous" in page
    assert_tells_nothing(page, "the notifications page")
