"""Everything out of Plein (`plein export`): a group as mbox or JSON, or the whole hub as a folder.

An mbox carries each post and comment as a mail with its Message-ID, In-Reply-To and References,
so a mail client threads it and `plein import mbox` brings the same threads, authors, dates and
attachments back. A post or comment that came without a Message-ID gets this installation's
(`hub.services.message_ids`). JSON holds what mail cannot: reactions, the HTML of a post, removed
comments, memberships.

`export_all` writes a folder a company can keep or load elsewhere: `people.json`, `groups.json`
(with memberships), and per group `groups/SLUG.mbox` and `groups/SLUG.json`, whose attachments are
the files under `attachments/`, named by their SHA-256. Everything is written post by post, so
memory does not grow with the group.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import BinaryIO, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hub.models import Attachment, Comment, Group, Membership, Post, Reaction, User
from hub.services import groups, notifications
from hub.services.attachments import read_blob
from hub.services.message_ids import message_id as our_message_id

EXPORT_BATCH = 200
"""Posts read at a time, with their comments and attachments."""


def _posts(session: Session, group: Group) -> Iterator[Post]:
    """The group's posts, oldest first, a batch at a time."""
    last: tuple = ()
    while True:
        query = select(Post).where(Post.group_id == group.id).order_by(Post.created_at, Post.id).limit(EXPORT_BATCH)
        if last:
            query = query.where((Post.created_at > last[0]) | ((Post.created_at == last[0]) & (Post.id > last[1])))
        batch = list(session.scalars(query.options(
            selectinload(Post.author), selectinload(Post.attachments),
            selectinload(Post.comments).selectinload(Comment.author),
        )))
        if not batch:
            return
        yield from batch
        last = (batch[-1].created_at, batch[-1].id)
        session.expunge_all()


def _id_of(session: Session, kind: str, item: Post | Comment) -> str:
    return item.message_id or our_message_id(session, kind, item.id).strip("<>")


def _mail(session: Session, to: str, post: Post, comment: Comment | None) -> EmailMessage:
    item = comment or post
    mail = EmailMessage()
    mail["From"] = formataddr((item.author.name, item.author.email))
    mail["To"] = to
    mail["Subject"] = (f"Re: {post.headline}" if comment else post.title) or post.headline
    mail["Date"] = format_datetime(item.created_at)
    mail["Message-ID"] = f"<{_id_of(session, 'comment' if comment else 'post', item)}>"
    if comment is not None:
        chain = [_id_of(session, "post", post)]
        ancestors, parent = [], comment.parent
        while parent is not None:
            ancestors.insert(0, _id_of(session, "comment", parent))
            parent = parent.parent
        chain += ancestors
        mail["In-Reply-To"] = f"<{chain[-1]}>"
        mail["References"] = " ".join(f"<{i}>" for i in chain)
    text = (comment.original_text or comment.body_text) if comment else post.body_text
    mail.set_content(text or "")
    if comment is None and post.body_html:
        mail.add_alternative(post.body_html, subtype="html")
    files = [a for a in post.attachments if a.comment_id == (comment.id if comment else None)]
    for attachment in files:
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(read_blob(attachment), maintype=maintype, subtype=subtype or "octet-stream",
                            filename=attachment.filename)
    return mail


def write_mbox(session: Session, group: Group, out: BinaryIO) -> int:
    """Write the group's posts and comments to `out` as an mbox (mboxrd, RFC 4155); how many mails."""
    written, to = 0, notifications.group_address(group)  # `_posts` lets go of `group` after a batch
    for post in _posts(session, group):
        for comment in [None, *(c for c in post.comments if c.removed_at is None)]:
            mail = _mail(session, to, post, comment)
            out.write(_mbox_entry(mail, (comment or post).author.email, (comment or post).created_at))
            written += 1
    return written


def _mbox_entry(mail: EmailMessage, sender: str, when) -> bytes:
    raw = mail.as_bytes(policy=SMTP.clone(linesep="\n"))
    quoted = b"\n".join(b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in raw.split(b"\n"))
    return b"From " + sender.encode() + b" " + when.strftime("%a %b %d %H:%M:%S %Y").encode() + b"\n" \
        + quoted.rstrip(b"\n") + b"\n\n"


