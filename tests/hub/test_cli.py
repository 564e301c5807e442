"""The `plein` commands an admin uses in the first ten minutes, run through click on a real database
(none migrates it but `plein db upgrade`), and `plein check`'s SMTP line against a real server and an empty port."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.models import Membership
from hub.services import accounts, anonymity, groups, health, index_writer, moderation, posts, searching, visibility
from tests.mailgateway.test_smtp import ListSink, running
from tests.support.servers import free_port


def plein(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def company(session):
    """Alice (admin), Mona (moderates engineering), Carol; a public Engineering and a private Board."""
    people = {name: accounts.create_user(session, f"{name}@example.com", name.title())
              for name in ("alice", "mona", "carol")}
    accounts.set_admin(session, people["alice"])
    engineering = groups.create_group(session, "engineering", "Engineering")
    board = groups.create_group(session, "board", "Board", private=True)
    moderation.set_policy(session, board, "moderated")
    for person in people.values():
        groups.add_member(session, engineering, person)
    groups.add_member(session, board, people["alice"])
    moderation.set_moderator(session, engineering, people["mona"])
    session.commit()
    return people


def test_user_list_shows_everyone_by_address_with_admin_and_moderator_marks(company):
    result = plein("user", "list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "alice@example.com\tAlice\tadmin",
        "carol@example.com\tCarol",
        "mona@example.com\tMona\tmoderates engineering",
    ]


def test_user_list_says_so_when_there_are_no_users(data_dir):
    result = plein("user", "list")
    assert result.exit_code == 0 and result.output == "No users\n"


def test_group_list_shows_private_groups_with_their_policy_and_member_count(company):
    result = plein("group", "list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "board\tBoard\tprivate\tposting moderated\t1 member",
        "engineering\tEngineering\tpublic\tposting members\t3 members",
    ]


def test_remove_member_takes_the_membership_and_its_moderator_right(context, company):
    result = plein("group", "remove-member", "engineering", "Mona@Example.com")
    assert result.exit_code == 0 and result.output == "mona@example.com is no longer in engineering\n"
    with context.session_scope() as session:
        mona = accounts.get_user(session, "mona@example.com")
        assert session.query(Membership).filter_by(user_id=mona.id).all() == []
        assert not moderation.is_moderator(session, mona, groups.get_group(session, "engineering"))


def test_remove_member_of_someone_not_in_the_group_is_a_one_line_error(company):
    result = plein("group", "remove-member", "board", "carol@example.com")
    assert result.exit_code == 1
    assert result.output == "Error: carol@example.com is not a member of board\n"


@pytest.mark.parametrize("args, error", [
    (("group", "remove-member", "nope", "carol@example.com"), "Error: no group nope\n"),
    (("group", "remove-member", "board", "nobody@example.com"), "Error: no user with address nobody@example.com\n"),
    (("group", "edit", "nope", "--name", "Nope"), "Error: no group nope\n"),
])
def test_an_unknown_group_or_user_is_a_one_line_error_with_exit_status_1(company, args, error):
    result = plein(*args)
    assert result.exit_code == 1 and result.output == error


def test_group_edit_changes_only_what_is_given(context, company):
    result = plein("group", "edit", "engineering", "--name", "  Engineering  & Ops ", "--policy", "anyone")
    assert result.exit_code == 0
    assert result.output == "engineering is now public: Engineering & Ops, posting anyone, anonymous off\n"
    described = plein("group", "edit", "engineering", "--description", "Netwerk en servers")
    assert described.output == "engineering is now public: Engineering & Ops, posting anyone, anonymous off\n"
    with context.session_scope() as session:
        group = groups.get_group(session, "engineering")
        assert (group.name, group.description, group.posting_policy) == ("Engineering & Ops", "Netwerk en servers", "anyone")
        assert (group.is_private, group.untrusted_mail) == (False, "hold")


def test_group_edit_anonymous_needs_the_hubs_public_key_and_then_takes_off_moderated_or_on(
    context, company, monkeypatch,
):
    refused = plein("group", "edit", "engineering", "--anonymous", "on")
    assert refused.exit_code == 1
    assert refused.output == (
        "Error: Anonymous posting is not set up on this hub: an administrator sets PLEIN_ANONYMOUS_KEY.\n"
    )
    monkeypatch.setenv("PLEIN_ANONYMOUS_KEY", anonymity.new_key_pair()[1])
    moderated = plein("group", "edit", "engineering", "--anonymous", "moderated")
    assert moderated.output == "engineering is now public: Engineering, posting members, anonymous moderated\n"
    assert plein("group", "edit", "engineering", "--anonymous", "maybe").exit_code == 2
    with context.session_scope() as session:
        assert groups.get_group(session, "engineering").anonymous == "moderated"


def test_a_group_made_private_disappears_for_non_members_and_public_again_reappears(context, company):
    made_private = plein("group", "edit", "engineering", "--private")
    assert made_private.output == "engineering is now private: Engineering, posting members, anonymous off\n"
    plein("group", "remove-member", "engineering", "carol@example.com")
    with context.session_scope() as session:
        carol, alice = accounts.get_user(session, "carol@example.com"), accounts.get_user(session, "alice@example.com")
        engineering = groups.get_group(session, "engineering")
        assert not groups.can_see(session, carol, engineering)
        assert groups.can_see(session, alice, engineering)
        assert engineering.id in visibility.group_access(session, carol).hidden
    plein("group", "edit", "engineering", "--public")
    with context.session_scope() as session:
        carol = accounts.get_user(session, "carol@example.com")
        assert "engineering" in [group.slug for group in groups.visible_groups(session, carol)]


def test_making_a_group_private_takes_its_posts_out_of_its_writers_expertise_in_search(context, company):
    context.settings.index_commit_interval = 0
    with context.session_scope() as session:
        mona = accounts.get_user(session, "mona@example.com")
        posts.create_post(session, groups.get_group(session, "engineering"), mona, "Glasvezel in Delft", "#glasvezel")
    index_writer.flush(context)

    def found_by_carol() -> list[str]:
        with context.session_scope() as session:
            page = searching.search(session, accounts.get_user(session, "carol@example.com"), "glasvezel")
            return sorted(f.hit.kind for f in page.results)

    assert found_by_carol() == ["person", "post"]
    plein("group", "remove-member", "engineering", "carol@example.com")
    plein("group", "edit", "engineering", "--private")
    index_writer.flush(context)
    assert found_by_carol() == []


def test_a_group_renamed_is_found_by_its_new_name(context, company):
    context.settings.index_commit_interval = 0
    index_writer.flush(context)
    plein("group", "edit", "engineering", "--name", "Netwerkbeheer")
    index_writer.flush(context)
    with context.session_scope() as session:
        page = searching.search(session, accounts.get_user(session, "carol@example.com"), "netwerkbeheer")
        assert [(f.hit.kind, f.hit.title) for f in page.results] == [("group", "Netwerkbeheer")]


def test_group_edit_without_an_option_is_a_usage_error(company):
    result = plein("group", "edit", "engineering")
    assert result.exit_code == 2 and "say what to change" in result.output


def test_group_edit_refuses_an_empty_name(context, company):
    result = plein("group", "edit", "engineering", "--name", "  ")
    assert result.exit_code == 1 and result.output == "Error: a group's name cannot be empty\n"
    with context.session_scope() as session:
        assert groups.get_group(session, "engineering").name == "Engineering"


def test_the_smtp_check_fails_when_nothing_listens_on_the_port(context):
    port = free_port()
    context.settings.smtp_port = port
    check = health.check_smtp_settings(context.settings)
    assert (check.name, check.ok) == ("smtp", False)
    assert check.detail.startswith(f"nothing answers on 127.0.0.1:{port}: ")


def test_the_smtp_check_passes_when_an_smtp_server_answers(context):
    with running(ListSink(set())) as port:
        context.settings.smtp_port = port
        check = health.check_smtp_settings(context.settings)
    assert (check.name, check.ok) == ("smtp", True)
    assert check.detail == f"groups at @plein.test, answers on 127.0.0.1:{port}, up to 25 MB"


@pytest.fixture
def new_data_dir(tmp_path, monkeypatch):
    """A data directory no `plein db upgrade` has run in."""
    monkeypatch.setenv("PLEIN_DATA_DIR", str(tmp_path / "new"))
    return tmp_path / "new"


@pytest.mark.parametrize("args", [
    ("user", "add", "you@example.com", "--name", "You"), ("group", "list"), ("token", "create", "you@example.com"),
    ("inbound", "list"), ("reindex",),
], ids=" ".join)
def test_an_admin_command_on_a_new_data_directory_says_to_upgrade_and_migrates_nothing(new_data_dir, args):
    result = plein(*args)
    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: Plein's database is not migrated yet, the code needs [0-9, ]+: run plein db upgrade\.\n", result.output
    )
    assert not (new_data_dir / "plein.db").exists()


@pytest.mark.parametrize("args", [(), ("user",), ("user", "add"), ("web",), ("db", "upgrade")], ids=" ".join)
def test_help_needs_no_database(new_data_dir, args):
    result = plein(*args, "--help")
    assert result.exit_code == 0 and "Usage: " in result.output
    assert not (new_data_dir / "plein.db").exists()


def test_plein_db_upgrade_readies_a_new_data_directory_for_admin_commands(new_data_dir):
    assert plein("db", "upgrade").output == "Database is up to date\n"
    assert plein("user", "add", "you@example.com", "--name", "You").output == "Added You <you@example.com>\n"
