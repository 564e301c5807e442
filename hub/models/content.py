"""What people share: posts, the threaded comments under them, and attached files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models.accounts import User
from hub.models.base import IDS_NEVER_REUSED, Base, UTCDateTime, utcnow
from hub.models.groups import Group

HEADLINE_LENGTH = 60


def headline_of(title: str, body_text: str) -> str:
    """`Post.headline` of a post read as columns."""
    if title:
        return title
    text = " ".join(body_text.split())
    return text if len(text) <= HEADLINE_LENGTH else text[: HEADLINE_LENGTH - 1] + "…"


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("group_id", "message_id"),
        # The home feed and the group page read newest first per author and per group (hub.services.feed).
        Index("ix_posts_author_id_created_at", "author_id", "created_at", "id"),
        Index("ix_posts_group_id_created_at", "group_id", "created_at", "id"),
        # The feed's window of the newest posts, read from the index alone.
        Index("ix_posts_created_at_id_covering", "created_at", "id", "author_id", "group_id"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    """None for an anonymous post (`hub.services.anonymity`)."""
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    author_mark: Mapped[str | None] = mapped_column(String(64))
    """An anonymous item's keyed hash of itself and its author: lets Plein tell its author it is theirs."""
    title: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(998))
    """The Message-ID of the mail that made this post, if it came by mail."""
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("archive_imports.id", ondelete="SET NULL"), index=True)
    """The archive import that brought it in (`hub.services.archive_import`); None for what was written here."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    group: Mapped[Group] = relationship()
    author: Mapped[User | None] = relationship()
    comments: Mapped[list["Comment"]] = relationship(
        back_populates="post", order_by="Comment.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="post", order_by="Attachment.id", cascade="all, delete-orphan"
    )

    @property
    def headline(self) -> str:
        """What names the post in a heading, a link or a sentence: its title, or the start of a status's text
        (a post without a title, `hub.services.personal`)."""
        return headline_of(self.title, self.body_text)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("post_id", "message_id"),
        Index("ix_comments_author_id_created_at", "author_id", "created_at", "id"),
        Index("ix_comments_post_id_created_at", "post_id", "created_at", "id"),
        Index("ix_comments_created_at_id_covering", "created_at", "id", "post_id", "author_id", "removed_at"),
        # An archive import finds the comment a message answers, and a copy it took before, by Message-ID.
        Index("ix_comments_message_id", "message_id"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    """None for an anonymous comment (`hub.services.anonymity`)."""
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    author_mark: Mapped[str | None] = mapped_column(String(64))
    body_text: Mapped[str] = mapped_column(Text)
    """What the author wrote, with quoted history and signature cut."""
    original_text: Mapped[str | None] = mapped_column(Text)
    """The full text of the mail before trimming; None for comments made on the web."""
    message_id: Mapped[str | None] = mapped_column(String(998))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("archive_imports.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When its author deleted it: its words and files are gone; it stays as "removed by its author" for its answers."""

    post: Mapped[Post] = relationship(back_populates="comments")
    parent: Mapped["Comment | None"] = relationship(remote_side=[id])
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="comment", order_by="Attachment.id"
    )


class Attachment(Base):
    """A file shared with a post or comment; its bytes live in the content-addressed store."""

    __tablename__ = "attachments"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_id: Mapped[str | None] = mapped_column(String(998))
    extracted_text: Mapped[str | None] = mapped_column(Text)
    extraction_error: Mapped[str | None] = mapped_column(String(200))
    """Why its text could not be read (too slow, too much memory, broken): searchable by name only."""
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    """A video's length, its frame's size and when its poster frame was made (hub.services.videos)."""
    video_width: Mapped[int | None] = mapped_column(Integer)
    video_height: Mapped[int | None] = mapped_column(Integer)
    poster_made_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    video_error: Mapped[str | None] = mapped_column(String(200))
    """Why ffmpeg could not read the video: it stays a download, and its author is told."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    """A photo's size in pixels, upright, once a worker made its sizes (hub/services/photo_sizes.py)."""
    caption: Mapped[str | None] = mapped_column(String(500))
    media_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When a photo's thumbnail and large size were made: until then it shows as a link."""
    media_error: Mapped[str | None] = mapped_column(String(200))
    """Why a photo could not be shown (not an image, truncated, too many pixels): it stays a download."""

    post: Mapped[Post] = relationship(back_populates="attachments")
    comment: Mapped[Comment | None] = relationship(back_populates="attachments")
