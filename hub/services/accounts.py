"""People: creating them, finding them, deactivating them when they leave, and the API tokens they use.

A deactivated person (a former colleague) keeps their row, so what they wrote stays under their
name; `deactivate` ends their sessions and API tokens, and the sign-in, mail in and mail out
paths each ask `is_active` (or `is_former_address`) before they act for them.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from hub.context import context_of
from hub.models import ApiToken, Membership, User, WebSession, utcnow
from hub.services import directory_members
from hub.services.errors import Conflict, Invalid, NotFound

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^@\s<>]+@localhost$")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise Invalid("%(email)s is not an email address", email=repr(email))
    return email


def create_user(session: Session, email: str, name: str) -> User:
    email = normalize_email(email)
    name = " ".join(name.split())
    if not name:
        raise Invalid("a name is required")
    if find_user(session, email):
        raise Conflict("a user with address %(email)s already exists", email=email)
    settings = context_of(session).settings
    user = User(
        email=email, name=name, timezone=settings.timezone, digest_hour=settings.digest_hour,
        digest_weekday=settings.digest_weekday, language=settings.default_language,
    )
    session.add(user)
    session.flush()
    directory_members.place(session, user)
    return user


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFound("no user with address %(email)s", email=email)
    return user


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def list_users(session: Session) -> list[User]:
    """Every user by address, with their memberships and groups loaded (who moderates what)."""
    return list(session.scalars(
        select(User).options(selectinload(User.memberships).joinedload(Membership.group)).order_by(User.email)
    ))


def set_admin(session: Session, user: User, admin: bool = True) -> User:
    """Let `user` see and retry the inbound quarantine on the web, or stop them."""
    user.is_admin = admin
    session.flush()
    return user


def is_active(user: User) -> bool:
    return user.deactivated_at is None


def is_former_address(session: Session, email: str) -> bool:
    """Whether `email` is a deactivated person's: one indexed lookup, asked for every mail queued."""
    return session.scalar(
        select(User.id).where(User.email == email.strip().lower(), User.deactivated_at.is_not(None))
    ) is not None


def deactivate(session: Session, user: User) -> User:
    """`user` has left: they are signed out everywhere, their API tokens are gone, and from now on they
    cannot sign in, get no mail and may not send any, and they leave the groups that follow the directory.
    Deactivating them again keeps the first date."""
    if user.deactivated_at is None:
        user.deactivated_at = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    directory_members.place(session, user)
    return user


def reactivate(session: Session, user: User) -> User:
    """`user` is back: they sign in again with a new link and new tokens; none of the old ones return."""
    user.deactivated_at = None
    directory_members.place(session, user)
    return user


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, user: User) -> str:
    """A new bearer token for `user`; it is shown once and only its hash is kept."""
    if not is_active(user):
        raise Invalid("%(email)s is a former colleague: reactivate them first", email=user.email)
    token = "plein_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    return session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == _hash(token)))
