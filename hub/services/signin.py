"""Sign-in by a link mailed to the user, and the web sessions it starts.

A link is signed, expires after 30 minutes and signs in once: its digest is kept as used.
Asking for a link tells nothing about the address: `admit_request` does the same work for
every address (count, record) and the route answers before anyone looks the address up;
`request_sign_in` does that afterwards. Requests are limited per address (the rest are
answered alike and mail nothing) and per client (answered 429), counted in the database so
the limits hold across web processes. A session is a row the server can delete: signing out
ends it, also in a copy of the cookie, and "sign out everywhere" ends all of a person's.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from hub.context import context_of
from hub.models import SignInRequest, UsedSignInLink, User, WebSession, utcnow
from hub.services import accounts, addresses, signing
from hub.services.outbox import compose, queue_mail
from hub.urls import sign_in_path

LINK_LIFETIME_SECONDS = 30 * 60
REQUEST_WINDOW = timedelta(minutes=15)
REQUESTS_PER_ADDRESS = 5
REQUESTS_PER_CLIENT = 20
SESSION_IDLE_LIMIT = timedelta(days=30)
SESSION_SEEN_EVERY = timedelta(minutes=5)
"""How stale `last_seen_at` may get before a request writes it: not one write per page view."""


class Admission(enum.Enum):
    MAIL = "mail"
    """Look the address up and mail it a link, after answering."""
    ADDRESS_LIMIT = "address limit"
    """Answer as for MAIL, and mail nothing: this address asked often enough."""
    CLIENT_LIMIT = "client limit"
    """Answer 429: this client asked for too many addresses."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def admit_request(session: Session, email: str, client: str, now: datetime | None = None) -> Admission:
    """Count and record an ask for a link, the same statements whether or not `email` is someone's."""
    now = now or utcnow()
    since = now - REQUEST_WINDOW
    address = _digest(email.strip().lower())
    session.execute(delete(SignInRequest).where(SignInRequest.requested_at < since))
    from_client = session.scalar(
        select(func.count()).where(SignInRequest.client == client, SignInRequest.requested_at >= since)
    )
    for_address = session.scalar(
        select(func.count()).where(SignInRequest.address_digest == address, SignInRequest.requested_at >= since)
    )
    session.add(SignInRequest(address_digest=address, client=client[:64], requested_at=now))
    session.flush()
    if from_client >= REQUESTS_PER_CLIENT:
        return Admission.CLIENT_LIMIT
    if for_address >= REQUESTS_PER_ADDRESS:
        return Admission.ADDRESS_LIMIT
    return Admission.MAIL


def request_sign_in(session: Session, email: str) -> None:
    """Mail a sign-in link if `email` belongs to an active user; say nothing either way."""
    user = accounts.find_user(session, email)
    if user is None or not accounts.is_active(user):
        return
    token, catalogue = sign_in_token(user), context_of(session).catalogue
    text, html = catalogue.render_mail(
        "sign_in", recipient=user, language=user.language, url=context_of(session).url(sign_in_path(token)),
        minutes=LINK_LIFETIME_SECONDS // 60,
    )
    message = compose(
        subject=catalogue.translator(user.language).gettext("Your sign-in link for Plein"),
        sender=("Plein", addresses.address(session, "no-reply")),
        recipient=(user.name, user.email),
        text=text, html=html,
        headers={"Auto-Submitted": "auto-generated"},
    )
    # Sent even after bounces: the person asked for it, and signing in is how they re-enable mail.
    queue_mail(session, f"sign-in:{token}", message, essential=True)


def sign_in_token(user: User, lifetime_seconds: int = LINK_LIFETIME_SECONDS) -> str:
    """What a sign-in link carries: whoever holds it is `user` until it expires or is used, so it goes only to them.

    A random part makes every link a link of its own, so using one leaves the others working.
    """
    return signing.sign_expiring(user, "sign-in", user.id, secrets.randbelow(10**12), lifetime_seconds=lifetime_seconds)


def user_for_sign_in(session: Session, token: str) -> User | None:
    """Whom an unused, unexpired link signs in, unless they left since; it stays unused."""
    parts = signing.verify_expiring(session, "sign-in", token)
    if parts is None or session.get(UsedSignInLink, _link_digest(token)) is not None:
        return None
    user = session.get(User, parts[0])
    return user if user is not None and accounts.is_active(user) else None


def use_sign_in_link(session: Session, token: str) -> User | None:
    """Whom the link signs in, once: the second use, even at the same moment, finds it used."""
    user = user_for_sign_in(session, token)
    if user is None:
        return None
    expires = datetime.fromtimestamp(signing.verify(session, "sign-in", token)[-1], UTC)
    session.execute(delete(UsedSignInLink).where(UsedSignInLink.expires_at < utcnow()))
    try:
        with session.begin_nested():
            session.add(UsedSignInLink(digest=_link_digest(token), expires_at=expires))
    except IntegrityError:
        return None
    return user


def _link_digest(token: str) -> str:
    return _digest(token.strip().lower())


def start_session(session: Session, user: User, user_agent: str) -> str:
    """A new session for `user`: the random id for the browser's cookie."""
    browser_id = secrets.token_urlsafe(32)
    session.execute(delete(WebSession).where(WebSession.last_seen_at < utcnow() - SESSION_IDLE_LIMIT))
    session.add(WebSession(id=_digest(browser_id), user=user, user_agent=user_agent[:300]))
    session.flush()
    return browser_id


_WITH_USER = [joinedload(WebSession.user)]
"""Each page's first question: the session and its person in one."""


def session_user(session: Session, browser_id: str) -> User | None:
    """Who is signed in with the cookie id `browser_id`, if the session was not ended."""
    found = session.get(WebSession, _digest(browser_id), options=_WITH_USER)
    now = utcnow()
    if found is None or found.last_seen_at < now - SESSION_IDLE_LIMIT:
        return None
    if found.last_seen_at < now - SESSION_SEEN_EVERY:
        found.last_seen_at = now
        session.flush()
    return found.user


def end_session(session: Session, browser_id: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(browser_id)))


def end_all_sessions(session: Session, user: User) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
