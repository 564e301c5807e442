"""What colleagues find a person by: department, job title, bio and expertise tags.

A change is marked for the index in the same transaction (`indexing.mark`), so the
profile page, `plein user add` and search agree within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from hub.models import User
from hub.services import indexing
from hub.services.errors import Invalid

MAX_LINE = 200
MAX_BIO = 5000
MAX_TAGS = 30


@dataclass(frozen=True)
class ProfileForm:
    department: str = ""
    job_title: str = ""
    bio: str = ""
    expertise: str = ""
    """Comma-separated tags."""


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
    user.department, user.job_title, user.bio, user.expertise = department, job_title, bio, ", ".join(tags)
    session.flush()
    indexing.mark(session, "person", user.id)
    return user
