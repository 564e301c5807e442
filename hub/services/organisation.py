"""The department tree: departments are found and made by their path from the top
(`KPN/Consumer/Field Service`), each level a department of its own."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Department
from hub.services.errors import Invalid

SEPARATOR = "/"
MAX_DEPTH = 20


def split_path(path: str) -> list[str]:
    """The names along `path`, each with its spaces tidied; Invalid for an empty level or a tree too deep."""
    names = [" ".join(name.split()) for name in path.split(SEPARATOR)]
    if not path.strip():
        return []
    if any(not name for name in names):
        raise Invalid("%(path)s has an empty department name", path=repr(path))
    if len(names) > MAX_DEPTH:
        raise Invalid("%(path)s is deeper than %(depth)s levels", path=repr(path), depth=MAX_DEPTH)
    return names


def department_for_path(session: Session, path: str) -> Department | None:
    """The department at `path`, made with every level above it that does not exist yet; None for an empty path."""
    department = None
    walked: list[str] = []
    for name in split_path(path):
        walked.append(name)
        full = SEPARATOR.join(walked)
        found = session.scalar(select(Department).where(Department.path == full))
        if found is None:
            found = Department(name=name, path=full, parent=department)
            session.add(found)
            session.flush()
        department = found
    return department


def departments_for_paths(session: Session, paths: Iterable[str]) -> dict[str, Department]:
    """The department at each of `paths`, as `department_for_path` finds or makes it, for a whole import at once:
    the tree is read in one query and what is missing is added with one flush."""
    wanted = {SEPARATOR.join(split_path(path)) for path in paths} - {""}
    found = {department.path: department for department in session.scalars(select(Department))}
    for path in sorted(wanted - found.keys()):
        parent = None
        walked: list[str] = []
        for name in split_path(path):
            walked.append(name)
            full = SEPARATOR.join(walked)
            if full not in found:
                found[full] = Department(name=name, path=full, parent=parent)
                session.add(found[full])
            parent = found[full]
    session.flush()
    return {path: found[path] for path in wanted}
