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

from hub.models import Delivery, Group, Membership, User
from hub.services.errors import Invalid, NotFound

LANGUAGES = {"en": "English", "nl": "Nederlands"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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
        raise Invalid(f"{wanted.timezone!r} is not a time zone Plein knows, such as Europe/Amsterdam") from None
    if not 0 <= wanted.digest_hour <= 23:
        raise Invalid("the digest hour is a whole hour from 0 to 23")
    if not 0 <= wanted.digest_weekday <= 6:
        raise Invalid("the weekly digest day is 0 (Monday) to 6 (Sunday)")
    if wanted.language not in LANGUAGES:
        raise Invalid(f"language must be one of {', '.join(LANGUAGES)}")
    if wanted.default_delivery not in {d.value for d in Delivery}:
        raise Invalid(f"default delivery must be one of {', '.join(d.value for d in Delivery)}")
    user.timezone = wanted.timezone
    user.digest_hour = wanted.digest_hour
    user.digest_weekday = wanted.digest_weekday
    user.language = wanted.language
    user.notify_replies = wanted.notify_replies
    user.default_delivery = wanted.default_delivery
    user.receipts = wanted.receipts
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
        raise Invalid(f"delivery must be one of {', '.join(d.value for d in Delivery)}") from None
    membership = session.scalar(
        select(Membership).join(Group).where(Membership.user_id == user.id, Group.slug == slug.strip().lower())
    )
    if membership is None:
        raise NotFound(f"you are not a member of a group {slug}")
    membership.delivery = wanted
    session.flush()
    return membership
