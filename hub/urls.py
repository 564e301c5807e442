"""Paths into the web hub, for pages, mails and the API alike; a context makes them absolute (`Context.url`)."""

from __future__ import annotations

from urllib.parse import quote


def group_path(slug: str) -> str:
    return f"/g/{slug}"


def moderation_path(slug: str) -> str:
    return f"{group_path(slug)}/moderation"


def post_path(post_id: int) -> str:
    return f"/p/{post_id}"


def comment_path(post_id: int, comment_id: int) -> str:
    return f"/p/{post_id}#comment-{comment_id}"


FROM_MAIL = ("via", "mail")
"""The query parameter on Plein's links to threads in the mail it sends: a signed-in person who follows one is
counted as a visit from mail (hub/services/participation.py). Mail itself is not tracked."""


def from_mail(path: str) -> str:
    """`path` as a link in a mail: marked with `FROM_MAIL`, before any `#fragment`.

    >>> from_mail("/p/7#comment-9")
    '/p/7?via=mail#comment-9'
    """
    path, hash_sign, fragment = path.partition("#")
    name, value = FROM_MAIL
    return f"{path}{'&' if '?' in path else '?'}{name}={value}{hash_sign}{fragment}"


def attachment_path(attachment_id: int, filename: str) -> str:
    return f"/attachments/{attachment_id}/{quote(filename)}"


def photo_size_path(attachment_id: int, size: str) -> str:
    """A photo in one of the sizes a worker made of it (`hub.services.photo_sizes`): `thumb` or `large`."""
    return f"/attachments/{attachment_id}/{size}"


def poster_path(attachment_id: int) -> str:
    return f"/posters/{attachment_id}.jpg"


def sign_in_path(token: str) -> str:
    return f"/sign-in/{token}"


def unsubscribe_path(token: str) -> str:
    return f"/unsubscribe/{token}"


def person_path(email: str) -> str:
    return f"/people/{quote(email, safe='@')}"


def tag_path(tag: str) -> str:
    return f"/tags/{quote(tag)}"


def replies_off_path(token: str) -> str:
    return f"/unsubscribe/replies/{token}"


def receipt_edit_path(kind: str, token: str) -> str:
    """Where the receipt of a post or comment sent by mail lets its sender change it (`kind`: post or comment)."""
    return f"/receipts/{kind}/{token}"


def receipt_undo_path(kind: str, token: str) -> str:
    return f"/receipts/{kind}/{token}/undo"


def receipts_off_path(token: str) -> str:
    return f"/unsubscribe/receipts/{token}"


def invitation_path(token: str) -> str:
    return f"/invitations/{token}"


def documents_path(slug: str) -> str:
    return f"{group_path(slug)}/documents"


def document_path(slug: str, document_id: int) -> str:
    return f"{documents_path(slug)}/{document_id}"
