"""`plein people import`: a CSV of everyone, through click on a real database, and the sync service under it."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hub.cli import main
from hub.models import ApiToken, Department, IndexPending, User
from hub.services import accounts, people
from hub.services.errors import Invalid

HEADER = "email,name,department,title,manager,phone,location,expertise\n"
COMPANY = HEADER + (
    "ceo@example.com,Carla Ceo,KPN,Chief executive,,+31 70 000 0001,Den Haag,strategy\n"
    "mona@example.com,Mona Manager,KPN/Consumer/Field Service,Team lead,ceo@example.com,,Utrecht,glasvezel;modems\n"
    "tom@example.com,Tom Tech,KPN/Consumer/Field Service,Engineer,mona@example.com,,Utrecht,Glasvezel; #DSL\n"
)


def plein(*args: str):
    return CliRunner().invoke(main, list(args))


def write(tmp_path, text: str):
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def person(context, email: str) -> User | None:
    with context.session_scope() as session:
        found = accounts.find_user(session, email)
        if found:
            session.expunge(found)
        return found


def everyone(context) -> dict[str, tuple]:
    with context.session_scope() as session:
        by_id = {user.id: user for user in session.scalars(select(User))}
        return {
            user.email: (
                user.name, user.department, user.job_title,
                by_id[user.manager_id].email if user.manager_id else "", user.deactivated_at is not None,
            )
            for user in by_id.values()
        }


def test_import_creates_everyone_with_departments_managers_and_expertise(context, tmp_path):
    result = plein("people", "import", write(tmp_path, COMPANY))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "line 2\tceo@example.com\tcreated",
        "line 3\tmona@example.com\tcreated",
        "line 4\ttom@example.com\tcreated",
        "3 created, 0 updated, 0 unchanged, 0 rejected, 0 deactivated",
    ]
    with context.session_scope() as session:
        tom = accounts.get_user(session, "tom@example.com")
        assert (tom.department, tom.job_title, tom.location) == ("KPN/Consumer/Field Service", "Engineer", "Utrecht")
        assert session.get(Department, tom.department_id).path == "KPN/Consumer/Field Service"
        assert session.get(User, tom.manager_id).email == "mona@example.com"
        assert tom.expertise == "glasvezel, dsl"
        assert tom.timezone and tom.language
        assert sorted(session.scalars(select(Department.path))) == ["KPN", "KPN/Consumer", "KPN/Consumer/Field Service"]
        marked = set(session.scalars(select(IndexPending.item_id).where(IndexPending.kind == "person")))
        assert tom.id in marked and len(marked) == 3


def test_a_second_run_of_the_same_file_changes_nothing_and_says_so(context, tmp_path):
    path = write(tmp_path, COMPANY)
    plein("people", "import", path)
    with context.session_scope() as session:
        session.execute(IndexPending.__table__.delete())
    result = plein("people", "import", path)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "0 created, 0 updated, 3 unchanged, 0 rejected, 0 deactivated"
    with context.session_scope() as session:
        assert session.scalars(select(IndexPending)).all() == []


def test_a_changed_line_updates_that_person_by_address_in_any_case(context, tmp_path):
    plein("people", "import", write(tmp_path, COMPANY))
    moved = COMPANY.replace("tom@example.com,Tom Tech,KPN/Consumer/Field Service", "TOM@Example.com,Tom Tech,KPN/Business")
    result = plein("people", "import", write(tmp_path, moved))
    assert result.exit_code == 0
    assert "line 4\ttom@example.com\tupdated" in result.stdout.splitlines()
    assert everyone(context)["tom@example.com"] == ("Tom Tech", "KPN/Business", "Engineer", "mona@example.com", False)


@pytest.mark.parametrize("line, reason", [
    ("not-an-address,Nobody,KPN,,,,,", "'not-an-address' is not an email address"),
    ("zed@example.com,Zed,KPN,,nobody@example.com,,,", "unknown manager nobody@example.com"),
    ("zed@example.com,Zed,KPN,,not an address,,,", "the manager 'not an address' is not an email address"),
    ("zed@example.com,,KPN,,,,,", "a name is required"),
    ("zed@example.com,Zed,KPN//Consumer,,,,,", "'KPN//Consumer' has an empty department name"),
    ("zed@example.com,Zed,KPN", "3 fields where 8 were expected"),
    ("zed@example.com,Zed,KPN,,zed@example.com,,,", "manager loop: zed@example.com -> zed@example.com"),
])
def test_a_bad_line_is_rejected_with_its_number_and_reason_and_the_rest_is_imported(context, tmp_path, line, reason):
    result = plein("people", "import", write(tmp_path, COMPANY + line + "\n"))
    assert result.exit_code == 1
    assert any(row.startswith("line 5\t") and row.endswith(f"\trejected: {reason}") for row in result.stdout.splitlines())
    assert result.stdout.splitlines()[-1] == "3 created, 0 updated, 0 unchanged, 1 rejected, 0 deactivated"
    assert set(everyone(context)) == {"ceo@example.com", "mona@example.com", "tom@example.com"}


def test_a_rejected_line_writes_nothing_of_itself_not_even_its_department(context, tmp_path):
    plein("people", "import", write(tmp_path, COMPANY + "zed@example.com,Zed,Elsewhere/Far,,nobody@example.com,,,\n"))
    with context.session_scope() as session:
        assert "Elsewhere" not in set(session.scalars(select(Department.path)))


def test_duplicate_addresses_reject_the_later_line_naming_the_first(context, tmp_path):
    result = plein("people", "import", write(tmp_path, COMPANY + "Tom@example.com,Tom Twice,KPN,,,,,\n"))
    assert result.exit_code == 1
    assert "line 5\ttom@example.com\trejected: tom@example.com is also on line 4" in result.stdout.splitlines()
    assert everyone(context)["tom@example.com"][0] == "Tom Tech"


def test_a_manager_loop_rejects_every_line_on_it_and_those_under_a_new_person_on_it(context, tmp_path):
    loop = HEADER + (
        "a@example.com,A,KPN,,b@example.com,,,\n"
        "b@example.com,B,KPN,,c@example.com,,,\n"
        "c@example.com,C,KPN,,a@example.com,,,\n"
        "d@example.com,D,KPN,,a@example.com,,,\n"
        "e@example.com,E,KPN,,,,,\n"
    )
    result = plein("people", "import", write(tmp_path, loop))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "line 2\ta@example.com\trejected: manager loop: a@example.com -> b@example.com -> c@example.com -> a@example.com" in lines
    assert "line 5\td@example.com\trejected: unknown manager a@example.com" in lines
    assert set(everyone(context)) == {"e@example.com"}


def test_a_loop_through_people_already_there_is_found(context, tmp_path):
    plein("people", "import", write(tmp_path, COMPANY))
    result = plein("people", "import", write(tmp_path, HEADER + "ceo@example.com,Carla Ceo,KPN,,tom@example.com,,,\n"))
    assert result.exit_code == 1
    assert "manager loop: ceo@example.com -> tom@example.com -> mona@example.com -> ceo@example.com" in result.stdout
    assert everyone(context)["ceo@example.com"][3] == ""


def test_a_wrong_header_is_one_error_and_nothing_is_imported(context, tmp_path):
    result = plein("people", "import", write(tmp_path, "email,name,dept\nzed@example.com,Zed,KPN\n"))
    assert result.exit_code == 1
    assert result.output == (
        "Error: line 1: the columns must be exactly email,name,department,title,manager,phone,location,expertise,"
        " not email,name,dept\n"
    )
    assert everyone(context) == {}


def test_a_dry_run_reports_the_same_and_changes_nothing(context, tmp_path):
    result = plein("people", "import", "--dry-run", write(tmp_path, COMPANY + "zed@example.com,Zed,X,,nobody@example.com,,,\n"))
    assert result.exit_code == 1
    assert "line 3\tmona@example.com\tcreated" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == (
        "3 created, 0 updated, 0 unchanged, 1 rejected, 0 deactivated (dry run: nothing changed)"
    )
    assert everyone(context) == {}
    with context.session_scope() as session:
        assert session.scalars(select(Department)).all() == [] and session.scalars(select(IndexPending)).all() == []


def test_deactivate_missing_deactivates_those_left_out_but_no_administrator(context, tmp_path):
    with context.session_scope() as session:
        accounts.set_admin(session, accounts.create_user(session, "root@example.com", "Root"))
    plein("people", "import", write(tmp_path, COMPANY))
    result = plein("people", "import", "--deactivate-missing", write(tmp_path, COMPANY.replace(
        "tom@example.com,Tom Tech,KPN/Consumer/Field Service,Engineer,mona@example.com,,Utrecht,Glasvezel; #DSL\n", ""
    )))
    assert result.exit_code == 0
    assert "-\ttom@example.com\tdeactivated" in result.stdout.splitlines()
    assert "-\troot@example.com\tnot named, kept active: an administrator" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "0 created, 0 updated, 2 unchanged, 0 rejected, 1 deactivated"
    assert person(context, "tom@example.com").deactivated_at is not None
    assert person(context, "root@example.com").deactivated_at is None


def test_a_person_on_a_rejected_line_is_not_deactivated_as_missing(context, tmp_path):
    plein("people", "import", write(tmp_path, COMPANY))
    broken = COMPANY.replace("mona@example.com,,Utrecht,Glasvezel", "nobody@example.com,,Utrecht,Glasvezel")
    result = plein("people", "import", "--deactivate-missing", write(tmp_path, broken))
    assert result.exit_code == 1 and "line 4\ttom@example.com\trejected: unknown manager nobody@example.com" in result.stdout
    assert person(context, "tom@example.com").deactivated_at is None


def test_without_deactivate_missing_those_left_out_stay_active(context, tmp_path):
    plein("people", "import", write(tmp_path, COMPANY))
    plein("people", "import", write(tmp_path, HEADER + "ceo@example.com,Carla Ceo,KPN,Chief executive,,,,\n"))
    assert person(context, "tom@example.com").deactivated_at is None


def test_someone_deactivated_who_is_in_the_file_again_is_active_again(context, tmp_path):
    plein("people", "import", write(tmp_path, COMPANY))
    plein("people", "import", "--deactivate-missing", write(tmp_path, HEADER + "ceo@example.com,Carla Ceo,KPN,,,,,\n"))
    assert person(context, "tom@example.com").deactivated_at is not None
    result = plein("people", "import", write(tmp_path, COMPANY))
    assert "line 4\ttom@example.com\tupdated" in result.stdout.splitlines()
    assert person(context, "tom@example.com").deactivated_at is None


def test_a_line_may_name_a_manager_on_a_later_line_or_already_in_plein(session):
    accounts.create_user(session, "boss@example.com", "Boss")
    records = people.read_csv(io.StringIO(HEADER + (
        "a@example.com,A,,,b@example.com,,,\n"
        "b@example.com,B,,,boss@example.com,,,\n"
    )))
    report = people.apply_records(session, records)
    assert [result.outcome for result in report.results] == [people.Outcome.CREATED] * 2
    a = accounts.get_user(session, "a@example.com")
    assert session.get(User, a.manager_id).email == "b@example.com"


def test_quoted_fields_and_blank_lines_keep_their_line_numbers(session):
    records = people.read_csv(io.StringIO(HEADER + '\n"a@example.com","A, the first",KPN,,,,,\n'))
    assert [(record.where, record.name) for record in records] == [("line 3", "A, the first")]


def test_an_empty_file_is_a_wrong_header(session):
    with pytest.raises(Invalid, match="not nothing"):
        people.read_csv(io.StringIO(""))


def test_an_import_and_its_second_run_work_on_postgresql(postgres, tmp_path):
    from hub.db import upgrade_database
    from tests.support.hub import hub_context

    built = hub_context(tmp_path / "data", database_url=postgres.fresh_database("people_import"))
    upgrade_database(built.settings)
    try:
        for expected in (people.Outcome.CREATED, people.Outcome.UNCHANGED):
            with built.session_scope() as session:
                report = people.apply_records(session, people.read_csv(io.StringIO(COMPANY)))
                assert [result.outcome for result in report.results] == [expected] * 3
        with built.session_scope() as session:
            assert session.scalar(select(User.manager_id).where(User.email == "tom@example.com")) is not None
            assert len(session.scalars(select(IndexPending).where(IndexPending.kind == "person")).all()) == 3
    finally:
        built.close()


def test_someone_an_import_deactivates_is_signed_out_and_loses_their_api_tokens(session):
    gone = accounts.create_user(session, "weg@example.com", "Weg Gegaan")
    accounts.create_api_token(session, gone)
    people.apply_records(session, [], deactivate_missing=True)
    assert gone.deactivated_at is not None
    assert session.query(ApiToken).filter_by(user_id=gone.id).count() == 0
