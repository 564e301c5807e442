"""The people directory (`/people`, `GET /api/people`), the department tree (`/org`, `GET /api/departments`),
a department's page (`/org/{id}`, by the department's id), and a person's profile over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from hub.context import context_of
from hub.models import Group, User
from hub.services import departments, directory, directory_groups, person_details, profiles
from hub.urls import comment_path, group_path, person_path, post_path
from hub.web.deps import DB, ApiUser, Id, PageUser
from hub.web.pages import render
from hub.web.schemas import Author, Person, ProfileOut

router = APIRouter()

Text = Annotated[str, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=400)]
Letter = Annotated[str, Query(max_length=1)]


class DirectoryPersonOut(Person):
    job_title: str
    department: str
    """The department's path."""
    department_id: int | None
    location: str
    expertise: list[str]
    url: str

    @classmethod
    def of(cls, user: User) -> DirectoryPersonOut:
        return cls(
            name=user.name,
            email=user.email,
            job_title=user.job_title,
            department=user.department,
            department_id=user.department_id,
            location=user.location,
            expertise=profiles.expertise_tags(user.expertise),
            url=context_of(user).url(person_path(user.email)),
        )


class PeopleOut(BaseModel):
    people: list[DirectoryPersonOut]
    next_cursor: str | None
    """Pass as `cursor` for the next page; None on the last."""


class DepartmentOut(BaseModel):
    id: int
    name: str
    path: str
    people: int
    """Active people in it and in every department below it."""
    children: list[DepartmentOut]

    @classmethod
    def of(cls, node: departments.DepartmentNode) -> DepartmentOut:
        return cls(
            id=node.id,
            name=node.name,
            path=node.path,
            people=node.people,
            children=[cls.of(child) for child in node.children],
        )


class GroupRefOut(BaseModel):
    slug: str
    name: str
    url: str

    @classmethod
    def of(cls, group: Group) -> GroupRefOut:
        return cls(slug=group.slug, name=group.name, url=context_of(group).url(group_path(group.slug)))


class ActivityOut(BaseModel):
    kind: str
    """`post` or `comment`."""
    id: int
    post_id: int
    title: str
    snippet: str
    group: str
    """The group's slug."""
    created_at: datetime
    url: str


class PersonDetailsOut(ProfileOut):
    phone: str
    location: str
    languages: list[str]
    department_id: int | None
    manager: Person | None
    reports: list[Person]
    groups: list[GroupRefOut]
    """Only those the caller may see."""
    activity: list[ActivityOut]
    """Their newest posts and comments the caller may see."""


def _filters(
    q: Text = "", department: Text = "", location: Text = "", expertise: Text = "", letter: Letter = ""
) -> directory.Filters:
    """The directory's search and filters, as the page and the API both take them from the query string."""
    return directory.Filters(q=q, department=department, location=location, expertise=expertise, letter=letter)


Filtered = Annotated[directory.Filters, Depends(_filters)]


@router.get("/api/people")
def api_people(session: DB, user: ApiUser, filters: Filtered, cursor: Cursor = None) -> PeopleOut:
    """Everyone still with the company, A to Z, by search and filters; `department` is a path and takes the
    departments below it too. 400 for a bad letter or cursor, 404 for an unknown department."""
    page = directory.people_page(session, filters, cursor)
    return PeopleOut(people=[DirectoryPersonOut.of(p) for p in page.people], next_cursor=page.next_cursor)


@router.get("/people")
def people_page(
    request: Request, session: DB, user: PageUser, filters: Filtered, cursor: Cursor = None
) -> HTMLResponse:
    return render(
        request,
        "people.html",
        user=user,
        filters=filters,
        page=directory.people_page(session, filters, cursor),
        locations=directory.locations(session),
        letters=directory.LETTERS,
        cursor=cursor,
    )


@router.get("/api/departments")
def api_departments(session: DB, user: ApiUser) -> list[DepartmentOut]:
    """The department tree: the departments at the top, each with the ones below it."""
    return [DepartmentOut.of(node) for node in departments.department_tree(session)]


@router.get("/org")
def org_page(request: Request, session: DB, user: PageUser) -> HTMLResponse:
    return render(request, "org.html", user=user, tree=departments.department_tree(session))


@router.get("/org/{department_id}")
def department_page(request: Request, department_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    page = departments.department_page(session, user, department_id)
    groups = directory_groups.department_groups(session, user, page.department)
    return render(request, "department.html", user=user, page=page, department_groups=groups)


@router.get("/api/people/{email}")
def api_person(email: str, session: DB, user: ApiUser) -> PersonDetailsOut:
    """A profile, with where they stand, their groups and their newest posts and comments (those the caller may
    see)."""
    person = person_details.get_person(session, user, email)
    details = person_details.person_details(session, user, person)
    url = context_of(session).url
    return PersonDetailsOut(
        **ProfileOut.of(person).model_dump(),
        phone=person.phone,
        location=person.location,
        languages=[part.strip() for part in person.languages.split(",") if part.strip()],
        department_id=person.department_id,
        manager=Author.of(details.manager) if details.manager else None,
        reports=[Author.of(report) for report in details.reports],
        groups=[GroupRefOut.of(group) for group in details.groups],
        activity=[
            ActivityOut(
                kind=a.kind,
                id=a.id,
                post_id=a.post_id,
                title=a.title,
                snippet=a.snippet,
                group=a.group.slug,
                created_at=a.created_at,
                url=url(post_path(a.post_id) if a.kind == "post" else comment_path(a.post_id, a.id)),
            )
            for a in details.activity
        ],
    )
