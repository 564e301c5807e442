"""Bringing everyone in: one batch of people, from a CSV file or the directory server, applied at once.

Both sources hand `apply_records` a list of `PersonRecord`s; it creates or updates each person by
their address, makes the departments they work in, and links each to their manager once all of
them exist. A record that cannot be taken (a bad address, an address twice, an unknown manager, a
manager loop) is rejected with its reason and writes nothing of itself; the others go on. The
caller owns the transaction.

It is built for 30,000 people: everyone and every department is loaded once, up front, and each
record is compared in memory, so a run where nothing changed writes nothing.

`deactivate_missing` deactivates the active people the batch does not name, except
administrators: they run Plein, are often not in the HR file or the directory, and deactivating
them would lock out the people who can put it right. Someone deactivated who is in a batch
again is active again. After each batch the groups that follow the directory take in and let go of
people (`hub.services.directory_members`).
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Department, User
from hub.services import accounts, directory_members, indexing, organisation
from hub.services.accounts import normalize_email
from hub.services.errors import Invalid, PleinError
from hub.services.profiles import MAX_LINE, MAX_TAGS, expertise_tags

CSV_COLUMNS = ("email", "name", "department", "title", "manager", "phone", "location", "expertise")
EXPERTISE_SEPARATOR = ";"
MAX_NAME = 200
MAX_PHONE = 64


@dataclass(frozen=True)
class PersonRecord:
    email: str
    name: str
    department: str = ""
    """A path from the top: `KPN/Consumer/Field Service`."""
    title: str = ""
    manager: str = ""
    """The manager's address; empty for none."""
    phone: str = ""
    location: str = ""
    expertise: tuple[str, ...] = ()
    where: str = ""
    """Where the record came from, for the report: `line 7`, or a directory entry's DN."""
    problem: PleinError | None = None
    """Why the source could not read it whole (a CSV line with too few fields): it is rejected for that."""


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass
class RecordResult:
    record: PersonRecord
    outcome: Outcome
    reason: PleinError | None = None
    email: str = ""
    """The normalised address, once it is known to be one."""


