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


class DocumentSummary(BaseModel):
    id: int
    url: str
    versions: int
    current: VersionOut


class LibraryOut(BaseModel):
    group: str
    q: str
    sort: str
    order: str
    page: int
    pages: int
    total: int
    documents: list[DocumentSummary]


class DocumentOut(BaseModel):
    id: int
    group: str
    url: str
    versions: list[VersionOut]
    """Newest first: the first is the current version."""


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
    found = documents.library(session, group, q, sort, order, page)
    url = context_of(session).url
    return LibraryOut(
        group=group.slug,
        q=found.q,
        sort=found.sort,
        order=found.order,
        page=found.page,
        pages=found.pages,
        total=found.total,
        documents=[
            DocumentSummary(
                id=entry.document_id,
                url=url(document_path(group.slug, entry.document_id)),
                versions=entry.versions,
                current=VersionOut.of(entry.current),
            )
            for entry in found.entries
        ],
    )


@router.get("/api/groups/{slug}/documents/{document_id}")
def api_document(slug: str, document_id: Id, session: DB, user: ApiUser) -> DocumentOut:
    """One document with every version, newest first."""
    found = _document(session, user, slug, document_id)
    return DocumentOut(
        id=found.document_id,
        group=found.group.slug,
        url=context_of(session).url(document_path(found.group.slug, found.document_id)),
        versions=[VersionOut.of(version) for version in found.versions],
    )


def _document(session: Session, user: User, slug: str, document_id: int) -> documents.DocumentPage:
    found = documents.get_document(session, user, document_id)
    if found.group.slug != slug.strip().lower():
        raise NotFound("no document %(id)s", id=document_id)
    return found
