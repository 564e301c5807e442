"""Mentions: `@` and a person's address local part (`@sanne.visser`), or their name in quotes
(`@"Sanne Visser"`), in a post, a comment or a mail.

The `@` inside an address (`sanne@example.com`) mentions nobody. A mention that fits no one, or
more than one person, mentions nobody either: it stays the text that was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.models import User

SUGGESTED_PEOPLE = 8
RESOLVE_BATCH = 200
"""Mentions resolved per query: each is a condition, and SQLite allows 1,000 in one expression."""
_MENTION = re.compile(r'(?<![\w.@+-])@(?:"([^"\n]{1,200})"|([A-Za-z0-9][A-Za-z0-9._%+-]{0,63}))')


@dataclass(frozen=True)
class Mention:
    """One `@` mention as written: where it stands in the text and whom it names."""

    start: int
    end: int
    local_part: str | None = None
    name: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return ("name", self.name.casefold()) if self.name is not None else ("local", self.local_part.casefold())


def find_mentions(text: str) -> list[Mention]:
    """The mentions in `text`, in order; a local part loses the full stop that ends a sentence."""
    found = []
    for match in _MENTION.finditer(text):
        quoted, local = match.groups()
        if quoted is not None:
            name = " ".join(quoted.split())
            if name:
                found.append(Mention(match.start(), match.end(), name=name))
            continue
        stripped = local.rstrip(".")
        found.append(Mention(match.start(), match.start() + 1 + len(stripped), local_part=stripped))
    return found


def resolve(session: Session, mentions: list[Mention]) -> dict[tuple[str, str], User]:
    """Each mention's key with the one person it names; mentions that name no one, or several, are left out.

    One query for every RESOLVE_BATCH different mentions (a page's worth), not one per mention.
    """
    keys = list(dict.fromkeys(mention.key for mention in mentions))
    fitting: dict[tuple[str, str], list[User]] = {}
    for batch in range(0, len(keys), RESOLVE_BATCH):
        wanted = keys[batch:batch + RESOLVE_BATCH]
        names = [value for kind, value in wanted if kind == "name"]
        conditions = [func.lower(User.name).in_(names)] if names else []
        conditions += [
            func.lower(User.email).startswith(f"{value}@", autoescape=True) for kind, value in wanted if kind == "local"
        ]
        for person in session.scalars(select(User).where(or_(*conditions))):
            for key in (("name", person.name.casefold()), ("local", person.email.rpartition("@")[0].casefold())):
                if key in wanted:
                    fitting.setdefault(key, []).append(person)
    return {key: found[0] for key, found in fitting.items() if len(found) == 1}


def mentioned_people(session: Session, text: str) -> list[User]:
    """Everyone `text` mentions, each once, in the order first mentioned."""
    mentions = find_mentions(text)
    named = resolve(session, mentions)
    people: list[User] = []
    for mention in mentions:
        person = named.get(mention.key)
        if person is not None and person not in people:
            people.append(person)
    return people


def suggest_people(session: Session, typed: str, limit: int = 8) -> list[User]:
    """People to mention after `@typed`: whose name, a word of it, or address starts with it, by name;
    former colleagues are not suggested.

    Everyone may mention anyone: people are not private (their profiles are not), so this tells nothing a
    reader may not know.
    """
    prefix = typed.strip().removeprefix("@").removeprefix('"').casefold()[:100]
    if not prefix:
        return []
    name, email = func.lower(User.name), func.lower(User.email)
    query = select(User).where(
        or_(
            name.startswith(prefix, autoescape=True),
            name.contains(f" {prefix}", autoescape=True),
            email.startswith(prefix, autoescape=True),
        ),
        User.deactivated_at.is_(None),
    )
    return list(session.scalars(query.order_by(User.name, User.id).limit(max(1, min(limit, SUGGESTED_PEOPLE)))))