@dataclass
class SyncReport:
    results: list[RecordResult]
    deactivated: list[str] = field(default_factory=list)
    """Addresses of the people deactivated because the batch did not name them."""
    kept_admins: list[str] = field(default_factory=list)
    """Administrators the batch did not name, left active (see the module's docstring)."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)

    @property
    def rejected(self) -> list[RecordResult]:
        return [result for result in self.results if result.outcome is Outcome.REJECTED]


def read_csv(lines: Iterable[str]) -> list[PersonRecord]:
    """The records of a CSV file with exactly the columns `CSV_COLUMNS`, each named by its line; Invalid
    for another header. A line with too many or too few fields is a record with its problem."""
    rows = csv.reader(lines)
    header = next(rows, None)
    if header is None or [column.strip().lower() for column in header] != list(CSV_COLUMNS):
        raise Invalid(
            "line 1: the columns must be exactly %(expected)s, not %(found)s",
            expected=",".join(CSV_COLUMNS),
            found=",".join(header or []) or "nothing",
        )
    return list(_records(rows))


def _records(rows: Iterator[list[str]]) -> Iterator[PersonRecord]:
    line = rows.line_num
    for row in rows:
        where, line = f"line {line + 1}", rows.line_num
        if not any(field.strip() for field in row):
            continue
        problem = None
        if len(row) != len(CSV_COLUMNS):
            problem = Invalid(
                "%(found)s fields where %(expected)s were expected", found=len(row), expected=len(CSV_COLUMNS)
            )
            row = (row + [""] * len(CSV_COLUMNS))[: len(CSV_COLUMNS)]
        email, name, department, title, manager, phone, location, expertise = row
        yield PersonRecord(
            email=email,
            name=name,
            department=department,
            title=title,
            manager=manager,
            phone=phone,
            location=location,
            expertise=tuple(expertise.split(EXPERTISE_SEPARATOR)),
            where=where,
            problem=problem,
        )


@dataclass(frozen=True)
class _Wanted:
    """A record as the columns of `User` it sets (the manager as an address, the department as a path)."""

    name: str
    department: str
    job_title: str
    manager: str
    phone: str
    location: str
    expertise: str


def apply_records(
    session: Session,
    records: Sequence[PersonRecord],
    *,
    deactivate_missing: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Create, update or reject each of `records` and, when asked, deactivate the people they leave out.

    With `dry_run` the report says what would happen and nothing is written. `progress` is told, now
    and then, how many records were handled so far.
    """
    # Plain rows of what an import compares: a second run that changes no one makes no objects of everyone.
    people = {row.email: row for row in session.execute(select(*_COMPARED))}
    by_id = {row.id: row for row in people.values()}
    paths = dict(session.execute(select(Department.id, Department.path)).tuples().all())
    results = [RecordResult(record, Outcome.UNCHANGED) for record in records]
    wanted: dict[str, _Wanted] = {}
    first_seen: dict[str, str] = {}
    named: set[str] = set()
    for result in results:
        try:
            result.email = normalize_email(result.record.email)
            named.add(result.email)  # a rejected line still names its person: a typo deactivates nobody
            if result.record.problem:
                raise result.record.problem
            if result.email in first_seen:
                raise Invalid("%(email)s is also on %(where)s", email=result.email, where=first_seen[result.email])
            first_seen[result.email] = result.record.where
            wanted[result.email] = _wanted(result.record)
        except PleinError as error:
            _reject(result, error)
    _reject_unknown_managers_and_loops(results, wanted, people, by_id)

    taken = [result for result in results if result.outcome is not Outcome.REJECTED]
    for result in taken:
        user = people.get(result.email)
        if user is None:
            result.outcome = Outcome.CREATED
        elif user.deactivated_at is not None or _current(user, paths, by_id) != wanted[result.email]:
            result.outcome = Outcome.UPDATED
    report = SyncReport(results)
    if deactivate_missing:
        for email, user in sorted(people.items()):
            if user.deactivated_at is None and email not in named:
                (report.kept_admins if user.is_admin else report.deactivated).append(email)
    if not dry_run:
        _write(session, taken, wanted, people, report.deactivated, progress)
    if progress:
        progress(len(records))
    return report


_COMPARED = (
    User.id,
    User.email,
    User.name,
    User.department,
    User.department_id,
    User.job_title,
    User.manager_id,
    User.phone,
    User.location,
    User.expertise,
    User.deactivated_at,
    User.is_admin,
)


def _reject(result: RecordResult, reason: PleinError) -> None:
    result.outcome, result.reason = Outcome.REJECTED, reason


def _tidy(text: str, limit: int, column: str) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        raise Invalid("the column %(column)s is longer than %(limit)s characters", column=column, limit=limit)
    return text


def _wanted(record: PersonRecord) -> _Wanted:
    name = _tidy(record.name, MAX_NAME, "name")
    if not name:
        raise Invalid("a name is required")
    department = organisation.SEPARATOR.join(organisation.split_path(record.department))
    tags = expertise_tags(",".join(record.expertise))
    if len(tags) > MAX_TAGS or any(len(tag) > 50 for tag in tags):
        raise Invalid("at most %(max_tags)s expertise tags of at most 50 characters each", max_tags=MAX_TAGS)
    manager = record.manager.strip()
    try:
        manager = normalize_email(manager) if manager else ""
    except Invalid:
        raise Invalid("the manager %(manager)s is not an email address", manager=repr(manager)) from None
    return _Wanted(
        name=name,
        department=_tidy(department, MAX_LINE, "department"),
        job_title=_tidy(record.title, MAX_LINE, "title"),
        manager=manager,
        phone=_tidy(record.phone, MAX_PHONE, "phone"),
        location=_tidy(record.location, MAX_LINE, "location"),
        expertise=", ".join(tags),
    )


