"""A browser on an in-process hub, signed in as a person is: through the link Plein mails them, then its form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from hub.services import accounts, signin
from hub.web.app import create_app


def csrf_of(page: str) -> str:
    """The CSRF token of the first form on `page`."""
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def browser(context, host: str = "testclient", **options: object) -> TestClient:
    """A browser at `host` on the hub of `context`, signed in as nobody; `options` are TestClient's."""
    return TestClient(create_app(context), client=(host, 50000), **options)


def signed_in(context, email: str, **options: object) -> TestClient:
    """A browser signed in as `email` by following a sign-in link and confirming it."""
    client = browser(context, **options)
    with context.session_scope() as session:
        link = f"/sign-in/{signin.sign_in_token(accounts.get_user(session, email))}"
    confirmed = client.post(link, data={"csrf": csrf_of(client.get(link).text)})
    answer = confirmed.history[0] if confirmed.history else confirmed  # before any redirect was followed
    assert answer.status_code == 303, f"signing in as {email} answered {answer.status_code}"
    return client


def signed_in_with_csrf(context, email: str, **options: object) -> tuple[TestClient, str]:
    """`signed_in`, with the CSRF token its session's forms carry."""
    client = signed_in(context, email, **options)
    return client, csrf_of(client.get("/preferences").text)
