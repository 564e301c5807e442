"""A private group does not exist for a non-member: every /g/SLUG/... page and API answer says
exactly what it says for a group that does not exist (issue 15, item 3).

Each route is asked about the private `board` and the missing `bored` (slugs of one length),
and the two answers must be the same once the slug is taken out.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.services import accounts, groups, inbound, moderation
from tests.support.web import csrf_of, signed_in

PRIVATE, MISSING = "board", "bored"


@pytest.fixture
def carol(context, data_dir):
    """Carol, a user who is no member of the private Board (which has mail waiting for its moderator),
    signed in on the web and holding an API token."""
    with context.session_scope() as session:
        mia = accounts.create_user(session, "mia@example.com", "Mia")
        user = accounts.create_user(session, "carol@example.com", "Carol")
        board = groups.create_group(session, PRIVATE, "Board", private=True)
        groups.add_member(session, board, mia)
        moderation.set_moderator(session, board, mia)
        moderation.set_policy(session, board, "moderated")
        raw = b"From: carol@example.com\r\nTo: board@plein.test\r\nSubject: Vraag\r\n\r\nMag ik iets vragen?\r\n"
        stored = inbound.store_inbound(session, raw, "carol@example.com", ["board@plein.test"])
        assert inbound.process_inbound(session, stored.id).status.value == "held"
        api_token = accounts.create_api_token(session, user)
    client = signed_in(context, "carol@example.com", follow_redirects=False)
    client.headers["Authorization"] = f"Bearer {api_token}"
    return client


ROUTES = {
    "group page": ("GET", "/g/{slug}"),
    "moderation queue": ("GET", "/g/{slug}/moderation"),
    "held original": ("GET", "/g/{slug}/moderation/1/original"),
    "approve": ("POST", "/g/{slug}/moderation/1/approve"),
    "reject": ("POST", "/g/{slug}/moderation/1/reject"),
    "join": ("POST", "/g/{slug}/join"),
    "leave": ("POST", "/g/{slug}/leave"),
    "new post": ("POST", "/g/{slug}/posts"),
    "api posts": ("GET", "/api/groups/{slug}/posts"),
    "api delivery": ("PUT", "/api/groups/{slug}/membership"),
    "library": ("GET", "/g/{slug}/documents"),
    "api library": ("GET", "/api/groups/{slug}/documents"),
}


def ask(client: TestClient, method: str, path: str) -> tuple[int, str]:
    csrf = csrf_of(client.get("/").text)
    if method == "GET":
        answer = client.get(path)
    elif method == "PUT":
        answer = client.put(path, json={"delivery": "none"})
    else:
        answer = client.post(path, data={"csrf": csrf, "title": "Vraag", "body": "Tekst"})
    return answer.status_code, answer.text.replace(csrf, "CSRF")


@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
def test_a_private_group_answers_a_non_member_as_a_group_that_does_not_exist(carol, route):
    method, path = route
    private = ask(carol, method, path.format(slug=PRIVATE))
    missing = ask(carol, method, path.format(slug=MISSING))

    assert private[0] == missing[0] == 404
    assert private[1].replace(PRIVATE, "SLUG") == missing[1].replace(MISSING, "SLUG")
    assert "Board" not in private[1]
