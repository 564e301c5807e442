"""Signing in and out over HTTP: links work once, sessions end on the server, asking is limited
and tells nothing about whether an address is someone's."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from hub.models import OutgoingMail
from hub.services import accounts, signin
from hub.web.app import create_app
from tests.support.web import browser, csrf_of, signed_in


@pytest.fixture
def alice(context, data_dir):
    with context.session_scope() as session:
        accounts.create_user(session, "alice@example.com", "Alice Aalders")


def mailed_link(context) -> str:
    with context.session_scope() as session:
        [row] = session.query(OutgoingMail).filter(OutgoingMail.key.like("sign-in:%")).all()
        return "/sign-in/" + row.key.removeprefix("sign-in:")


def ask_for_link(client: TestClient, email: str):
    return client.post("/sign-in", data={"email": email, "csrf": csrf_of(client.get("/sign-in").text)})


def follow(client: TestClient, link: str):
    confirm = client.get(link)
    return client.post(link, data={"csrf": csrf_of(confirm.text)})


def is_signed_in(client: TestClient) -> bool:
    return client.get("/").status_code == 200


def test_a_used_sign_in_link_does_not_sign_in_again_from_another_browser(context, alice):
    ask_for_link(browser(context, follow_redirects=False), "alice@example.com")
    link = mailed_link(context)
    first = browser(context, follow_redirects=False)
    assert follow(first, link).headers["location"] == "/"
    assert is_signed_in(first)

    second = browser(context, follow_redirects=False)
    confirm = second.get(link)
    assert confirm.status_code == 400 and "A sign-in link works once, for 30 minutes." in confirm.text
    again = second.post(link, data={"csrf": csrf_of(second.get("/sign-in").text)})  # as the first browser did
    assert again.status_code == 400
    assert not is_signed_in(second)


def test_two_links_asked_for_one_after_the_other_each_work_once(context, alice):
    with context.session_scope() as session:
        user = accounts.get_user(session, "alice@example.com")
        links = [f"/sign-in/{signin.sign_in_token(user)}" for _ in range(2)]
    assert links[0] != links[1]
    for link in links:
        assert follow(browser(context, follow_redirects=False), link).status_code == 303


def test_signing_out_ends_the_session_on_the_server_so_a_copied_cookie_stops_working(context, alice):
    victim = signed_in(context, "alice@example.com", follow_redirects=False)
    thief = browser(context, follow_redirects=False)
    thief.cookies.set("plein_session", victim.cookies["plein_session"])
    assert is_signed_in(thief)

    victim.post("/sign-out", data={"csrf": csrf_of(victim.get("/").text)})

    assert not is_signed_in(victim)
    assert thief.get("/").headers["location"] == "/sign-in"


def test_the_cookie_carries_a_random_id_and_nothing_else(context, alice):
    client = signed_in(context, "alice@example.com", follow_redirects=False)
    cookie = client.cookies["plein_session"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)
    with context.session_scope() as session:
        assert str(accounts.get_user(session, "alice@example.com").id) not in cookie.split("-")


def test_sign_out_everywhere_on_the_preferences_page_ends_every_session_of_the_person(context, alice, data_dir):
    with context.session_scope() as session:
        accounts.create_user(session, "bob@example.com", "Bob Bos")
    laptop, phone = (signed_in(context, "alice@example.com", follow_redirects=False) for _ in range(2))
    bob = signed_in(context, "bob@example.com", follow_redirects=False)
    preferences = laptop.get("/preferences")
    assert "Sign out everywhere" in preferences.text

    answer = laptop.post("/sign-out/everywhere", data={"csrf": csrf_of(preferences.text)})

    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    assert is_signed_in(bob)


def test_an_address_gets_at_most_five_links_a_quarter_of_an_hour_and_every_ask_the_same_answer(context, alice):
    browsers = [browser(context, f"10.0.0.{n}", follow_redirects=False) for n in range(7)]
    answers = [ask_for_link(client, "alice@example.com") for client in browsers]

    assert {a.status_code for a in answers} == {200}
    assert all("a sign-in link is on its way" in a.text for a in answers)
    with context.session_scope() as session:
        assert session.query(OutgoingMail).filter(OutgoingMail.key.like("sign-in:%")).count() == 5


def test_a_client_asking_for_many_addresses_gets_429_after_twenty(context, alice):
    client = browser(context, "192.0.2.7", follow_redirects=False)
    answers = [ask_for_link(client, f"someone{n}@example.com") for n in range(20)]
    assert {a.status_code for a in answers} == {200}

    limited = ask_for_link(client, "alice@example.com")

    assert limited.status_code == 429
    assert "Many sign-in links were asked for from here" in limited.text
    assert ask_for_link(browser(context, "192.0.2.8", follow_redirects=False), "alice@example.com").status_code == 200


class AnswerWatcher:
    """The SQL run before the answer starts and after it, for the app it wraps."""

    def __init__(self, app) -> None:
        self.app = app
        self.before: list[str] = []
        self.after: list[str] = []
        self.answered = False

    async def __call__(self, scope, receive, send):
        async def watching_send(message):
            if message["type"] == "http.response.start":
                self.answered = True
            await send(message)

        await self.app(scope, receive, watching_send)

    def statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        (self.after if self.answered else self.before).append(statement)


def statements_for(context, email: str) -> AnswerWatcher:
    watcher = AnswerWatcher(create_app(context))
    client = TestClient(watcher, client=("198.51.100.1", 50000))
    form = client.get("/sign-in")
    watcher.before.clear()
    watcher.answered = False
    event.listen(context.engine, "before_cursor_execute", watcher.statement)
    try:
        answer = client.post("/sign-in", data={"email": email, "csrf": csrf_of(form.text)})
    finally:
        event.remove(context.engine, "before_cursor_execute", watcher.statement)
    assert answer.status_code == 200 and "a sign-in link is on its way" in answer.text
    return watcher


def test_the_answer_is_sent_before_anything_depends_on_whether_the_address_is_someones(context, alice):
    someone = statements_for(context, "alice@example.com")
    no_one = statements_for(context, "nobody@example.com")

    assert someone.before == no_one.before
    assert not any("users" in s for s in someone.before)
    assert any("INSERT INTO outgoing_mail" in s for s in someone.after)
    assert not any("INSERT INTO outgoing_mail" in s for s in no_one.after)