def _current(user, paths: dict[int, str], by_id: dict[int, User]) -> _Wanted:
    """What `user` has now, in the shape of a record; a department whose text and place in the tree
    disagree never equals a record's."""
    manager = by_id.get(user.manager_id) if user.manager_id else None
    department = paths.get(user.department_id, "") if user.department_id else ""
    return _Wanted(
        name=user.name,
        department=department if department == user.department else "\0",
        job_title=user.job_title,
        manager=manager.email if manager else "",
        phone=user.phone,
        location=user.location,
        expertise=user.expertise,
    )


def _reject_unknown_managers_and_loops(
    results: list[RecordResult], wanted: dict[str, _Wanted], people: dict, by_id: dict
) -> None:
    """Reject the records whose manager is nobody, and those on a loop of managers, until none is left.

    A rejected record keeps what its person has now, so rejecting one can leave another's manager
    unknown (a new person's) or close a loop through the database: hence the repetition.
    """
    taken = {result.email: result for result in results if result.outcome is not Outcome.REJECTED}
    managers_now = {email: by_id[user.manager_id].email for email, user in people.items() if user.manager_id in by_id}
    while True:
        unknown = [
            email
            for email in taken
            if (manager := wanted[email].manager) and manager not in taken and manager not in people
        ]
        for email in unknown:
            _reject(taken.pop(email), Invalid("unknown manager %(manager)s", manager=wanted[email].manager))
        if unknown:
            continue
        managers = {**managers_now, **{email: wanted[email].manager for email in taken}}
        on_loops = False
        for loop in _loops(managers):
            for place, email in enumerate(loop):
                if email in taken:
                    described = " -> ".join([*loop[place:], *loop[: place + 1]])
                    _reject(taken.pop(email), Invalid("manager loop: %(loop)s", loop=described))
                    on_loops = True
        if not on_loops:
            return


def _loops(managers: dict[str, str]) -> list[list[str]]:
    """Each loop in who-reports-to-whom, as the people on it in order; everyone has at most one manager."""
    walked_from: dict[str, str] = {}
    loops = []
    for start in managers:
        path: list[str] = []
        person = start
        while person and person not in walked_from:
            walked_from[person] = start
            path.append(person)
            person = managers.get(person, "")
        if person and walked_from[person] == start:
            loops.append(path[path.index(person) :])
    return loops


def _write(
    session: Session,
    taken: Iterable[RecordResult],
    wanted: dict[str, _Wanted],
    people: dict,
    deactivated: list[str],
    progress: Callable[[int], None] | None,
) -> None:
    """Write the changes; `people` holds rows of those there were, and is given the objects of those written."""
    changes = [result for result in taken if result.outcome is not Outcome.UNCHANGED]
    written = [people[r.email].id for r in changes if r.email in people] + [people[e].id for e in deactivated]
    for start in range(0, len(written), 500):
        for user in session.scalars(select(User).where(User.id.in_(written[start : start + 500]))):
            people[user.email] = user
    departments = organisation.departments_for_paths(session, {wanted[result.email].department for result in changes})
    settings = context_of(session).settings
    changed: list[User] = []
    for handled, result in enumerate(changes, 1):
        want = wanted[result.email]
        user = people.get(result.email)
        if user is None:
            user = people[result.email] = User(
                email=result.email,
                timezone=settings.timezone,
                digest_hour=settings.digest_hour,
                digest_weekday=settings.digest_weekday,
                language=settings.default_language,
            )
            session.add(user)
        department = departments.get(want.department)
        user.name, user.department, user.department_id = want.name, want.department, department and department.id
        user.job_title, user.phone, user.location = want.job_title, want.phone, want.location
        user.expertise = want.expertise
        user.deactivated_at = None
        changed.append(user)
        if progress and handled % 1000 == 0:
            progress(handled)
    session.flush()  # everyone has an id: now their managers can be linked
    for user in changed:
        manager = wanted[user.email].manager
        user.manager_id = people[manager].id if manager else None
    for email in deactivated:  # signed out and tokens gone, as `plein user deactivate` does
        changed.append(accounts.deactivate(session, people[email]))
    directory_members.keep_in_step(session)
    indexing.mark_many(session, "person", (user.id for user in changed))
