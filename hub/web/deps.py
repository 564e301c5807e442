"""What routes depend on: a database session per request, the signed-in user, CSRF checks."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request
from sqlalchemy.orm import Session

from hub.db import session_scope
from hub.models import User
from hub.services import accounts


def db() -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with session_scope() as session:
        yield session


DB = Annotated[Session, Depends(db, scope="function")]
"""Committed before the response is sent, so a redirect after a POST always finds the change."""


class SignInRequired(Exception):
    """Raised by page routes for an anonymous visitor; answered with a redirect to sign in."""


def signed_in_user(request: Request, session: Session) -> User | None:
    user_id = request.session.get("user_id")
    return session.get(User, user_id) if user_id else None


def page_user(request: Request, session: DB) -> User:
    user = signed_in_user(request, session)
    if user is None:
        raise SignInRequired()
    return user


def api_user(request: Request, session: DB) -> User:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = accounts.user_for_token(session, token.strip()) if scheme.lower() == "bearer" and token else None
    if user is None:
        raise HTTPException(
            401, "a valid API token is required: send 'Authorization: Bearer TOKEN'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


PageUser = Annotated[User, Depends(page_user)]
ApiUser = Annotated[User, Depends(api_user)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(csrf, expected):
        raise HTTPException(403, "This form has expired. Go back, reload the page and try again.")


CSRFChecked = Depends(check_csrf)
