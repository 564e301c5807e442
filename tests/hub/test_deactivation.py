"""A former colleague (`accounts.deactivate`): no sign-in, no mail out, refused as a sender, and what they
wrote stays under their name, marked as a former colleague's on pages and in the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.models import InboundStatus, OutgoingMail, OutgoingStatus, Post
from hub.services import (
    accounts,
    digests,
    groups,
    inbound,
    inbox,
    mentions,
    moderation,
    notifications,
    outbox,
    posts,
    receipts,
    signin,
)
from hub.services.errors import Forbidden, Invalid
from tests.hub.test_moderation import mail
from tests.support.web import browser, csrf_of


@pytest.fixture
def team(session):
    """Anna, Bram and Dirk in a public Team, each getting every post by mail; Dirk is about to leave."""
    people = {
        name: accounts.create_user(session, f"{name}@example.com", full)
        for name, full in (("anna", "Anna de Vries"), ("bram", "Bram Bos"), ("dirk", "Dirk Dam"))
    }
    group = groups.create_group(session, "team", "Team")
    for person in people.values():
        groups.add_member(session, group, person, "each")
    session.flush()
    return {**people, "team": group}


@pytest.fixture
def team_committed(team, session):
    """The team, committed: for what opens a transaction of its own (a command, a request)."""
    session.commit()
    return team


def mail_to(session, address: str) -> list[OutgoingMail]:
    return session.query(OutgoingMail).filter_by(recipient=address).order_by(OutgoingMail.id).all()


def assert_kept_back(session, address: str, key_start: str) -> None:
    """Mail to `address` was made, and none of it will be sent: each row says why."""
    rows = mail_to(session, address)
    assert any(row.key.startswith(key_start) for row in rows), [row.key for row in rows]
    assert {(row.status, row.last_error) for row in rows} == {(OutgoingStatus.FAILED, outbox.FORMER_COLLEAGUE)}


# Deactivating and reactivating


def test_deactivating_ends_sessions_and_tokens_and_a_second_time_keeps_the_first_date(session, team):
    dirk = team["dirk"]
    token = accounts.create_api_token(session, dirk)
    browser_id = signin.start_session(session, dirk, "test")

    accounts.deactivate(session, dirk)
    left = dirk.deactivated_at
    accounts.deactivate(session, dirk)

    assert not accounts.is_active(dirk) and dirk.deactivated_at == left
    assert accounts.user_for_token(session, token) is None
    assert signin.session_user(session, browser_id) is None
    with pytest.raises(Invalid, match="dirk@example.com is a former colleague"):
        accounts.create_api_token(session, dirk)
    accounts.reactivate(session, dirk)
    assert accounts.is_active(dirk)
    assert accounts.user_for_token(session, token) is None, "an old token does not come back"
    assert accounts.user_for_token(session, accounts.create_api_token(session, dirk)) == dirk


def test_plein_user_deactivate_and_reactivate_say_what_they_did_and_user_list_marks_them(team_committed):
    runner = CliRunner()
    left = runner.invoke(main, ["user", "deactivate", "DIRK@example.com"])
    assert left.exit_code == 0, left.output
    assert re.fullmatch(r"dirk@example.com is deactivated \(a former colleague since \d{4}-\d\d-\d\d\)\n", left.output)
    assert "dirk@example.com\tDirk Dam\tdeactivated" in runner.invoke(main, ["user", "list"]).output
    back = runner.invoke(main, ["user", "reactivate", "dirk@example.com"])
    assert back.output == "dirk@example.com is active again\n"
    assert "deactivated" not in runner.invoke(main, ["user", "list"]).output
    unknown = runner.invoke(main, ["user", "deactivate", "nobody@example.com"])
    assert unknown.exit_code == 1 and "no user with address nobody@example.com" in unknown.output


# Signing in


def test_asking_for_a_link_for_a_former_colleague_answers_as_for_an_unknown_address_and_mails_nothing(
    context, team_committed
):
    with context.session_scope() as session:
        accounts.deactivate(session, accounts.get_user(session, "dirk@example.com"))
    client = browser(context, follow_redirects=False)
    answers = []
    for address in ("dirk@example.com", "nobody@example.com"):
        answer = client.post("/sign-in", data={"email": address, "csrf": csrf_of(client.get("/sign-in").text)})
        answers.append((answer.status_code, answer.text.replace(address, "ADDRESS")))
    assert answers[0] == answers[1]
    with context.session_scope() as session:
        assert session.query(OutgoingMail).count() == 0


def test_an_old_link_session_or_api_token_of_a_former_colleague_no_longer_works(context, team_committed):
    with context.session_scope() as session:
        dirk = accounts.get_user(session, "dirk@example.com")
        link = "/sign-in/" + signin.sign_in_token(dirk)
        unused_link = "/sign-in/" + signin.sign_in_token(dirk)
        token = accounts.create_api_token(session, dirk)
    signed_in = browser(context, follow_redirects=False)
    signed_in.post(link, data={"csrf": csrf_of(signed_in.get(link).text)})
    assert signed_in.get("/").status_code == 200
    assert signed_in.get("/api/groups", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    with context.session_scope() as session:
        accounts.deactivate(session, accounts.get_user(session, "dirk@example.com"))

    assert signed_in.get("/").status_code != 200
    assert signed_in.get("/api/groups", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    other = browser(context, follow_redirects=False)
    assert other.get(unused_link).status_code == 400
    assert other.post(unused_link, data={"csrf": csrf_of(other.get(unused_link).text)}).status_code == 400
    assert other.get("/").status_code != 200


def test_a_receipts_edit_link_no_longer_works_once_its_author_has_left(session, team):
    post = posts.create_post(session, team["team"], team["dirk"], "Overdracht", "Alles staat in de map.")
    token = receipts.edit_token("post", post)
    accounts.deactivate(session, team["dirk"])
    with pytest.raises(Forbidden, match="its author has left"):
        receipts.edit_by_link(session, "post", token, "Anders")
    assert post.body_text == "Alles staat in de map."


# No mail of any kind


def test_the_mail_of_a_new_post_goes_to_everyone_on_each_but_a_former_colleague(session, team):
    accounts.deactivate(session, team["dirk"])
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    notifications.notify_post(session, post.id)
    assert [row.status for row in mail_to(session, "bram@example.com")] == [OutgoingStatus.QUEUED]
    assert_kept_back(session, "dirk@example.com", "post:")


def test_comment_mail_and_the_answer_to_their_own_post_do_not_reach_a_former_colleague(session, team):
    post = posts.create_post(session, team["team"], team["dirk"], "Overdracht", "Tekst")
    accounts.deactivate(session, team["dirk"])
    comment = posts.create_comment(session, post, team["bram"], "Dank je, Dirk")
    notifications.notify_comment(session, comment.id)
    assert [row.status for row in mail_to(session, "anna@example.com")] == [OutgoingStatus.QUEUED]
    assert_kept_back(session, "dirk@example.com", "comment:")


def test_a_mention_mailed_at_once_does_not_reach_a_former_colleague(session, team):
    groups.add_member(session, team["team"], team["dirk"], "none")
    accounts.deactivate(session, team["dirk"])
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["bram"], "Weet @dirk dit nog?")
    assert_kept_back(session, "dirk@example.com", "comment:")


def test_the_daily_notifications_mail_is_not_sent_to_a_former_colleague_and_not_tried_again(session, team):
    groups.add_member(session, team["team"], team["dirk"], "none")
    inbox.set_channels(session, team["dirk"], {"mention": "daily"})
    team["dirk"].digest_hour, team["dirk"].timezone = 8, "UTC"
    post = posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    posts.create_comment(session, post, team["bram"], "Weet @dirk dit nog?")
    accounts.deactivate(session, team["dirk"])

    inbox.queue_daily_mails(session, datetime(2026, 5, 4, 8, tzinfo=UTC))
    assert inbox.queue_daily_mails(session, datetime(2026, 5, 4, 9, tzinfo=UTC)).queued == []
    assert_kept_back(session, "dirk@example.com", "notifications:daily:")
    assert len(mail_to(session, "dirk@example.com")) == 1


def test_a_former_colleague_gets_no_digest(session, team):
    groups.add_member(session, team["team"], team["dirk"], "daily")
    accounts.deactivate(session, team["dirk"])
    posts.create_post(session, team["team"], team["anna"], "Planning", "Tekst")
    digests.send_digests(session, "daily")
    assert_kept_back(session, "dirk@example.com", "digest:")


def test_a_former_colleague_gets_no_receipt(session, team):
    post = posts.create_post(session, team["team"], team["dirk"], "Overdracht", "Tekst")
    accounts.deactivate(session, team["dirk"])
    receipts.send_receipt(session, "post", post.id)
    assert_kept_back(session, "dirk@example.com", "receipt:post:")


def test_a_former_moderator_is_not_mailed_held_messages_and_the_other_moderators_are(session, team):
    moderation.set_policy(session, team["team"], "moderated")
    moderation.set_moderator(session, team["team"], team["bram"])
    moderation.set_moderator(session, team["team"], team["dirk"])
    accounts.deactivate(session, team["dirk"])
    stored = inbound.store_inbound(
        session, mail("Anna <anna@example.com>", "Nieuwe kantine", "Open"), "anna@example.com", ["team@plein.test"]
    )
    assert inbound.process_inbound(session, stored.id).status == InboundStatus.HELD
    assert [row.status for row in mail_to(session, "bram@example.com")] == [OutgoingStatus.QUEUED]
    assert_kept_back(session, "dirk@example.com", "moderation:")


def test_even_essential_mail_is_not_sent_to_a_former_colleague(session, team):
    accounts.deactivate(session, team["dirk"])
    signin.request_sign_in(session, "dirk@example.com")
    assert mail_to(session, "dirk@example.com") == []
    message = outbox.compose(
        subject="Sign in",
        sender=("Plein", "no-reply@plein.test"),
        recipient=("Dirk", "dirk@example.com"),
        text="x",
        html="<p>x</p>",
    )
    outbox.queue_mail(session, "sign-in:by-hand", message, essential=True)
    assert_kept_back(session, "dirk@example.com", "sign-in:")


def test_mail_queued_before_they_left_is_not_sent_after(context, team_committed):
    with context.session_scope() as session:
        post = posts.create_post(
            session,
            groups.get_group(session, "team"),
            accounts.get_user(session, "anna@example.com"),
            "Planning",
            "Tekst",
        )
        notifications.notify_post(session, post.id)
    with context.session_scope() as session:
        accounts.deactivate(session, accounts.get_user(session, "dirk@example.com"))

    assert outbox.drain(context).sent == 1
    with context.session_scope() as session:
        assert [row.status for row in mail_to(session, "bram@example.com")] == [OutgoingStatus.SENT]
        assert_kept_back(session, "dirk@example.com", "post:")
    delivered = [path.read_bytes() for path in (context.settings.outbox_dir / "new").iterdir()]
    assert len(delivered) == 1 and b"bram@example.com" in delivered[0]


# Refused as a sender


def test_mail_from_a_former_colleague_is_refused_with_the_reason_and_posts_nothing(session, team):
    accounts.deactivate(session, team["dirk"])
    stored = inbound.store_inbound(
        session, mail("Dirk <dirk@example.com>", "Nog één ding", "Tekst"), "dirk@example.com", ["team@plein.test"]
    )
    refused = inbound.process_inbound(session, stored.id)
    assert (refused.status, refused.reason) == (
        InboundStatus.REFUSED,
        "sender dirk@example.com belongs to a former colleague",
    )
    assert session.query(Post).count() == 0


# What they wrote stays, marked


def test_their_posts_and_comments_stay_under_their_name_marked_on_pages_and_in_the_api(context, team_committed):
    with context.session_scope() as session:
        dirk = accounts.get_user(session, "dirk@example.com")
        anna = accounts.get_user(session, "anna@example.com")
        post = posts.create_post(session, groups.get_group(session, "team"), dirk, "Overdracht", "Alles in de map")
        posts.create_comment(session, post, anna, "Dank je")
        posts.create_comment(session, post, dirk, "Graag gedaan")
        post_id = post.id
        accounts.deactivate(session, dirk)
        token = accounts.create_api_token(session, anna)
        link = "/sign-in/" + signin.sign_in_token(anna)
    client = browser(context, follow_redirects=False)
    client.post(link, data={"csrf": csrf_of(client.get(link).text)})

    page = client.get(f"/p/{post_id}").text
    assert page.count('Dirk Dam</a> <span class="badge">former colleague</span>') == 2
    assert 'Anna de Vries</a> <span class="badge">former colleague' not in page
    assert "former colleague" in client.get("/people/dirk@example.com").text
    assert "former colleague" in client.get("/g/team").text
    assert "former colleague" not in client.get("/people/anna@example.com").text

    api = {"Authorization": f"Bearer {token}"}
    found = client.get(f"/api/posts/{post_id}", headers=api).json()
    assert found["author"] == {"name": "Dirk Dam", "email": "dirk@example.com", "former_colleague": True, "anonymous": False}
    assert [c["author"]["former_colleague"] for c in found["comments"]] == [False, True]
    [summary] = client.get("/api/groups/team/posts", headers=api).json()["posts"]
    assert summary["author"]["former_colleague"] is True
    assert client.get("/api/people/dirk@example.com", headers=api).json()["former_colleague"] is True
    assert client.get("/api/people/anna@example.com", headers=api).json()["former_colleague"] is False


def test_a_former_colleague_is_not_suggested_for_a_mention_and_cannot_be_added_to_a_group(session, team):
    assert [p.email for p in mentions.suggest_people(session, "di")] == ["dirk@example.com"]
    accounts.deactivate(session, team["dirk"])
    assert mentions.suggest_people(session, "di") == []
    board = groups.create_group(session, "board", "Board", private=True)
    with pytest.raises(Invalid, match="dirk@example.com is a former colleague and cannot be added to a group"):
        groups.add_member(session, board, team["dirk"])
    assert [m.group.slug for m in team["dirk"].memberships] == ["team"]
