"""How a person wants their mail: delivery per group, digest time and language, reply notices, receipts.

The web preferences page and the API both change these through here, so the rules (a known
time zone, an hour 0-23, a delivery Plein knows) are checked in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.locale import LANGUAGES as SPOKEN
from hub.locale import language_name
from hub.models import Delivery, Group, Membership, User
from hub.services.errors import Invalid, NotFound

LANGUAGES = {language: language_name(language) for language in SPOKEN}
"""Each language Plein speaks, by its own name; one per catalogue in hub/locale."""


@lru_cache
def timezones() -> list[str]:
    return sorted(name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/")))


@dataclass(frozen=True)
class MailSettings:
    timezone: str
    digest_hour: int
    digest_weekday: int
    language: str
    notify_replies: bool
    default_delivery: str = Delivery.EACH.value
    """For groups the person joins themselves."""
    receipts: bool = True
    """A receipt for each post and comment the person sends by mail (hub.services.receipts)."""


def settings_of(user: User) -> MailSettings:
    return MailSettings(
        user.timezone, user.digest_hour, user.digest_weekday, user.language, user.notify_replies, user.default_delivery,
        user.receipts,
    )


def update_settings(session: Session, user: User, wanted: MailSettings) -> User:
    try:
        ZoneInfo(wanted.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            "%(zone)s is not a time zone Plein knows, such as Europe/Amsterdam", zone=repr(wanted.timezone)
        ) from None
    if not 0 <= wanted.digest_hour <= 23:
        raise Invalid("the digest hour is a whole hour from 0 to 23")
    if not 0 <= wanted.digest_weekday <= 6:
        raise Invalid("the weekly digest day is 0 (Monday) to 6 (Sunday)")
    _check_language(wanted.language)
    if wanted.default_delivery not in {d.value for d in Delivery}:
        raise Invalid("default delivery must be one of %(choices)s", choices=", ".join(d.value for d in Delivery))
    user.timezone = wanted.timezone
    user.digest_hour = wanted.digest_hour
    user.digest_weekday = wanted.digest_weekday
    user.language = wanted.language
    user.notify_replies = wanted.notify_replies
    user.default_delivery = wanted.default_delivery
    user.receipts = wanted.receipts
    session.flush()
    return user


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise Invalid("language must be one of %(choices)s", choices=", ".join(LANGUAGES))


def set_language(session: Session, user: User, language: str) -> User:
    """The language of the person's pages and mail, as the switch at the foot of each page sets it."""
    _check_language(language)
    user.language = language
    session.flush()
    return user


def memberships_of(session: Session, user: User) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership).join(Group).where(Membership.user_id == user.id).order_by(Group.name)
        )
    )


def set_delivery(session: Session, user: User, slug: str, delivery: str) -> Membership:
    """Change how `user` gets the mail of group `slug`; they must be a member."""
    try:
        wanted = Delivery(delivery)
    except ValueError:
        raise Invalid("delivery must be one of %(choices)s", choices=", ".join(d.value for d in Delivery)) from None
    membership = session.scalar(
        select(Membership).join(Group).where(Membership.user_id == user.id, Group.slug == slug.strip().lower())
    )
    if membership is None:
        raise NotFound("you are not a member of a group %(slug)s", slug=slug)
    membership.delivery = wanted
    session.flush()
    return membership
