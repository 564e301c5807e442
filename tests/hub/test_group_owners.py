"""Groups made by anyone and run by their owners (issue 18): creating on the web and over the API,
the setting that keeps creation to admins, what owners may do and others may not, the last owner,
invitations by mail, and archived groups that take nothing new by web, API or mail."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from hub.cli import main
from hub.models import InboundStatus, OutgoingMail, Post, utcnow
from hub.services import accounts, groups, inbound, posts, signing
from hub.services.errors import Conflict
from hub.web.app import create_app
from tests.support.hub import MAIL_DOMAIN, hub_context
from tests.support.statements import statements_sent
from tests.support.web import signed_in_with_csrf

PEOPLE = ("owen", "mia", "nina", "adam")


@pytest.fixture
def hub(context):
    """Owen owns the private Board, where Mia is a member; Nina is in no group; Adam is a hub admin."""
    with context.session_scope() as session:
        people = {name: accounts.create_user(session, f"{name}@example.com", name.title()) for name in PEOPLE}
        accounts.set_admin(session, people["adam"])
        board = groups.start_group(session, people["owen"], "board", "Board", private=True)
        groups.add_member(session, board, people["mia"])
        posts.create_post(session, board, people["owen"], "Agenda", "Punt een.")
        return {name: accounts.create_api_token(session, person) for name, person in people.items()}


def api(context, tokens, who: str) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {tokens[who]}"})


def role_in(context, slug: str, email: str) -> str | None:
    with context.session_scope() as session:
        found = groups.find_membership(session, groups.get_group(session, slug), accounts.get_user(session, email))
        return groups.role_of(found) if found else None


def test_anyone_creates_a_group_on_the_web_and_becomes_its_owner(context, hub):
    client, csrf = signed_in_with_csrf(context, "nina@example.com")
    assert 'href="/groups/new"' in client.get("/groups").text
    assert client.get("/groups/new").status_code == 200
    made = client.post("/groups/new", data={
        "csrf": csrf, "slug": "Koffie", "name": "Koffieclub", "description": "Bonen en bekers",
        "privacy": "private", "posting_policy": "moderated",
    }, follow_redirects=False)
    assert (made.status_code, made.headers["location"]) == (303, "/g/koffie")
    assert role_in(context, "koffie", "nina@example.com") == "owner"
    with context.session_scope() as session:
        made = groups.get_group(session, "koffie")
        assert (made.is_private, made.posting_policy, made.description) == (True, "moderated", "Bonen en bekers")
    assert 'href="/g/koffie/settings"' in client.get("/g/koffie").text


def test_a_refused_new_group_form_comes_back_with_its_reason_and_values_and_makes_nothing(context, hub):
    client, csrf = signed_in_with_csrf(context, "nina@example.com")
    taken = client.post("/groups/new", data={"csrf": csrf, "slug": "board", "name": "Mijn bord"})
    assert taken.status_code == 409 and "already exists" in taken.text and 'value="Mijn bord"' in taken.text
    bad = client.post("/groups/new", data={"csrf": csrf, "slug": "no spaces", "name": "X"})
    assert bad.status_code == 400 and "cannot be a group address" in bad.text
    with context.session_scope() as session:
        assert [g.slug for g in groups.list_groups(session) if g.group.slug != "board"] == []


def test_anyone_creates_a_group_over_the_api_with_its_policy(context, hub):
    made = api(context, hub, "nina").post("/api/groups", json={
        "slug": "fietsen", "name": "Fietsen", "description": "Naar het werk", "posting_policy": "anyone",
    })
    assert made.status_code == 201
    assert {k: made.json()[k] for k in ("slug", "private", "posting_policy", "role", "archived")} == {
        "slug": "fietsen", "private": False, "posting_policy": "anyone", "role": "owner", "archived": False,
    }
    assert api(context, hub, "mia").post("/api/groups", json={"slug": "fietsen", "name": "Nog een"}).status_code == 409
    bad_policy = api(context, hub, "mia").post("/api/groups", json={"slug": "x", "name": "X", "posting_policy": "all"})
    assert bad_policy.status_code == 400 and "posting policy" in bad_policy.json()["detail"]


def test_where_only_admins_create_groups_others_are_refused_on_the_web_and_the_api(data_dir, hub):
    restricted = hub_context(data_dir, group_creation="admins")
    try:
        refused = api(restricted, hub, "nina").post("/api/groups", json={"slug": "x", "name": "X"})
        assert refused.status_code == 403 and "Only administrators" in refused.json()["detail"]
        client, csrf = signed_in_with_csrf(restricted, "nina@example.com")
        assert 'href="/groups/new"' not in client.get("/groups").text
        assert client.get("/groups/new").status_code == 403
        assert client.post("/groups/new", data={"csrf": csrf, "slug": "x", "name": "X"}).status_code == 403
        assert api(restricted, hub, "adam").post("/api/groups", json={"slug": "x", "name": "X"}).status_code == 201
    finally:
        restricted.close()


def test_an_owner_edits_the_group_and_its_members_over_the_api(context, hub):
    owner = api(context, hub, "owen")
    edited = owner.patch("/api/groups/board", json={"name": "Het Bestuur", "private": False, "posting_policy": "moderated"})
    assert edited.status_code == 200
    assert (edited.json()["name"], edited.json()["private"], edited.json()["posting_policy"]) == (
        "Het Bestuur", False, "moderated")
    added = owner.put("/api/groups/board/members/nina@example.com", json={"role": "moderator", "delivery": "daily"})
    assert added.status_code == 200
    assert added.json() == {"person": {"name": "Nina", "email": "nina@example.com"}, "role": "moderator",
                            "delivery": "daily"}
    assert owner.put("/api/groups/board/members/mia@example.com", json={"role": "owner"}).json()["role"] == "owner"
    assert [m["role"] for m in owner.get("/api/groups/board/members").json()] == ["owner", "owner", "moderator"]
    assert owner.delete("/api/groups/board/members/nina@example.com").status_code == 204
    assert role_in(context, "board", "nina@example.com") is None
    assert owner.put("/api/groups/board/members/mia@example.com", json={"role": "chief"}).status_code == 400


def test_an_owner_changes_settings_and_members_on_the_settings_page(context, hub):
    client, csrf = signed_in_with_csrf(context, "owen@example.com")
    page = client.get("/g/board/settings")
    assert page.status_code == 200 and "Mia" in page.text
    saved = client.post("/g/board/settings", data={"csrf": csrf, "name": "Bestuur", "description": "Wekelijks",
                                                   "privacy": "private", "posting_policy": "members"})
    assert saved.status_code == 200 and "Saved." in saved.text
    added = client.post("/g/board/settings/members", data={"csrf": csrf, "email": "nina@example.com", "role": "owner"})
    assert added.status_code == 200 and "nina@example.com is now an owner." in added.text
    assert role_in(context, "board", "nina@example.com") == "owner"
    unknown = client.post("/g/board/settings/members", data={"csrf": csrf, "email": "nobody@example.com"})
    assert unknown.status_code == 404 and "Saved." not in unknown.text
    removed = client.post("/g/board/settings/members/remove", data={"csrf": csrf, "email": "mia@example.com"})
    assert removed.status_code == 200 and role_in(context, "board", "mia@example.com") is None


def test_a_private_groups_settings_are_missing_to_a_non_member_and_forbidden_to_a_member(context, hub):
    nina, _ = signed_in_with_csrf(context, "nina@example.com")
    mia, mia_csrf = signed_in_with_csrf(context, "mia@example.com")
    missing, forbidden = nina.get("/g/board/settings"), mia.get("/g/board/settings")
    assert missing.status_code == 404 and "Board" not in missing.text
    assert forbidden.status_code == 403
    assert mia.post("/g/board/settings", data={"csrf": mia_csrf, "name": "Mine"}).status_code == 403
    assert 'href="/g/board/settings"' not in mia.get("/g/board").text
    for who, status in (("nina", 404), ("mia", 403)):
        client = api(context, hub, who)
        assert client.patch("/api/groups/board", json={"name": "X"}).status_code == status
        assert client.put("/api/groups/board/members/nina@example.com", json={}).status_code == status
        assert client.delete("/api/groups/board/members/owen@example.com").status_code == status
        assert client.get("/api/groups/board/members").status_code == status
    with context.session_scope() as session:
        assert groups.get_group(session, "board").name == "Board"


def test_a_hub_admin_acts_as_owner_of_any_group_also_one_without_owners(context, hub):
    with context.session_scope() as session:
        groups.create_group(session, "oud", "Oud", private=True)  # made before owners existed: none
    admin = api(context, hub, "adam")
    assert admin.put("/api/groups/oud/members/mia@example.com", json={"role": "owner"}).json()["role"] == "owner"
    assert admin.patch("/api/groups/board", json={"description": "Door de admin"}).status_code == 200


def test_the_last_owner_can_neither_leave_nor_be_removed_nor_step_down(context, hub):
    owner = api(context, hub, "owen")
    for answer in (
        owner.delete("/api/groups/board/members/owen@example.com"),
        owner.put("/api/groups/board/members/owen@example.com", json={"role": "member"}),
        api(context, hub, "adam").delete("/api/groups/board/members/owen@example.com"),
    ):
        assert answer.status_code == 409 and "last owner" in answer.json()["detail"]
    client, csrf = signed_in_with_csrf(context, "owen@example.com")
    assert client.post("/g/board/leave", data={"csrf": csrf}).status_code == 409
    assert role_in(context, "board", "owen@example.com") == "owner"
    owner.put("/api/groups/board/members/mia@example.com", json={"role": "owner"})
    assert owner.delete("/api/groups/board/members/owen@example.com").status_code == 204


def test_a_member_leaves_over_the_api_without_being_an_owner(context, hub):
    assert api(context, hub, "mia").delete("/api/groups/board/members/mia@example.com").status_code == 204
    assert role_in(context, "board", "mia@example.com") is None


def invitation_link(context, email: str) -> str:
    with context.session_scope() as session:
        row = session.query(OutgoingMail).filter_by(recipient=email).order_by(OutgoingMail.id.desc()).first()
        mail = message_from_bytes(row.message, policy=policy.default)
    text = mail.get_body(("plain",)).get_content()
    assert "Owen invites you" in str(mail["Subject"]) and "Board" in text
    return "/invitations/" + re.search(r"/invitations/(\S+)", text).group(1)


def test_an_invitation_joins_its_person_to_a_private_group_in_one_click(context, hub):
    invited = api(context, hub, "owen").post("/api/groups/board/invitations", json={"email": "nina@example.com"})
    assert invited.status_code == 201 and invited.json() == {"email": "nina@example.com", "expires_in_days": 14}
    path = invitation_link(context, "nina@example.com")
    nina, _ = signed_in_with_csrf(context, "nina@example.com")
    joined = nina.get(path, follow_redirects=False)
    assert (joined.status_code, joined.headers["location"]) == (303, "/g/board")
    assert role_in(context, "board", "nina@example.com") == "member"
    assert nina.get(path, follow_redirects=False).status_code == 303  # a second click: a member already


def test_an_invitation_on_the_settings_page_is_mailed_in_the_invited_persons_language(context, hub):
    with context.session_scope() as session:
        accounts.get_user(session, "nina@example.com").language = "nl"
    client, csrf = signed_in_with_csrf(context, "owen@example.com")
    sent = client.post("/g/board/settings/invite", data={"csrf": csrf, "email": "nina@example.com"})
    assert sent.status_code == 200 and "An invitation is on its way to nina@example.com." in sent.text
    with context.session_scope() as session:
        row = session.query(OutgoingMail).filter_by(recipient="nina@example.com").one()
    text = message_from_bytes(row.message, policy=policy.default).get_body(("plain",)).get_content()
    assert "/invitations/" in text and "Board" in text and "Hallo" in text


def test_an_expired_forged_or_someone_elses_invitation_joins_nobody(context, hub):
    with context.session_scope() as session:
        board, nina = groups.get_group(session, "board"), accounts.get_user(session, "nina@example.com")
        expired = signing.sign_expiring(session, "invitation", board.id, nina.id, lifetime_seconds=-60)
        good = signing.sign_expiring(session, "invitation", board.id, nina.id, lifetime_seconds=600)
        other_purpose = signing.sign_expiring(session, "sign-in", board.id, nina.id, lifetime_seconds=600)
    forged = good[:-1] + ("0" if good[-1] != "0" else "1")
    nina_browser, _ = signed_in_with_csrf(context, "nina@example.com")
    for token in (expired, forged, other_purpose, "12-34"):
        refused = nina_browser.get(f"/invitations/{token}", follow_redirects=False)
        assert refused.status_code == 404 and "Board" not in refused.text
    adam_browser, _ = signed_in_with_csrf(context, "adam@example.com")
    someone_else = adam_browser.get(f"/invitations/{good}", follow_redirects=False)
    assert someone_else.status_code == 403 and "Board" not in someone_else.text
    assert TestClient(create_app(context)).get(f"/invitations/{good}", follow_redirects=False).status_code == 303
    assert role_in(context, "board", "nina@example.com") is None
    assert role_in(context, "board", "adam@example.com") is None


def test_only_an_owner_invites_and_not_a_member_already(context, hub):
    assert api(context, hub, "mia").post("/api/groups/board/invitations", json={"email": "nina@example.com"}) \
        .status_code == 403
    again = api(context, hub, "owen").post("/api/groups/board/invitations", json={"email": "mia@example.com"})
    assert again.status_code == 400 and "member of Board already" in again.json()["detail"]


def raw_mail(sender: str, to: str, subject: str) -> bytes:
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.com>\r\n\r\n"
            "Tekst\r\n").encode()


def test_an_archived_group_is_read_only_on_the_web_the_api_and_by_mail(context, hub):
    result = CliRunner().invoke(main, ["group", "archive", "board"])
    assert result.exit_code == 0 and result.output == "board is archived\n"
    with context.session_scope() as session:
        post_id = session.query(Post).one().id
    owner = api(context, hub, "owen")
    refused = [
        owner.post("/api/groups/board/posts", json={"title": "Nieuw", "body": "Tekst"}),
        owner.post(f"/api/posts/{post_id}/comments", json={"body": "Eens"}),
        owner.put(f"/api/posts/{post_id}/reactions/like"),
        owner.put("/api/groups/board/members/nina@example.com", json={}),
        owner.post("/api/groups/board/invitations", json={"email": "nina@example.com"}),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert all("archived" in r.json()["detail"] for r in refused)
    client, csrf = signed_in_with_csrf(context, "owen@example.com")
    web = client.post("/g/board/posts", data={"csrf": csrf, "title": "Nieuw", "body": "Tekst"})
    assert web.status_code == 403 and "archived" in web.text
    assert client.post(f"/p/{post_id}/comments", data={"csrf": csrf, "body": "Eens"}).status_code == 403
    page = client.get("/g/board")
    assert page.status_code == 200 and "This group is archived" in page.text and "Agenda" in page.text
    assert owner.get(f"/api/posts/{post_id}").status_code == 200
    with context.session_scope() as session:
        address = f"board@{MAIL_DOMAIN}"
        assert "archived" in inbound.recipient_refusal(session, address)
        stored = inbound.store_inbound(session, raw_mail("owen@example.com", address, "per-mail"), "owen@example.com",
                                       [address])
        processed = inbound.process_inbound(session, stored.id)
        assert processed.status == InboundStatus.REFUSED and "archived" in processed.reason


def test_a_public_archived_group_takes_no_joins_and_is_gone_from_the_composer(context, hub):
    api(context, hub, "nina").post("/api/groups", json={"slug": "oud", "name": "Oud"})
    assert api(context, hub, "adam").put("/api/groups/oud/archive").json()["archived"] is True
    client, csrf = signed_in_with_csrf(context, "mia@example.com")
    joined = client.post("/g/oud/join", data={"csrf": csrf})
    assert joined.status_code == 403 and "archived" in joined.text
    assert 'value="oud"' not in client.get("/").text
    assert api(context, hub, "adam").delete("/api/groups/oud/archive").json()["archived"] is False
    assert client.post("/g/oud/join", data={"csrf": csrf}, follow_redirects=False).status_code == 303


def test_only_admins_archive_and_see_the_archive_button(context, hub):
    assert api(context, hub, "owen").put("/api/groups/board/archive").status_code == 403
    owner, owner_csrf = signed_in_with_csrf(context, "owen@example.com")
    assert "Archive this group" not in owner.get("/g/board/settings").text
    assert owner.post("/g/board/settings/archive", data={"csrf": owner_csrf}).status_code == 403
    admin, admin_csrf = signed_in_with_csrf(context, "adam@example.com")
    assert "Archive this group" in admin.get("/g/board/settings").text
    archived = admin.post("/g/board/settings/archive", data={"csrf": admin_csrf, "do": "archive"})
    assert archived.status_code == 200 and "The group is archived." in archived.text
    reopened = admin.post("/g/board/settings/archive", data={"csrf": admin_csrf, "do": "reopen"})
    assert "The group is open again." in reopened.text


def test_a_person_who_left_cannot_create_groups(context, hub):
    with context.session_scope() as session:
        nina = accounts.get_user(session, "nina@example.com")
        nina.deactivated_at = utcnow()
        with pytest.raises(Exception, match="former colleague"):
            groups.start_group(session, nina, "weg", "Weg")


def test_the_last_owner_rule_holds_in_the_service_too(context, hub):
    with context.session_scope() as session:
        board, owen = groups.get_group(session, "board"), accounts.get_user(session, "owen@example.com")
        with pytest.raises(Conflict):
            groups.remove_member(session, board, owen)


def test_the_list_of_groups_reads_each_membership_in_one_query_however_many_groups_there_are(context, hub):
    client, _ = signed_in_with_csrf(context, "mia@example.com")

    def statements_for_the_list() -> int:
        with statements_sent(context.engine) as sent:
            assert client.get("/groups").status_code == 200
        return len(sent)

    few = statements_for_the_list()
    with context.session_scope() as session:
        mia = accounts.get_user(session, "mia@example.com")
        for n in range(20):
            groups.add_member(session, groups.create_group(session, f"team{n}", f"Team {n}"), mia)
    assert statements_for_the_list() == few
