"""Groups whose membership follows the directory: the all-company group and department groups, kept in step by
imports, directory syncs, new people, deactivation and reactivation; made with `plein group` or on `/org/ID`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.cli import main
from hub.models import Delivery, Department, Follow, Group, Membership, User
from hub.runner import prepare
from hub.services import accounts, directory_groups, follows, groups, preferences
from hub.services.errors import Conflict, Forbidden
from hub.web.app import create_app
from tests.support.web import csrf_of, signed_in

HEADER = "email,name,department,title,manager,phone,location,expertise\n"
COMPANY = HEADER + (
    "ceo@example.com,Carla Ceo,KPN,Chief executive,,,,\n"
    "mona@example.com,Mona Manager,KPN/Consumer,Team lead,ceo@example.com,,,\n"
    "tom@example.com,Tom Tech,KPN/Consumer/Field Service,Engineer,mona@example.com,,,\n"
    "fay@example.com,Fay Finance,KPN/Finance,Controller,ceo@example.com,,,\n"
)


def plein(*args: str):
    return CliRunner().invoke(main, list(args))


def import_csv(tmp_path, text: str, *args: str):
    path = tmp_path / "people.csv"
    path.write_text(text, encoding="utf-8")
    result = plein("people", "import", str(path), *args)
    assert result.exit_code == 0, result.output
    return result


def members(context, slug: str) -> set[str]:
    with context.session_scope() as session:
        return set(
            session.scalars(
                select(User.email).join(Membership, Membership.user_id == User.id).join(Group).where(Group.slug == slug)
            )
        )


def follows_group(context, email: str, slug: str) -> bool:
    with context.session_scope() as session:
        return (
            session.scalar(
                select(Follow.following)
                .join(User, User.id == Follow.user_id)
                .join(Group, Group.id == Follow.group_id)
                .where(User.email == email, Group.slug == slug)
            )
            is True
        )


@pytest.fixture
def company(context, tmp_path):
    result = plein("group", "company")
    assert result.exit_code == 0, result.output
    import_csv(tmp_path, COMPANY)
    result = plein("group", "for-department", "KPN/Consumer")
    assert result.exit_code == 0, result.output
    return context


def test_an_import_adds_everyone_to_the_all_company_group_who_then_follow_it(company):
    assert members(company, "everyone") == {"ceo@example.com", "mona@example.com", "tom@example.com", "fay@example.com"}
    assert follows_group(company, "tom@example.com", "everyone")


def test_a_department_group_takes_the_people_of_the_departments_below_it(company):
    assert members(company, "consumer") == {"mona@example.com", "tom@example.com"}


def test_someone_created_by_hand_joins_the_all_company_group(company):
    with company.session_scope() as session:
        accounts.create_user(session, "new@example.com", "Nieuw")
    assert "new@example.com" in members(company, "everyone")


def test_a_deactivation_takes_them_out_and_a_reactivation_puts_them_back(company):
    assert plein("user", "deactivate", "tom@example.com").exit_code == 0
    assert "tom@example.com" not in members(company, "everyone") | members(company, "consumer")
    assert not follows_group(company, "tom@example.com", "everyone")
    assert plein("user", "reactivate", "tom@example.com").exit_code == 0
    assert "tom@example.com" in members(company, "everyone") & members(company, "consumer")


def test_an_import_that_deactivates_the_missing_takes_them_out(company, tmp_path):
    import_csv(tmp_path, "\n".join(COMPANY.splitlines()[:4]) + "\n", "--deactivate-missing")
    assert "fay@example.com" not in members(company, "everyone")


def test_a_department_move_moves_them_between_department_groups(company, tmp_path):
    assert plein("group", "for-department", "KPN/Finance").exit_code == 0
    import_csv(tmp_path, COMPANY.replace("Engineer", "Controller").replace("KPN/Consumer/Field Service", "KPN/Finance"))
    assert members(company, "consumer") == {"mona@example.com"}
    assert members(company, "finance") == {"tom@example.com", "fay@example.com"}
    assert not follows_group(company, "tom@example.com", "consumer")


def test_a_member_who_muted_the_group_and_is_moved_out_keeps_the_mute_only(company, tmp_path):
    with company.session_scope() as session:
        tom = accounts.get_user(session, "tom@example.com")
        follows.mute(session, tom, groups.get_group(session, "consumer"))
    import_csv(tmp_path, COMPANY.replace("KPN/Consumer/Field Service", "KPN/Finance"))
    with company.session_scope() as session:
        row = session.scalar(
            select(Follow).join(Group, Group.id == Follow.group_id).join(User, User.id == Follow.user_id)
            .where(Group.slug == "consumer", User.email == "tom@example.com")
        )
        assert (row.following, row.muted) == (False, True)


def test_leaving_or_being_removed_by_hand_is_refused_with_the_reason(company):
    with company.session_scope() as session:
        group, tom = groups.get_group(session, "everyone"), accounts.get_user(session, "tom@example.com")
        with pytest.raises(Forbidden, match="follow the directory"):
            groups.remove_member(session, group, tom)
        with pytest.raises(Forbidden, match="follow the directory"):
            groups.add_member(
                session, groups.get_group(session, "consumer"), accounts.get_user(session, "fay@example.com")
            )
    result = plein("group", "remove-member", "everyone", "tom@example.com")
    assert result.exit_code != 0 and "follow the directory" in result.output
    assert "tom@example.com" in members(company, "everyone")


def test_a_member_still_chooses_their_delivery_and_a_moderator_may_be_named(company):
    with company.session_scope() as session:
        tom = accounts.get_user(session, "tom@example.com")
        preferences.set_delivery(session, tom, "everyone", "none")
        groups.set_member(session, groups.get_group(session, "everyone"), tom, role="moderator")
    with company.session_scope() as session:
        membership = session.scalar(
            select(Membership).join(Group).join(User, User.id == Membership.user_id).where(Group.slug == "everyone", User.email == "tom@example.com")
        )
        assert (membership.delivery, membership.is_moderator) == (Delivery.NONE, True)


def test_a_second_import_with_nothing_changed_keeps_the_members_and_their_delivery(company, tmp_path):
    with company.session_scope() as session:
        preferences.set_delivery(session, accounts.get_user(session, "tom@example.com"), "everyone", "weekly")
    import_csv(tmp_path, COMPANY)
    assert len(members(company, "everyone")) == 4
    with company.session_scope() as session:
        delivery = session.scalar(
            select(Membership.delivery)
            .join(Group)
            .join(User, User.id == Membership.user_id)
            .where(Group.slug == "everyone", User.email == "tom@example.com")
        )
        assert delivery == Delivery.WEEKLY


def test_the_cli_commands_refuse_bad_input_clearly(company):
    result = plein("group", "for-department", "KPN/Nowhere")
    assert result.exit_code != 0 and "no department KPN/Nowhere" in result.output
    result = plein("group", "for-department", "KPN/Consumer", "--slug", "consumer-2")
    assert result.exit_code != 0 and "KPN/Consumer has a group already: consumer" in result.output
    assert plein("group", "create", "taken", "--name", "Taken", "--private").exit_code == 0
    result = plein("group", "company", "--slug", "taken")
    assert result.exit_code != 0 and "is not the all-company group" in result.output
    assert members(company, "taken") == set()
    with company.session_scope() as session:
        assert session.scalar(select(Group).where(Group.slug == "consumer-2")) is None


def test_the_company_group_is_made_at_start_with_its_name_in_the_default_language(context, tmp_path, monkeypatch):
    import_csv(tmp_path, COMPANY)
    prepare(context)
    with context.session_scope() as session:
        group = groups.get_group(session, "everyone")
        assert group.follows_everyone and group.name in {"Everyone", "Iedereen"}
    assert len(members(context, "everyone")) == 4
    prepare(context)
    assert len(members(context, "everyone")) == 4


@pytest.mark.parametrize("setting", ["", "Every One"])
def test_an_empty_or_bad_setting_makes_no_company_group_and_start_goes_on(context, setting):
    context.settings.company_group = setting
    with context.session_scope() as session:
        assert directory_groups.ensure_company_group(session) is None
        assert session.scalar(select(Group)) is None


def test_another_group_at_the_company_address_is_never_taken_over(context):
    with context.session_scope() as session:
        groups.create_group(session, "everyone", "Ours", private=True)
    with context.session_scope() as session:
        assert directory_groups.ensure_company_group(session) is None
        with pytest.raises(Conflict):
            directory_groups.make_company_group(session)


def test_slugs_are_made_of_department_names():
    assert directory_groups.slug_for("Field Service") == "field-service"
    assert directory_groups.slug_for("Klantenservice Zuid-Oost") == "klantenservice-zuid-oost"


# On the web.


def department_id(context, path: str) -> int:
    with context.session_scope() as session:
        return session.scalar(select(Department.id).where(Department.path == path))


@pytest.fixture
def admin(company):
    with company.session_scope() as session:
        accounts.set_admin(session, accounts.get_user(session, "ceo@example.com"))
    return signed_in(company, "ceo@example.com")


def test_an_admin_makes_a_private_group_for_a_department_on_its_page(company, admin):
    finance = department_id(company, "KPN/Finance")
    page = admin.get(f"/org/{finance}")
    assert "Make a group for this department" in page.text
    made = admin.post(
        f"/org/{finance}/group",
        data={"csrf": csrf_of(page.text), "name": "Geld", "slug": "geld", "privacy": "private"},
        follow_redirects=False,
    )
    assert (made.status_code, made.headers["location"]) == (303, "/g/geld")
    assert members(company, "geld") == {"fay@example.com"}
    shown = signed_in(company, "fay@example.com").get("/g/geld").text
    assert "Everyone in" in shown and "Leave this group" not in shown


def test_a_second_group_for_a_department_is_refused_on_its_page_and_nothing_is_made(company, admin):
    consumer = department_id(company, "KPN/Consumer")
    page = admin.get(f"/org/{consumer}")
    assert "Make a group for this department" not in page.text and "/g/consumer" in page.text
    with company.session_scope() as session:
        consumer_group = groups.get_group(session, "consumer")
        consumer_group.follows_department_id = None
    refused = admin.post(f"/org/{consumer}/group", data={"csrf": csrf_of(page.text), "slug": "consumer"})
    assert refused.status_code == 409 and "already exists" in refused.text


def test_only_an_admin_makes_a_department_group(company):
    tom = signed_in(company, "tom@example.com")
    finance = department_id(company, "KPN/Finance")
    page = tom.get(f"/org/{finance}")
    assert "Make a group for this department" not in page.text
    refused = tom.post(f"/org/{finance}/group", data={"csrf": csrf_of(page.text), "slug": "sneaky"})
    assert refused.status_code == 403
    assert members(company, "sneaky") == set()


def test_a_private_department_group_leaks_nothing_to_non_members(company):
    assert plein("group", "for-department", "KPN/Finance", "--slug", "secret-finance", "--private").exit_code == 0
    finance = department_id(company, "KPN/Finance")
    tom = signed_in(company, "tom@example.com")
    assert "secret-finance" not in tom.get(f"/org/{finance}").text
    assert tom.get("/g/secret-finance").status_code == 404
    assert "secret-finance" not in tom.get("/groups").text
    fay = signed_in(company, "fay@example.com")
    assert "secret-finance" in fay.get(f"/org/{finance}").text


def test_the_group_page_says_membership_follows_the_directory_in_dutch_too(company):
    with company.session_scope() as session:
        accounts.get_user(session, "tom@example.com").language = "nl"
    page = signed_in(company, "tom@example.com").get("/g/everyone").text
    assert "Iedereen in het bedrijf is lid" in page
    assert "Deze groep verlaten" not in page


def test_people_taken_in_together_get_their_own_default_delivery(context):
    with context.session_scope() as session:
        accounts.create_user(session, "mona@example.com", "Mona").default_delivery = "daily"
    assert plein("group", "company").exit_code == 0
    with context.session_scope() as session:
        delivery = session.scalar(select(Membership.delivery).join(User).where(User.email == "mona@example.com"))
        assert delivery == Delivery.DAILY


def test_leaving_on_the_web_or_being_removed_over_the_api_is_refused(company, admin):
    tom = signed_in(company, "tom@example.com")
    page = tom.get("/g/everyone").text
    left = tom.post("/g/everyone/leave", data={"csrf": csrf_of(page)})
    assert left.status_code == 403 and "follow the directory" in left.text
    with company.session_scope() as session:
        token = accounts.create_api_token(session, accounts.get_user(session, "ceo@example.com"))
    api = TestClient(create_app(company), headers={"Authorization": f"Bearer {token}"})
    removed = api.delete("/api/groups/consumer/members/tom@example.com")
    assert removed.status_code == 403 and "follow the directory" in removed.json()["detail"]
    assert "tom@example.com" in members(company, "everyone") & members(company, "consumer")
