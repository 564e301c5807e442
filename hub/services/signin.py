"""Sign-in by a link mailed to the user: signed, expiring, and no password to forget."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.models import User
from hub.services import accounts, signing
from hub.services.outbox import compose, queue_mail
from hub.settings import get_settings
from hub.templating import render_mail
from hub.urls import absolute, sign_in_path

LINK_LIFETIME_SECONDS = 30 * 60


def request_sign_in(session: Session, email: str) -> None:
    """Mail a sign-in link if `email` belongs to a user; say nothing either way."""
    user = accounts.find_user(session, email)
    if user is None:
        return
    token = sign_in_token(user)
    text, html = render_mail(
        "sign_in", recipient=user, language=user.language, url=absolute(sign_in_path(token)),
        minutes=LINK_LIFETIME_SECONDS // 60,
    )
    message = compose(
        subject="Je aanmeldlink voor Plein" if user.language == "nl" else "Your sign-in link for Plein",
        sender=("Plein", f"no-reply@{get_settings().mail_domain}"),
        recipient=(user.name, user.email),
        text=text, html=html,
        headers={"Auto-Submitted": "auto-generated"},
    )
    # Sent even after bounces: the person asked for it, and signing in is how they re-enable mail.
    queue_mail(session, f"sign-in:{token}", message, essential=True)


def sign_in_token(user: User, lifetime_seconds: int = LINK_LIFETIME_SECONDS) -> str:
    """What a sign-in link carries: whoever holds it is `user` until it expires, so it goes only to them."""
    return signing.sign_expiring("sign-in", user.id, lifetime_seconds=lifetime_seconds)


def user_for_sign_in(session: Session, token: str) -> User | None:
    parts = signing.verify_expiring("sign-in", token)
    return session.get(User, parts[0]) if parts else None
