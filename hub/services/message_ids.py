"""The Message-IDs of the mail Plein sends about posts, comments and digests: made and read back here.

A mail about post 12 is `<post-12.k3j9x2mq7d@domain>`: the kind, the number, and this
installation's own random part. A Message-ID names one message, worldwide (RFC 5322, 3.6.4);
without the part, a second installation, or this one reinstalled, would send its post 12
under the id of another, and mail clients would drop it as a duplicate or thread it under
the wrong mail. The part is chosen once, by the migration that made the `installation` table,
so every process sharing the database uses the same one.

`parse_message_id` reads an id back to the post or comment it names, for threading answers;
it is None for ids of other installations and of digests, which nobody answers into a thread.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Installation

_OURS = re.compile(r"^(post|comment)-(\d+)(?:\.([0-9a-z]+))?@(.+)$", re.IGNORECASE)


def message_id(session: Session, kind: str, name: int | str) -> str:
    """`<KIND-NAME.PART@domain>`: a post's or comment's number, or a digest's user, frequency and period."""
    return f"<{kind}-{name}.{installation_part(session)}@{context_of(session).settings.mail_domain}>"


def parse_message_id(session: Session, value: str) -> tuple[str, int] | None:
    """The (kind, number) of the post or comment a Message-ID of ours names, with or without its
    angle brackets; None for anyone else's id."""
    found = _OURS.match(value.strip().removeprefix("<").removesuffix(">"))
    if found is None or found.group(4).lower() != context_of(session).settings.mail_domain.lower():
        return None
    kind, number, part = found.group(1).lower(), int(found.group(2)), found.group(3)
    # Ids without a part (`post-12@domain`) are those of mail sent before installations had
    # one. People still answer it, so they keep naming our posts, unless this database was
    # made anew since: a risk those old mails already carried.
    if part is not None and part.lower() != installation_part(session):
        return None
    return kind, number


def installation_part(session: Session) -> str:
    """This installation's random part, as its migration chose it; read once per process (its context)."""
    context = context_of(session)
    if context.installation_part is None:
        context.installation_part = session.scalars(select(Installation.mail_id_part)).one()
    return context.installation_part
