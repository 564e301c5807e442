"""GET /api/mentions/suggest: the people a composer offers after `@`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.services import accounts
from hub.web.app import create_app
from tests.support.web import signed_in


@pytest.fixture
def people(context):
    with context.session_scope() as session:
        anna = accounts.create_user(session, "anna@example.com", "Anna de Vries")
        accounts.create_user(session, "andre@example.com", "André Vos")
        accounts.create_user(session, "bram@example.com", "Bram Anders")
        accounts.create_user(session, "carol@example.com", "Carol Claes")
        accounts.create_user(session, "100%_sure@example.com", "Percy Procent")
        for n in range(12):
            accounts.create_user(session, f"an{n:02}@example.com", f"Annelies {n:02}")
        session.flush()
        return accounts.create_api_token(session, anna)


def names(answer) -> list[str]:
    return [person["name"] for person in answer.json()["suggestions"]]


def test_a_signed_in_browser_gets_people_whose_name_or_address_starts_with_what_was_typed(context, people):
    client = signed_in(context, "carol@example.com")
    answer = client.get("/api/mentions/suggest", params={"q": "anna"})
    assert answer.status_code == 200
    assert answer.json()["suggestions"] == [
        {"name": "Anna de Vries", "email": "anna@example.com", "local_part": "anna"}
    ]
    assert names(client.get("/api/mentions/suggest", params={"q": "and"})) == ["André Vos", "Bram Anders"]
    assert names(client.get("/api/mentions/suggest", params={"q": "@Vries"})) == ["Anna de Vries"]


def test_at_most_eight_people_are_suggested(context, people):
    client = signed_in(context, "carol@example.com")
    assert len(names(client.get("/api/mentions/suggest", params={"q": "an"}))) == 8


def test_an_api_token_may_ask_too(context, people):
    client = TestClient(create_app(context), headers={"Authorization": f"Bearer {people}"})
    assert names(client.get("/api/mentions/suggest", params={"q": "carol"})) == ["Carol Claes"]


def test_nobody_signed_in_gets_401_and_no_names(context, people):
    answer = TestClient(create_app(context)).get("/api/mentions/suggest", params={"q": "anna"})
    assert answer.status_code == 401 and "Anna" not in answer.text
    forged = TestClient(create_app(context), headers={"Authorization": "Bearer nope"})
    assert forged.get("/api/mentions/suggest", params={"q": "anna"}).status_code == 401


def test_nothing_typed_suggests_nobody_and_wildcards_are_taken_literally(context, people):
    client = signed_in(context, "carol@example.com")
    assert names(client.get("/api/mentions/suggest", params={"q": ""})) == []
    assert names(client.get("/api/mentions/suggest", params={"q": "%"})) == []
    assert names(client.get("/api/mentions/suggest", params={"q": "_"})) == []
    assert names(client.get("/api/mentions/suggest", params={"q": "100%"})) == ["Percy Procent"]
