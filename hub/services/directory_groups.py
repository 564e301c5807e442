"""Making the groups whose membership follows the directory: the all-company group and department groups.

The all-company group has the address `PLEIN_COMPANY_GROUP` (empty for none); Plein makes it when it
starts (`ensure_company_group`) or an admin does with `plein group company`. An admin makes a group for
a department with `plein group for-department PATH` or on the department's page; a department has at
most one. Only admins make them (the edges check), and they have no owner: admins manage them, and
who is in them is `hub.services.directory_members`.

A group already at the company group's address that does not follow everyone is never taken over:
making it the company group would show a private group's history to everyone.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.locale import N_
from hub.models import Department, Group, User
from hub.services import directory_members, groups
from hub.services.errors import Conflict, Invalid, NotFound
from hub.services.visibility import visible_groups_query

log = logging.getLogger(__name__)

COMPANY_GROUP_NAME = N_("Everyone")


def make_company_group(session: Session, slug: str = "", name: str = "") -> Group:
    """The all-company group at `slug` (`PLEIN_COMPANY_GROUP` when empty), made if it does not exist yet,
    with every active person in it."""
    settings = context_of(session).settings
    slug = (slug or settings.company_group).strip().lower()
    if not slug:
        raise Invalid("PLEIN_COMPANY_GROUP is empty: give the address of the all-company group")
    group = session.scalar(select(Group).where(Group.slug == slug))
    if group is not None and not group.follows_everyone:
        raise Conflict(
            "a group %(slug)s already exists and is not the all-company group: choose another address", slug=slug
        )
    if group is None:
        if not name.strip():
            name = context_of(session).catalogue.translator(settings.default_language).gettext(COMPANY_GROUP_NAME)
        group = groups.create_group(session, slug, name)
        group.follows_everyone = True
    directory_members.keep_in_step(session, [group])
    return group


def ensure_company_group(session: Session) -> Group | None:
    """At start: the all-company group made or brought in step, unless `PLEIN_COMPANY_GROUP` is empty, not an
    address, or another group's (said in the log: Plein starts all the same)."""
    if not context_of(session).settings.company_group.strip():
        return None
    try:
        return make_company_group(session)
    except (Conflict, Invalid) as error:
        log.warning("no all-company group: %s", error)
        return None


def find_department(session: Session, path: str) -> Department:
    department = session.scalar(select(Department).where(Department.path == path.strip().strip("/")))
    if department is None:
        raise NotFound("no department %(path)s", path=path)
    return department


def make_department_group(
    session: Session, department: Department, *, slug: str = "", name: str = "", private: bool = False
) -> Group:
    """A group whose members are the active people of `department` and of the departments below it."""
    taken = session.scalar(select(Group.slug).where(Group.follows_department_id == department.id))
    if taken is not None:
        raise Conflict("%(path)s has a group already: %(slug)s", path=department.path, slug=taken)
    slug = slug.strip() or slug_for(department.name)
    group = groups.create_group(session, slug, name.strip() or department.name, private=private)
    group.follows_department_id = department.id
    directory_members.keep_in_step(session, [group])
    return group


def slug_for(name: str) -> str:
    """A group address made of a department's name: `Field Service` is `field-service`.

    >>> slug_for("Klantenservice Noord & Zuid")
    'klantenservice-noord-zuid'
    """
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:64].strip("-")
    if not slug:
        raise Invalid("%(name)s gives no group address: choose one", name=repr(name))
    return slug


def department_groups(session: Session, user: User, department: Department) -> list[Group]:
    """The groups that follow `department` and that `user` may see."""
    return list(
        session.scalars(
            visible_groups_query(user).where(Group.follows_department_id == department.id).order_by(Group.name)
        )
    )
