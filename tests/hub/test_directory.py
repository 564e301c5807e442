"""The people directory (issue 18): `/people` and `GET /api/people` find everyone still with the company by
name, address, title or expertise, narrowed by department (and the departments below it), location, expertise
and first letter, A to Z, a page at a time; and a profile shows where a person stands, their groups and what
they wrote lately, never anything of a private group the reader is not in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.models.base import utcnow
from hub.services import accounts, directory, groups, index_writer, organisation, posts, profiles
from hub.services.errors import Invalid, NotFound
from hub.web.app import create_app
from tests.support.statements import statements_sent
from tests.support.web import csrf_of, signed_in


def person(session, email, name, department=None, manager=None, **fields):
    user = accounts.create_user(session, email, name)
    if department is not None:
        user.department_id, user.department = department.id, department.path
    if manager is not None:
        user.manager_id = manager.id
    for field, value in fields.items():
        setattr(user, field, value)
    session.flush()
    return user


@pytest.fixture
def company(context):
    with context.session_scope() as session:
        consumer = organisation.department_for_path(session, "KPN/Consumer")
        field = organisation.department_for_path(session, "KPN/Consumer/Field Service")
        finance = organisation.department_for_path(session, "KPN/Finance")
        anna = person(session, "anna@example.com", "Anna de Vries", consumer, job_title="Directeur", location="Den Haag")
        person(session, "bram@example.com", "Bram Bakker", field, anna, location="Utrecht",
               expertise="glasvezel, modems", job_title="Monteur")
        person(session, "bea@example.com", "bea Bos", field, anna, location="Utrecht", expertise="koper")
        person(session, "carl@example.com", "Carl Claes", finance, location="Den Haag", expertise="glasvezelnetten")
        person(session, "gone@example.com", "Bert Weg", field, anna, deactivated_at=utcnow(), expertise="glasvezel")
        return {"token": accounts.create_api_token(session, anna)}


def api(context, company) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {company['token']}"})


def names(context, **filters) -> list[str]:
    with context.session_scope() as session:
        return [p.name for p in directory.people_page(session, directory.Filters(**filters)).people]


def test_the_directory_lists_everyone_a_to_z_and_leaves_deactivated_people_out(context, company):
    assert names(context) == ["Anna de Vries", "Bram Bakker", "Carl Claes", "bea Bos"]


@pytest.fixture(params=["first people by name", "everyone read through"])
def scan_window(request, monkeypatch):
    """A search first matches the next `SCAN_WINDOW` people by name, then, for a rare word, everyone."""
    monkeypatch.setattr(directory, "SCAN_WINDOW", directory.SCAN_WINDOW if request.param.startswith("first") else 1)


def test_a_search_matches_name_address_title_and_expertise_every_word(context, company, scan_window):
    assert names(context, q="bakker") == ["Bram Bakker"]
    assert names(context, q="CARL@") == ["Carl Claes"]
    assert names(context, q="monteur") == ["Bram Bakker"]
    assert names(context, q="glasvezel") == ["Bram Bakker", "Carl Claes"]
    assert names(context, q="glasvezel utrecht") == []
    assert names(context, q="100%") == []


@pytest.mark.parametrize("many", [directory.MANY, 1], ids=["read by department", "read by name"])
def test_a_department_filter_takes_the_departments_below_it_too(context, company, monkeypatch, many):
    monkeypatch.setattr(directory, "MANY", many)
    assert names(context, department="KPN/Consumer") == ["Anna de Vries", "Bram Bakker", "bea Bos"]
    assert names(context, department="KPN/Consumer/Field Service") == ["Bram Bakker", "bea Bos"]
    assert names(context, department="KPN") == ["Anna de Vries", "Bram Bakker", "Carl Claes", "bea Bos"]


def test_a_department_whose_name_starts_another_ones_does_not_bring_its_people(context, company):
    with context.session_scope() as session:
        person(session, "dirk@example.com", "Dirk Dijk", organisation.department_for_path(session, "KPN/Consumers"))
    assert "Dirk Dijk" not in names(context, department="KPN/Consumer")


def test_location_and_expertise_filters_match_exactly(context, company):
    assert names(context, location="Utrecht") == ["Bram Bakker", "bea Bos"]
    assert names(context, expertise="glasvezel") == ["Bram Bakker"]
    assert names(context, expertise="#Modems") == ["Bram Bakker"]
    assert names(context, location="Den Haag", expertise="glasvezelnetten") == ["Carl Claes"]


def test_a_to_z_takes_names_starting_with_the_letter_in_either_case(context, company):
    assert names(context, letter="b") == ["Bram Bakker", "bea Bos"]
    assert names(context, letter="C") == ["Carl Claes"]
    assert names(context, letter="Z") == []


def test_pages_follow_each_other_without_a_gap_or_a_repeat(context, company):
    with context.session_scope() as session:
        for number in range(7):
            person(session, f"same{number}@example.com", "Jan Jansen")
    seen, cursor = [], None
    with context.session_scope() as session:
        while True:
            page = directory.people_page(session, directory.Filters(), cursor, size=3)
            seen += [p.email for p in page.people]
            if not (cursor := page.next_cursor):
                break
    assert len(seen) == len(set(seen)) == 11


def test_a_search_pages_without_a_gap_or_a_repeat_whichever_way_it_reads(context, company, scan_window):
    with context.session_scope() as session:
        for number in range(7):
            person(session, f"same{number}@example.com", f"Jan Jansen {7 - number}", job_title="Glasvezel")
    seen, cursor = [], None
    with context.session_scope() as session:
        while True:
            page = directory.people_page(session, directory.Filters(q="glasvezel"), cursor, size=3)
            seen += [p.name for p in page.people]
            if not (cursor := page.next_cursor):
                break
    assert seen == ["Bram Bakker", "Carl Claes", *(f"Jan Jansen {n}" for n in range(1, 8))]


def test_the_locations_offered_are_those_of_people_still_with_the_company_a_to_z(context, company):
    with context.session_scope() as session:
        person(session, "weg@example.com", "Wim Weg", location="Zwolle", deactivated_at=utcnow())
        person(session, "nergens@example.com", "Nel Nergens")
        assert directory.locations(session) == ["Den Haag", "Utrecht"]


def test_bad_filters_and_cursors_are_clear_errors(context, company):
    with context.session_scope() as session:
        with pytest.raises(Invalid, match="letter"):
            directory.people_page(session, directory.Filters(letter="é"))
        with pytest.raises(Invalid, match="cursor"):
            directory.people_page(session, directory.Filters(), "bm9uc2Vuc2U")
        with pytest.raises(NotFound, match="no department"):
            directory.people_page(session, directory.Filters(department="KPN/Nowhere"))


def test_the_api_lists_each_person_with_where_they_work_and_no_cursor_after_the_last(context, company):
    client = api(context, company)
    first = client.get("/api/people", params={"department": "KPN/Consumer"}).json()
    assert first["next_cursor"] is None
    bram = first["people"][1]
    assert bram == {
        "name": "Bram Bakker", "email": "bram@example.com", "job_title": "Monteur",
        "department": "KPN/Consumer/Field Service", "department_id": bram["department_id"], "location": "Utrecht",
        "expertise": ["glasvezel", "modems"], "url": bram["url"],
    }
    assert bram["url"].endswith("/people/bram@example.com")


@pytest.mark.parametrize("query, status, detail", [
    ({"letter": "ab"}, 422, "letter"),
    ({"letter": "1"}, 400, "letter"),
    ({"cursor": "nonsense"}, 400, "cursor"),
    ({"department": "Nowhere"}, 404, "no department"),
    ({"q": "x" * 201}, 422, "q"),
])
def test_the_api_answers_a_bad_query_with_a_4xx_json_detail(context, company, query, status, detail):
    answer = api(context, company).get("/api/people", params=query)
    assert answer.status_code == status and detail in answer.json()["detail"]


def test_the_people_page_shows_filters_letters_and_the_next_page(context, company):
    client = signed_in(context, "anna@example.com")
    page = client.get("/people", params={"location": "Utrecht"})
    assert page.status_code == 200
    assert "Bram Bakker" in page.text and "Carl Claes" not in page.text and "Bert Weg" not in page.text
    assert 'href="/people?q=&amp;department=&amp;location=Utrecht&amp;expertise=&amp;letter=B"' in page.text
    assert client.get("/people", params={"letter": "?"}).status_code == 400


def test_the_header_links_the_directory_and_the_organisation(context, company):
    page = signed_in(context, "anna@example.com").get("/groups").text
    assert 'href="/people"' in page and 'href="/org"' in page


@pytest.fixture
def profile(context, company):
    """Bram writes in a public group and in a private one Anna is not in."""
    with context.session_scope() as session:
        bram = accounts.get_user(session, "bram@example.com")
        open_group = groups.create_group(session, "monteurs", "Monteurs")
        secret = groups.create_group(session, "geheim", "Geheim", private=True)
        for group in (open_group, secret):
            groups.add_member(session, group, bram)
        shown = posts.create_post(session, open_group, bram, "Kast open", "Wie heeft een sleutel?")
        posts.create_comment(session, shown, bram, "Gevonden.")
        hidden = posts.create_post(session, secret, bram, "Reorganisatie", "Vertrouwelijk")
        posts.create_comment(session, hidden, bram, "Ook vertrouwelijk")
    return api(context, company)


def test_a_profile_shows_where_someone_stands_their_groups_and_activity_the_reader_may_see(context, profile):
    bram = profile.get("/api/people/bram@example.com").json()
    assert bram["manager"] == {"name": "Anna de Vries", "email": "anna@example.com"}
    assert bram["location"] == "Utrecht" and bram["department"] == "KPN/Consumer/Field Service"
    assert [g["slug"] for g in bram["groups"]] == ["monteurs"]
    assert [(a["kind"], a["title"]) for a in bram["activity"]] == [("comment", "Kast open"), ("post", "Kast open")]
    anna = profile.get("/api/people/anna@example.com").json()
    assert [r["email"] for r in anna["reports"]] == ["bram@example.com", "bea@example.com"]


def test_the_profile_page_never_names_a_private_group_to_a_non_member(context, profile):
    page = signed_in(context, "anna@example.com").get("/people/bram@example.com").text
    assert "Kast open" in page and "Monteurs" in page and "Anna de Vries" in page
    assert "Geheim" not in page and "Reorganisatie" not in page and "vertrouwelijk" not in page.lower()
    assert 'href="/org/' in page


def test_a_member_of_the_private_group_sees_its_activity_on_the_profile(context, profile):
    with context.session_scope() as session:
        bram = accounts.get_user(session, "bram@example.com")
        token = accounts.create_api_token(session, bram)
    own = TestClient(create_app(context), headers={"Authorization": f"Bearer {token}"})
    found = own.get("/api/people/bram@example.com").json()
    assert {g["slug"] for g in found["groups"]} == {"monteurs", "geheim"}
    assert "Reorganisatie" in [a["title"] for a in found["activity"]]


def test_a_person_edits_phone_location_and_languages_on_their_own_profile(context, company):
    client = signed_in(context, "bram@example.com")
    form = client.get("/people/bram@example.com").text
    fields = {"csrf": csrf_of(form), "job_title": "Monteur", "expertise": "glasvezel", "phone": "+31 6 1234 5678",
              "location": "  Amersfoort ", "languages": "Nederlands,  English"}
    saved = client.post("/people/bram@example.com", data=fields)
    assert saved.status_code == 200 and 'href="tel:+31612345678"' in saved.text
    with context.session_scope() as session:
        bram = accounts.get_user(session, "bram@example.com")
        assert (bram.phone, bram.location, bram.languages) == ("+31 6 1234 5678", "Amersfoort", "Nederlands, English")


def test_a_bad_phone_number_changes_nothing_of_the_profile(context, company):
    client = signed_in(context, "bram@example.com")
    fields = {"csrf": csrf_of(client.get("/people/bram@example.com").text), "job_title": "Baas",
              "phone": "bel me maar", "location": "Amersfoort"}
    refused = client.post("/people/bram@example.com", data=fields)
    assert refused.status_code == 400 and "phone number" in refused.text
    with context.session_scope() as session:
        bram = accounts.get_user(session, "bram@example.com")
        assert (bram.job_title, bram.phone, bram.location) == ("Monteur", "", "Utrecht")


def test_a_profile_form_without_the_new_fields_leaves_them_as_they_are(context, company):
    with context.session_scope() as session:
        bram = accounts.get_user(session, "bram@example.com")
        profiles.update_profile(session, bram, profiles.ProfileForm(job_title="Monteur"))
        assert bram.location == "Utrecht"


def test_what_someone_answers_teaches_their_expertise_with_the_tags_of_their_own_comments(context, company):
    with context.session_scope() as session:
        bram, carl = accounts.get_user(session, "bram@example.com"), accounts.get_user(session, "carl@example.com")
        team = groups.create_group(session, "team", "Team")
        question = posts.create_post(session, team, carl, "Signaal weg", "Wie weet raad? #storing")
        posts.create_comment(session, question, bram, "Meet het met de #otdr.")
        learned = index_writer.learned_expertise(session, bram)
    assert "Signaal weg" in learned and "#storing" in learned and "#otdr" in learned


def test_a_page_of_people_asks_the_database_the_same_few_questions_however_many_people_it_shows(context, company):
    """Each person's avatar needs their photo's version: read from the rows the page loaded, not asked person by
    person."""
    browser = signed_in(context, "anna@example.com")

    def statements_for(path: str) -> int:
        with statements_sent(context.engine) as sent:
            assert browser.get(path).status_code == 200
        return len(sent)

    few = statements_for("/people")
    with context.session_scope() as session:
        for n in range(30):
            person(session, f"extra{n}@example.com", f"Extra {n:02}")
    assert "Extra 00" in browser.get("/people").text
    assert statements_for("/people") == few
