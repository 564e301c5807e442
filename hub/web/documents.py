"""A group's library on the web and over the API: its documents, searched, sorted and paged, and each document's
page with every version (hub/services/documents.py does the work).

The group is found as the group page finds it, so a private group's library is the same 404 to a non-member.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import Attachment, User
from hub.services import documents, groups
from hub.services.errors import NotFound
from hub.urls import attachment_path, document_path, post_path
from hub.web.deps import DB, ApiUser, Id, PageUser
from hub.web.pages import render
from hub.web.schemas import Author

router = APIRouter()

Search = Annotated[str, Query(max_length=200, description="words in a document's name or text")]
Sort = Annotated[str, Query(description="date, name or size")]
Order = Annotated[str, Query(description="desc or asc")]
Page = Annotated[int, Query(ge=1)]


@router.get("/g/{slug}/documents")
def library_page(
    request: Request,
    slug: str,
    session: DB,
    user: PageUser,
    q: Search = "",
    sort: Sort = "date",
    order: Order = "desc",
    page: Page = 1,
) -> HTMLResponse:
    group = groups.get_visible_group(session, user, slug)
    return render(request, "documents.html", user=user, library=documents.library(session, group, q, sort, order, page))


@router.get("/g/{slug}/documents/{document_id}")
def document_page(request: Request, slug: str, document_id: Id, session: DB, user: PageUser) -> HTMLResponse:
    return render(request, "document.html", user=user, document=_document(session, user, slug, document_id))


class VersionOut(BaseModel):
    attachment_id: int
    filename: str
    content_type: str
    kind: str
    """pdf, word, excel, powerpoint, text_document, spreadsheet, presentation, text, image, video, audio,
    archive or file"""
    size: int
    """In bytes."""
    author: Author
    created_at: datetime
    post_id: int
    comment_id: int | None
    thread_title: str
    thread_url: str
    download_url: str

    @classmethod
    def of(cls, version: Attachment) -> VersionOut:
        url = context_of(version).url
        return cls(
            attachment_id=version.id,
            filename=version.filename,
            content_type=version.content_type,
            kind=documents.kind_of(version.content_type, version.filename),
            size=version.size,
            author=Author.of(documents.author_of(version)),
            created_at=version.created_at,
            post_id=version.post_id,
            comment_id=version.comment_id,
            thread_title=version.post.title,
            thread_url=url(post_path(version.post_id)),
            download_url=url(attachment_path(version.id, version.filename)),
        )


class DocumentLink(BaseModel):
    """What every answer says of a document: its id and the address of its page."""

    id: int
    url: str

    @staticmethod
    def fields(document_id: int, version: Attachment) -> dict[str, object]:
        return {"id": document_id, "url": context_of(version).url(document_path(version.post.group.slug, document_id))}


class DocumentSummary(DocumentLink):
    versions: int
    current: VersionOut

    @classmethod
    def of(cls, entry: documents.Entry) -> DocumentSummary:
        return cls(
            **cls.fields(entry.document_id, entry.current), versions=entry.versions, current=VersionOut.of(entry.current)
        )


class LibraryOut(BaseModel):
    group: str
    q: str
    sort: str
    order: str
    page: int
    pages: int
    total: int
    documents: list[DocumentSummary]

    @classmethod
    def of(cls, found: documents.Library) -> LibraryOut:
        return cls(
            group=found.group.slug, q=found.q, sort=found.sort, order=found.order, page=found.page, pages=found.pages,
            total=found.total, documents=[DocumentSummary.of(entry) for entry in found.entries],
        )


class DocumentOut(DocumentLink):
    group: str
    versions: list[VersionOut]
    """Newest first: the first is the current version."""

    @classmethod
    def of(cls, found: documents.DocumentPage) -> DocumentOut:
        return cls(
            **cls.fields(found.document_id, found.current), group=found.group.slug,
            versions=[VersionOut.of(version) for version in found.versions],
        )


@router.get("/api/groups/{slug}/documents")
def api_library(
    slug: str,
    session: DB,
    user: ApiUser,
    q: Search = "",
    sort: Sort = "date",
    order: Order = "desc",
    page: Page = 1,
) -> LibraryOut:
    """A group's library: every file shared in it, one entry per document with its current version."""
    group = groups.get_visible_group(session, user, slug)
    return LibraryOut.of(documents.library(session, group, q, sort, order, page))


@router.get("/api/groups/{slug}/documents/{document_id}")
def api_document(slug: str, document_id: Id, session: DB, user: ApiUser) -> DocumentOut:
    """One document with every version, newest first."""
    return DocumentOut.of(_document(session, user, slug, document_id))


def _document(session: Session, user: User, slug: str, document_id: int) -> documents.DocumentPage:
    found = documents.get_document(session, user, document_id)
    if found.group.slug != slug.strip().lower():
        raise NotFound("no document %(id)s", id=document_id)
    return found
