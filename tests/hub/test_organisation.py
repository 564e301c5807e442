"""The department tree (issue 18): a path makes every level it names, once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.models import Department
from hub.services.errors import Invalid
from hub.services.organisation import department_for_path, departments_for_paths


def test_a_path_makes_each_level_once_and_finds_it_again(session):
    field = department_for_path(session, "KPN / Consumer/Field  Service")
    assert (field.name, field.path, field.parent.path, field.parent.parent.parent) == (
        "Field Service",
        "KPN/Consumer/Field Service",
        "KPN/Consumer",
        None,
    )
    assert department_for_path(session, "KPN/Consumer").children == [field]
    assert department_for_path(session, "KPN/Consumer/Field Service") is field
    assert session.scalar(select(func.count(Department.id))) == 3


def test_an_empty_path_is_no_department_and_an_empty_level_is_refused(session):
    assert department_for_path(session, "  ") is None
    with pytest.raises(Invalid):
        department_for_path(session, "KPN//Consumer")


def test_departments_for_many_paths_make_each_level_once_and_find_what_exists(session):
    existing = department_for_path(session, "KPN/Consumer")
    found = departments_for_paths(session, ["KPN/Consumer/Field Service", "KPN/ Consumer ", "KPN/Business/Sales", ""])
    assert set(found) == {"KPN/Consumer/Field Service", "KPN/Consumer", "KPN/Business/Sales"}
    assert found["KPN/Consumer"] is existing and found["KPN/Consumer/Field Service"].parent is existing
    assert found["KPN/Business/Sales"].parent.parent is existing.parent
    assert session.scalar(select(func.count()).select_from(Department)) == 5
