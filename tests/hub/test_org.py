"""The department tree (issue 18): `/org` and `GET /api/departments` show every department with its number of
people (those below it included), and a department's page `/org/{id}` its people with the manager first, its
sub-departments and the groups its people are most active in, never a private group to a non-member."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.models import OrganisationVersion
from hub.models.base import utcnow
from hub.services import accounts, departments, groups, organisation, posts
from hub.services.errors import NotFound
from hub.web.app import create_app
from tests.hub.test_directory import person
from tests.support.hub import hub_context
from tests.support.web import signed_in


@pytest.fixture
def org(context):
    """KPN/Consumer with Field Service below it. Dirk heads Consumer and manages the team lead in Field Service;
    Eva leads Field Service, where two report to her. Bert left."""
    with context.session_scope() as session:
        consumer = organisation.department_for_path(session, "KPN/Consumer")
        field = organisation.department_for_path(session, "KPN/Consumer/Field Service")
        organisation.department_for_path(session, "KPN/Finance")
        dirk = person(session, "dirk@example.com", "Dirk Dijk", consumer)
        person(session, "anna@example.com", "Anna Aalders", consumer, dirk)
        eva = person(session, "eva@example.com", "Eva Evers", field, dirk)
        bram = person(session, "bram@example.com", "Bram Bakker", field, eva)
        cor = person(session, "cor@example.com", "Cor Cornelis", field, eva)
        person(session, "bert@example.com", "Bert Weg", field, bram, deactivated_at=utcnow())
        person(session, "zoe@example.com", "Zoe Zon")  # in no department
        tuin, board, old = (groups.create_group(session, "tuin", "Tuin"),
                            groups.create_group(session, "board", "Board", private=True),
                            groups.create_group(session, "oud", "Oud"))
        for member in (bram, cor):
            groups.add_member(session, board, member)
        posts.create_post(session, tuin, bram, "Tomaten", "Rood")
        for _ in range(3):
            posts.create_post(session, board, cor, "Geheim", "Vertrouwelijk")
        answered = posts.create_post(session, old, dirk, "Oude draad", "Van lang geleden")
        answered.created_at = utcnow() - timedelta(days=200)
        posts.create_comment(session, answered, eva, "Nog steeds waar")
        stale = posts.create_comment(session, answered, eva, "Heel oud")
        stale.created_at = utcnow() - timedelta(days=100)
        session.flush()
        return {"consumer": consumer.id, "field": field.id, "token": accounts.create_api_token(session, zoe_of(session))}


def zoe_of(session):
    return accounts.get_user(session, "zoe@example.com")


def api(context, org) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {org['token']}"})


def test_the_tree_counts_everyone_below_a_department_and_leaves_deactivated_people_out(context, org):
    tree = api(context, org).get("/api/departments").json()
    assert tree == [{
        "id": tree[0]["id"], "name": "KPN", "path": "KPN", "people": 5, "children": [
            {"id": org["consumer"], "name": "Consumer", "path": "KPN/Consumer", "people": 5, "children": [
                {"id": org["field"], "name": "Field Service", "path": "KPN/Consumer/Field Service", "people": 3,
                 "children": []},
            ]},
            {"id": tree[0]["children"][1]["id"], "name": "Finance", "path": "KPN/Finance", "people": 0,
             "children": []},
        ],
    }]


def test_the_manager_is_the_one_most_others_report_to_below_the_department_too(context, org):
    with context.session_scope() as session:
        zoe = zoe_of(session)
        consumer = departments.department_page(session, zoe, org["consumer"])
        field = departments.department_page(session, zoe, org["field"])
        assert [p.name for p in consumer.people] == ["Dirk Dijk", "Anna Aalders"]
        assert consumer.manager.name == "Dirk Dijk"
        assert [p.name for p in field.people] == ["Eva Evers", "Bram Bakker", "Cor Cornelis"]
        assert [(c.name, c.people) for c in consumer.children] == [("Field Service", 3)]


def test_a_department_where_no_one_reports_to_anyone_marks_no_manager(context, org):
    with context.session_scope() as session:
        finance = session.get(departments.Department, org["field"]).parent.parent.children[1]
        person(session, "fien@example.com", "Fien Fokker", finance)
        page = departments.department_page(session, zoe_of(session), finance.id)
        assert page.manager is None and [p.name for p in page.people] == ["Fien Fokker"]


@pytest.mark.parametrize("few", [departments.FEW, 0], ids=["read by author", "read by time"])
def test_most_active_groups_count_the_last_90_days_and_never_a_private_group_for_a_non_member(
    context, org, monkeypatch, few
):
    monkeypatch.setattr(departments, "FEW", few)
    with context.session_scope() as session:
        zoe, cor = zoe_of(session), accounts.get_user(session, "cor@example.com")
        department = departments.get_department(session, org["consumer"])
        seen = [(a.group.slug, a.items) for a in departments.active_groups(session, zoe, department)]
        assert seen == [("oud", 1), ("tuin", 1)]
        member = [(a.group.slug, a.items) for a in departments.active_groups(session, cor, department)]
        assert member == [("board", 3), ("oud", 1), ("tuin", 1)]


def test_the_most_active_groups_a_process_keeps_are_counted_again_once_someone_writes_or_moves(context, org):
    def active(department_id: int) -> list[tuple[str, int]]:
        with context.session_scope() as session:
            reader = zoe_of(session)
            department = departments.get_department(session, department_id)
            return [(a.group.slug, a.items) for a in departments.active_groups(session, reader, department)]

    assert active(org["field"]) == [("oud", 1), ("tuin", 1)]
    with context.session_scope() as session:
        tuin = groups.get_group(session, "tuin")
        posts.create_post(session, tuin, accounts.get_user(session, "bram@example.com"), "Sla", "Groen")
    assert active(org["field"]) == [("tuin", 2), ("oud", 1)]
    with context.session_scope() as session:
        accounts.get_user(session, "bram@example.com").department_id = org["consumer"]
    assert active(org["field"]) == [("oud", 1)]


def test_the_department_page_never_shows_a_private_group_to_a_non_member(context, org):
    page = signed_in(context, "zoe@example.com").get(f"/org/{org['consumer']}")
    assert page.status_code == 200
    assert "Tuin" in page.text and "Board" not in page.text and "Geheim" not in page.text
    assert page.text.index("Dirk Dijk") < page.text.index("Anna Aalders")
    assert "Bert Weg" not in page.text and 'href="/people?department=KPN%2FConsumer"' in page.text


def test_the_org_page_nests_departments_in_details_with_their_counts(context, org):
    page = signed_in(context, "zoe@example.com").get("/org").text
    assert page.count("<details") == 2 and "2 departments below it" in page and f'href="/org/{org["field"]}">Field Service</a>' in page
    assert "3 people" in page


def test_an_unknown_department_is_a_404(context, org):
    client = signed_in(context, "zoe@example.com")
    assert client.get("/org/999999").status_code == 404
    assert client.get("/org/0").status_code == 404
    assert client.get("/org/abc").status_code == 400
    with context.session_scope() as session, pytest.raises(NotFound):
        departments.department_page(session, zoe_of(session), 999999)


def test_the_tree_needs_a_signed_in_reader(context, org):
    assert TestClient(create_app(context)).get("/api/departments").status_code == 401


def test_the_tree_each_process_keeps_is_counted_again_once_another_process_changes_who_works_where(
    context, org, data_dir
):
    """A web process keeps the tree it counted; an import, a sync or a deactivation in another process (another
    context on the same database) changes the organisation's version, and the next page counts it again."""
    def people_in(path: str) -> int:
        with context.session_scope() as session:
            nodes = {node.path: node for node in _walk(departments.department_tree(session))}
            return nodes[path].people

    assert people_in("KPN/Consumer/Field Service") == 3
    assert people_in("KPN/Consumer/Field Service") == 3  # the kept tree answers
    elsewhere = hub_context(data_dir)
    try:
        with elsewhere.session_scope() as session:
            accounts.deactivate(session, accounts.get_user(session, "cor@example.com"))
        assert people_in("KPN/Consumer/Field Service") == 2
        with elsewhere.session_scope() as session:
            zoe = zoe_of(session)
            zoe.department_id = organisation.department_for_path(session, "KPN/Finance/Audit").id
        assert people_in("KPN/Finance") == 1 and people_in("KPN/Finance/Audit") == 1 and people_in("KPN") == 5
        with elsewhere.session_scope() as session:
            zoe_of(session).name = "Zoë Zon"  # a change the tree does not count by leaves its version alone
            version = session.scalar(select(OrganisationVersion.version))
        with elsewhere.session_scope() as session:
            assert session.scalar(select(OrganisationVersion.version)) == version
    finally:
        elsewhere.close()


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children)
