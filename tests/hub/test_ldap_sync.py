"""`plein people sync-ldap` against a real OpenLDAP (tests/support/slapd.py): people under ous, managers as DNs."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hub.cli import main
from hub.models import Department, User
from hub.services import accounts, ldap_directory
from hub.services.errors import Invalid
from hub.settings import Settings
from tests.support.servers import free_port
from tests.support.slapd import ADMIN_DN, PASSWORD, SUFFIX, Slapd


def entry(uid: str, name: str, ou: str, manager: str = "", **more: str) -> str:
    lines = [
        f"dn: uid={uid},{ou},{SUFFIX}", "objectClass: inetOrgPerson", f"uid: {uid}", f"cn: {name}",
        f"sn: {name.split()[-1]}", f"mail: {uid}@example.com",
    ]
    if manager:
        lines.append(f"manager: uid={manager},ou=People,{SUFFIX}" if "=" not in manager else f"manager: {manager}")
    lines += [f"{attribute}: {value}" for attribute, value in more.items()]
    return "\n".join(lines) + "\n\n"


def unit(ou: str) -> str:
    name = ou.split(",")[0].removeprefix("ou=")
    return f"dn: {ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {name}\n\n"


FIELD = "ou=Field Service,ou=Consumer,ou=People"
DIRECTORY = (
    f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
    + unit("ou=People") + unit("ou=Consumer,ou=People") + unit(FIELD)
    + entry("ceo", "Carla Ceo", "ou=People", title="Chief executive", telephoneNumber="+31 70 000 0001", l="Den Haag")
    + entry("mona", "Mona Manager", FIELD, manager="ceo", title="Team lead", l="Utrecht")
    + entry("tom", "Tom Tech", FIELD, manager=f"uid=mona,{FIELD},{SUFFIX}", departmentNumber="KPN/Consumer/Glas")
)


@pytest.fixture
def slapd():
    server = Slapd(DIRECTORY)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def directory(slapd, monkeypatch):
    for name, value in {
        "URL": slapd.url, "BIND_DN": ADMIN_DN, "PASSWORD": PASSWORD, "BASE_DN": f"ou=People,{SUFFIX}",
    }.items():
        monkeypatch.setenv(f"PLEIN_LDAP_{name}", value)
    return slapd


def plein(*args: str):
    return CliRunner().invoke(main, list(args))


def everyone(context) -> dict[str, tuple]:
    with context.session_scope() as session:
        by_id = {user.id: user for user in session.scalars(select(User))}
        return {
            user.email: (
                user.name, user.department, user.job_title, by_id[user.manager_id].email if user.manager_id else "",
                user.location, user.deactivated_at is not None,
            )
            for user in by_id.values()
        }


def test_sync_creates_people_with_departments_from_their_ous_and_managers_from_their_dns(context, directory):
    result = plein("people", "sync-ldap")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "3 created, 0 updated, 0 unchanged, 0 rejected, 0 deactivated"
    assert everyone(context) == {
        "ceo@example.com": ("Carla Ceo", "People", "Chief executive", "", "Den Haag", False),
        "mona@example.com": ("Mona Manager", "People/Consumer/Field Service", "Team lead", "ceo@example.com", "Utrecht", False),
        "tom@example.com": ("Tom Tech", "KPN/Consumer/Glas", "", "mona@example.com", "", False),
    }
    with context.session_scope() as session:
        assert "People/Consumer" in set(session.scalars(select(Department.path)))
        assert accounts.get_user(session, "ceo@example.com").phone == "+31 70 000 0001"


def test_a_second_sync_changes_nothing_and_one_after_a_change_updates_and_deactivates(context, directory):
    plein("people", "sync-ldap")
    assert plein("people", "sync-ldap").stdout.splitlines()[-1] == (
        "0 created, 0 updated, 3 unchanged, 0 rejected, 0 deactivated"
    )
    directory.modify(
        f"dn: uid=tom,{FIELD},{SUFFIX}\nchangetype: delete\n\n"
        f"dn: uid=mona,{FIELD},{SUFFIX}\nchangetype: modify\nreplace: title\ntitle: Head of field service\n\n"
    )
    result = plein("people", "sync-ldap")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "0 created, 1 updated, 1 unchanged, 0 rejected, 1 deactivated"
    found = everyone(context)
    assert found["tom@example.com"][-1] is True and found["mona@example.com"][2] == "Head of field service"


def test_a_schema_setting_maps_other_attributes(context, directory, monkeypatch):
    monkeypatch.setenv("PLEIN_LDAP_ATTRIBUTES", "department=ou,location=title,expertise=description")
    directory.modify(
        f"dn: uid=ceo,ou=People,{SUFFIX}\nchangetype: modify\nadd: description\ndescription: strategy\n"
        "description: finance\n\n"
    )
    assert plein("people", "sync-ldap").exit_code == 0
    with context.session_scope() as session:
        ceo = accounts.get_user(session, "ceo@example.com")
        assert (ceo.department, ceo.location, ceo.expertise) == ("", "Chief executive", "strategy, finance")


def test_a_directory_that_is_down_is_one_line_and_changes_nothing(context, monkeypatch, tmp_path):
    with context.session_scope() as session:
        accounts.create_user(session, "old@example.com", "Old Timer")
    monkeypatch.setenv("PLEIN_LDAP_URL", f"ldap://127.0.0.1:{free_port()}")
    monkeypatch.setenv("PLEIN_LDAP_BASE_DN", SUFFIX)
    result = plein("people", "sync-ldap")
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1
    assert result.output.startswith("Error: the directory server ldap://127.0.0.1:")
    assert "could not be read, nothing was changed" in result.output
    assert everyone(context)["old@example.com"][-1] is False


def test_a_wrong_password_is_one_line_and_changes_nothing(context, directory, monkeypatch):
    monkeypatch.setenv("PLEIN_LDAP_PASSWORD", "wrong")
    result = plein("people", "sync-ldap")
    assert result.exit_code == 1 and "could not be read, nothing was changed" in result.output
    assert everyone(context) == {}


def test_a_filter_that_finds_nobody_deactivates_nobody(context, directory, monkeypatch):
    plein("people", "sync-ldap")
    monkeypatch.setenv("PLEIN_LDAP_FILTER", "(uid=nobody)")
    result = plein("people", "sync-ldap")
    assert result.exit_code == 1 and "found nobody" in result.output
    assert not any(person[-1] for person in everyone(context).values())


def test_an_unknown_field_in_the_attribute_map_is_refused():
    with pytest.raises(Invalid, match="'shoe' is not one of"):
        ldap_directory.attribute_map(Settings(ldap_attributes="shoe=shoeSize"))


def test_active_directory_defaults_read_display_name_department_and_office():
    mapping = ldap_directory.attribute_map(Settings(ldap_schema="ad"))
    assert mapping["name"][0] == "displayName" and mapping["department"] == ("department",)
    assert mapping["location"] == ("physicalDeliveryOfficeName",)


def test_the_search_reads_every_page(context, directory, monkeypatch):
    monkeypatch.setattr(ldap_directory, "PAGE_SIZE", 1)
    assert plein("people", "sync-ldap").stdout.splitlines()[-1].startswith("3 created")


@pytest.mark.parametrize("url, schedule", [("", None), ("ldap://ldap.example.com", 900.0)])
def test_beat_runs_the_sync_every_few_minutes_only_when_a_directory_is_set(data_dir, url, schedule):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "PLEIN_LDAP_URL": url, "PLEIN_LDAP_SYNC_MINUTES": "15"}
    shown = subprocess.run(
        [sys.executable, "-c", "import json; from workers.app import app;"
         "print(json.dumps(app.conf.beat_schedule.get('sync-ldap')))"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert json.loads(shown) == (schedule and {"task": "plein.people.sync_ldap", "schedule": schedule})


def test_the_beat_task_syncs_the_directory(data_dir, directory, monkeypatch):
    from tests.support.hub import hub_context
    from workers import tasks

    built = hub_context(data_dir, ldap_url=directory.url, ldap_bind_dn=ADMIN_DN, ldap_password=PASSWORD,
                        ldap_base_dn=f"ou=People,{SUFFIX}")
    monkeypatch.setattr(tasks, "context", built)  # the worker's own, built from the environment at import
    try:
        tasks.sync_ldap.apply()
        assert set(everyone(built)) == {"ceo@example.com", "mona@example.com", "tom@example.com"}
    finally:
        built.close()


def test_a_manager_outside_the_search_rejects_that_entry_only(context, directory):
    directory.modify(
        f"dn: uid=tom,{FIELD},{SUFFIX}\nchangetype: modify\nreplace: manager\nmanager: uid=ghost,ou=Gone,{SUFFIX}\n\n"
    )
    result = plein("people", "sync-ldap")
    assert result.exit_code == 1
    assert (
        f"uid=tom,{FIELD},{SUFFIX}\ttom@example.com\trejected: the manager 'uid=ghost,ou=Gone,{SUFFIX}' is not an email"
        " address" in result.stdout.splitlines()
    )
    assert set(everyone(context)) == {"ceo@example.com", "mona@example.com"}
