"""What colleagues find a person by: department, job title, bio and expertise tags, and how to reach
them: phone, location and the languages they speak.

A change is marked for the index in the same transaction (`indexing.mark`), so the
profile page, `plein user add` and search agree within seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hub.models import User
from hub.services import indexing
from hub.services.errors import Invalid

MAX_LINE = 200
MAX_BIO = 5000
MAX_TAGS = 30
MAX_PHONE = 64
PHONE = re.compile(r"\+?[0-9 ()./-]*")


@dataclass(frozen=True)
class ProfileForm:
    department: str = ""
    job_title: str = ""
    bio: str = ""
    expertise: str = ""
    """Comma-separated tags."""
    phone: str | None = None
    location: str | None = None
    languages: str | None = None
    """Comma-separated. None, for these three, leaves what the person has."""


def expertise_tags(expertise: str) -> list[str]:
    """`"Glasvezel, #modems,  ,glasvezel"` as `["glasvezel", "modems"]`: lower case, once each."""
    seen: dict[str, None] = {}
    for tag in expertise.split(","):
        tag = " ".join(tag.strip().lstrip("#").split()).lower()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def update_profile(session: Session, user: User, form: ProfileForm) -> User:
    department, job_title = " ".join(form.department.split()), " ".join(form.job_title.split())
    if len(department) > MAX_LINE or len(job_title) > MAX_LINE:
        raise Invalid("department and job title are at most %(max_line)s characters", max_line=MAX_LINE)
    bio = form.bio.strip()
    if len(bio) > MAX_BIO:
        raise Invalid("the bio is at most %(max_bio)s characters", max_bio=MAX_BIO)
    tags = expertise_tags(form.expertise)
    if len(tags) > MAX_TAGS or any(len(tag) > 50 for tag in tags):
        raise Invalid("at most %(max_tags)s expertise tags of at most 50 characters each", max_tags=MAX_TAGS)
    phone = user.phone if form.phone is None else _phone(form.phone)
    location = user.location if form.location is None else _line(form.location)
    languages = (
        user.languages
        if form.languages is None
        else _line(", ".join(" ".join(part.split()) for part in form.languages.split(",") if part.strip()))
    )
    user.department, user.job_title, user.bio, user.expertise = department, job_title, bio, ", ".join(tags)
    user.phone, user.location, user.languages = phone, location, languages
    session.flush()
    indexing.mark(session, "person", user.id)
    return user


def _phone(phone: str) -> str:
    phone = " ".join(phone.split())
    if len(phone) > MAX_PHONE or not PHONE.fullmatch(phone):
        raise Invalid("a phone number is at most %(max_phone)s digits, spaces and + ( ) . / -", max_phone=MAX_PHONE)
    return phone


def _line(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_LINE:
        raise Invalid("location and languages are at most %(max_line)s characters", max_line=MAX_LINE)
    return text
