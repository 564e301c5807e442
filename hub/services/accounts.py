"""People: creating them, finding them, and the API tokens they use."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hub.context import context_of
from hub.models import ApiToken, Membership, User
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


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, user: User) -> str:
    """A new bearer token for `user`; it is shown once and only its hash is kept."""
    token = "plein_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    return api_token.user if api_token else None
