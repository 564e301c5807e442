"""What routes depend on: the process's context, a database session per request, the
signed-in user and their language, CSRF checks, and the type of an id in a path."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request
from pydantic import AfterValidator
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from hub.context import Context
from hub.locale import LANGUAGES, N_, accepted_language
from hub.models import User
from hub.services import accounts, signin
from hub.services.errors import NotFound
from hub.web.browser import browser_id

LARGEST_ID = 2**31 - 1
"""Ids are `integer` columns: PostgreSQL's hold up to 2**31 - 1, and a larger number in a query is an error."""


def _existing_id(value: int) -> int:
    if not 0 < value <= LARGEST_ID:
        raise NotFound("no such item: %(id)s", id=value)  # not a validation error: the route answers 404
    return value


Id = Annotated[int, AfterValidator(_existing_id)]
"""An id in a path: a number out of the ids' range is a 404, as an id that is not there; not a number, a 422."""


def context_of_app(request: Request) -> Context:
    """The context the app was made with (`hub.web.app.create_app`)."""
    return request.app.state.context


def db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with context_of_app(request).session_scope() as session:
        yield session


DB = Annotated[Session, Depends(db, scope="function")]
"""Committed before the response is sent, so a redirect after a POST always finds the change."""


class SignInRequired(Exception):
    """Raised by page routes for an anonymous visitor; answered with a redirect to sign in."""


def signed_in_user(request: Request, session: Session) -> User | None:
    """Whose session the browser's cookie names, unless it was ended (hub.web.browser)."""
    return signin.session_user(session, browser_id(request))


LANGUAGE_COOKIE = "plein_language"
"""The language a visitor who is not signed in chose with the switch at the foot of each page."""


def reader_language(request: Request, user: User | None) -> str:
    """The signed-in person's language, else the one chosen with the switch, else the browser's, else the default."""
    if user is not None and user.language in LANGUAGES:
        return user.language
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return accepted_language(request.headers.get("accept-language", "")) or context_of_app(request).settings.default_language


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
            401, N_("a valid API token is required: send 'Authorization: Bearer TOKEN'"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


PageUser = Annotated[User, Depends(page_user)]
ApiUser = Annotated[User, Depends(api_user)]


def csrf_token(request: Request) -> str:
    """The token a form of this page carries: bound to the browser's id, so it changes on sign-in and out."""
    key = context_of_app(request).settings.signing_key().encode()
    return hmac.new(key, f"csrf:{browser_id(request)}".encode(), hashlib.sha256).hexdigest()


def require_csrf(request: Request, csrf: str) -> None:
    if not secrets.compare_digest(csrf, csrf_token(request)):
        raise HTTPException(403, N_("This form has expired. Go back, reload the page and try again."))


def check_csrf(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    require_csrf(request, csrf)


CSRFChecked = Depends(check_csrf)


async def form_fields(request: Request) -> FormData:
    """The whole form, for a route whose field names are not known in advance (`delivery-SLUG`).

    Only this awaits, on the event loop; the route that uses it is a plain `def`.
    """
    return await request.form()


FormFields = Annotated[FormData, Depends(form_fields)]