def _attachment(attachment: Attachment, files: Path | None) -> dict:
    described = {"filename": attachment.filename, "content_type": attachment.content_type,
                 "size": attachment.size, "sha256": attachment.sha256}
    if files is None:
        described["data_base64"] = base64.b64encode(read_blob(attachment)).decode()
    else:
        target = files / attachment.sha256
        if not target.exists():
            target.write_bytes(read_blob(attachment))
    return described


def _reactions(session: Session, post: Post) -> dict[int | None, list[dict]]:
    found: dict[int | None, list[dict]] = {}
    for reaction, email in session.execute(
        select(Reaction, User.email).join(User, Reaction.user_id == User.id).where(Reaction.post_id == post.id)
    ):
        found.setdefault(reaction.comment_id, []).append({"person": email, "reaction": reaction.reaction})
    return found


def write_json(session: Session, group: Group, out: TextIO, files: Path | None = None) -> int:
    """Write the group and its posts, comments, reactions and attachments to `out` as JSON; how many posts.

    Attachments are in the JSON (base64) or, with `files`, written there and named by their SHA-256."""
    out.write('{"group": ' + json.dumps(_group(group), ensure_ascii=False) + ', "posts": [\n')
    count = 0
    for post in _posts(session, group):
        reactions = _reactions(session, post)
        item = {
            "message_id": _id_of(session, "post", post), "title": post.title, "author": post.author.email,
            "created_at": post.created_at.isoformat(), "body_text": post.body_text, "body_html": post.body_html,
            "attachments": [_attachment(a, files) for a in post.attachments if a.comment_id is None],
            "reactions": reactions.get(None, []),
            "comments": [{
                "message_id": _id_of(session, "comment", c), "author": c.author.email,
                "parent": _id_of(session, "comment", c.parent) if c.parent else None,
                "created_at": c.created_at.isoformat(), "body_text": c.body_text, "original_text": c.original_text,
                "removed": c.removed_at is not None,
                "attachments": [_attachment(a, files) for a in c.attachments],
                "reactions": reactions.get(c.id, []),
            } for c in post.comments],
        }
        out.write((",\n" if count else "") + json.dumps(item, ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count


def _group(group: Group) -> dict:
    return {"slug": group.slug, "name": group.name, "description": group.description,
            "private": group.is_private, "posting_policy": group.posting_policy, "archived": group.archived_at is not None}


def export_group(session: Session, slug: str, form: str, path: Path) -> int:
    """Write group `slug` to `path` as `mbox` or `json`; how many mails (mbox) or posts (json)."""
    group = groups.get_group(session, slug)
    if form == "mbox":
        with path.open("wb") as out:
            return write_mbox(session, group, out)
    with path.open("w", encoding="utf-8") as out:
        return write_json(session, group, out)


def export_all(session: Session, folder: Path) -> int:
    """Write every group, person and membership under `folder`; how many groups."""
    (folder / "groups").mkdir(parents=True, exist_ok=True)
    files = folder / "attachments"
    files.mkdir(exist_ok=True)
    people = [{
        "email": u.email, "name": u.name, "department": u.department, "job_title": u.job_title,
        "bio": u.bio, "expertise": u.expertise, "phone": u.phone, "location": u.location,
        "is_admin": u.is_admin, "external": u.external, "active": u.deactivated_at is None,
    } for u in session.scalars(select(User).order_by(User.email))]
    (folder / "people.json").write_text(json.dumps(people, ensure_ascii=False, indent=1), encoding="utf-8")
    slugs = list(session.scalars(select(Group.slug).order_by(Group.slug)))
    listed = []
    for slug in slugs:
        group = groups.get_group(session, slug)
        members = [{"person": email, "delivery": m.delivery.value, "moderator": m.is_moderator, "owner": m.is_owner}
                   for m, email in session.execute(
                       select(Membership, User.email).join(User, Membership.user_id == User.id)
                       .where(Membership.group_id == group.id).order_by(User.email))]
        listed.append({**_group(group), "members": members})
        with (folder / "groups" / f"{slug}.mbox").open("wb") as out:
            write_mbox(session, group, out)
        group = groups.get_group(session, slug)
        with (folder / "groups" / f"{slug}.json").open("w", encoding="utf-8") as out:
            write_json(session, group, out, files)
    (folder / "groups.json").write_text(json.dumps(listed, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(slugs)
