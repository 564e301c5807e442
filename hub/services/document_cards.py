"""Links to documents in what people write, shown as cards: a link to a document's page or to one of its files
on this hub becomes the document's name, kind, size, group and latest version.

Only for a reader who may see the document: to anyone else the link stays the link as it was written, so it
tells them nothing of the document, not even that there is one. Cards are made from the HTML that
`rendering` has already sanitized, where every link reads `<a href="...">`; the card itself comes from a
template, in the reader's language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from markupsafe import Markup
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import User
from hub.services import documents
from hub.urls import document_path

_LINK = re.compile(r'<a href="([^"]*)"[^>]*>.*?</a>', re.DOTALL)
_DOCUMENT_PATH = re.compile(r"/g/[^/]+/documents/(\d{1,9})/?")
_ATTACHMENT_PATH = re.compile(r"/attachments/(\d{1,9})(?:/[^/]*)?")


def with_cards(session: Session, reader: User | None, bodies: Mapping[str, Markup]) -> dict[str, Markup]:
    """`bodies` with each link to a document `reader` may see made its card."""
    if reader is None:
        return dict(bodies)
    targets = {href: _target(session, href) for body in bodies.values() for href in _LINK.findall(body)}
    document_ids = {number for kind, number in filter(None, targets.values()) if kind == "document"}
    attachment_ids = {number for kind, number in filter(None, targets.values()) if kind == "attachment"}
    if not (document_ids or attachment_ids):
        return dict(bodies)
    entries, document_of = documents.visible_entries(session, reader, document_ids, attachment_ids)
    if not entries:
        return dict(bodies)
    card = context_of(session).catalogue.environment(reader.language).get_template("web/_document_card.html")

    def replace(link: re.Match) -> str:
        kind, number = targets.get(link.group(1)) or ("", 0)
        entry = entries.get(number if kind == "document" else document_of.get(number, 0))
        if entry is None:
            return link.group(0)
        return card.render(entry=entry, href=document_path(entry.current.post.group.slug, entry.document_id))

    return {text: Markup(_LINK.sub(replace, body)) for text, body in bodies.items()}


def _target(session: Session, href: str) -> tuple[str, int] | None:
    """What a link points at on this hub: ("document", id), ("attachment", id), or None."""
    link = urlsplit(html.unescape(href))
    here = urlsplit(context_of(session).settings.base_url)
    if (link.scheme or link.netloc) and (link.scheme, link.netloc.lower()) != (here.scheme, here.netloc.lower()):
        return None
    path = link.path.removeprefix(here.path.rstrip("/"))
    if found := _DOCUMENT_PATH.fullmatch(path):
        return "document", int(found.group(1))
    if found := _ATTACHMENT_PATH.fullmatch(path):
        return "attachment", int(found.group(1))
    return None
