"""Anonymous posts and comments: who may write them, the sealed link to their author, and revealing it.

An anonymous item is stored with no author (`author_id` NULL, `anonymous` set). Two things stand in
for the author, and neither names them to anyone reading the database (docs/security.md):

- `AnonymousAuthor.sealed_author`: the author's id sealed to the public key `PLEIN_ANONYMOUS_KEY`
  (an X25519 sealed box: an ephemeral key, HKDF-SHA256, ChaCha20-Poly1305 bound to the item). The
  hub can seal but not open it; `plein anonymous reveal`, run by an administrator with the private
  key and a reason, opens it and records that in the audit log.
- `author_mark`: an HMAC, under a key derived from `PLEIN_SECRET_KEY`, of the item and its author. It
  answers "is this mine?" for the signed-in person (to edit or delete it) and finds the author for
  their receipt and the answers to their thread, without being reversible from the database alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.models import AnonymousAuthor, AnonymousPosting, AuditEntry, Comment, Group, Post, User
from hub.services import signing
from hub.services.errors import Forbidden, Invalid, NotFound

KINDS = ("post", "comment")
REVEAL = "reveal anonymous author"
_INFO = b"plein anonymous author v1"
_NONCE = bytes(12)
"""Every sealed box has a key of its own (a fresh ephemeral key), so one fixed nonce is safe."""


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def new_key_pair() -> tuple[str, str]:
    """A private key (for the administrator who reveals) and its public key (`PLEIN_ANONYMOUS_KEY`), in base64."""
    private = X25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode(), base64.b64encode(_raw_public(private.public_key())).decode()


def _public_key(encoded: str) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(base64.b64decode(encoded, validate=True))
    except ValueError as error:
        raise Invalid("PLEIN_ANONYMOUS_KEY is not a public key made by plein anonymous keygen") from error


def _box_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> ChaCha20Poly1305:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO + ephemeral + recipient).derive(shared)
    return ChaCha20Poly1305(derived)


def seal(public_key: str, kind: str, item_id: int, user_id: int) -> bytes:
    """`user_id` sealed to `public_key`, bound to the item: a sealed author moved to another item does not open."""
    recipient = _public_key(public_key)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = _raw_public(ephemeral.public_key())
    box = _box_key(ephemeral.exchange(recipient), ephemeral_raw, _raw_public(recipient))
    return ephemeral_raw + box.encrypt(_NONCE, user_id.to_bytes(8, "big"), f"{kind}:{item_id}".encode())


def unseal(private_key: str, kind: str, item_id: int, sealed: bytes) -> int:
    try:
        private = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key.strip(), validate=True))
        ephemeral = X25519PublicKey.from_public_bytes(sealed[:32])
        box = _box_key(private.exchange(ephemeral), sealed[:32], _raw_public(private.public_key()))
        return int.from_bytes(box.decrypt(_NONCE, sealed[32:], f"{kind}:{item_id}".encode()), "big")
    except (ValueError, InvalidTag) as error:
        raise Forbidden("This private key does not open the sealed author of %(kind)s %(id)s.", kind=kind, id=item_id) from error


def _mark_key(held: Session | object) -> bytes:
    return hmac.new(signing.key(held).encode(), b"anonymous author mark", hashlib.sha256).digest()


def _mark(key: bytes, kind: str, item_id: int, user_id: int) -> str:
    return hmac.new(key, f"{kind}:{item_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def kind_of(item: Post | Comment) -> str:
    return "post" if isinstance(item, Post) else "comment"


def is_author(item: Post | Comment, user: User | None) -> bool:
    """Whether `user` wrote `item`, anonymous or not; only ever asked about the person asking."""
    return user is not None and wrote(item, user.id)


def wrote(item: Post | Comment, user_id: int) -> bool:
    if not item.anonymous:
        return item.author_id == user_id
    expected = _mark(_mark_key(item), kind_of(item), item.id, user_id)
    return item.author_mark is not None and hmac.compare_digest(item.author_mark, expected)


def author_id_for(item: Post | Comment, reader: User | None) -> int | None:
    """The author's id as `reader` may know it: anyone's for a named item, and for an anonymous one only the
    reader's own id when they wrote it, else None. Pages compare it with the reader to offer edit and delete."""
    if not item.anonymous:
        return item.author_id
    return reader.id if is_author(item, reader) else None


def hidden_author(session: Session, item: Post | Comment) -> User | None:
    """The active person whose mark `item` carries: who gets its receipt and the answers to it.

    It tries every active person's mark, as an attacker with the database and the secret key could; it is
    what lets the workers mail the author without storing who they are (docs/security.md)."""
    if not item.anonymous or item.author_mark is None:
        return None
    key, kind = _mark_key(session), kind_of(item)
    for user_id in session.scalars(select(User.id).where(User.deactivated_at.is_(None))):
        if hmac.compare_digest(item.author_mark, _mark(key, kind, item.id, user_id)):
            return session.get(User, user_id)
    return None


def allows(group: Group) -> bool:
    return group.anonymous != AnonymousPosting.OFF


def require_allowed(session: Session, group: Group) -> None:
    if not allows(group):
        raise Forbidden("%(name)s does not take anonymous posts or comments.", name=group.name)
    if not context_of(session).settings.anonymous_key:
        raise Invalid("Anonymous posting is not set up on this hub: an administrator sets PLEIN_ANONYMOUS_KEY.")


def is_held_for_moderators(group: Group) -> bool:
    return group.anonymous == AnonymousPosting.MODERATED


def hide_author(session: Session, item: Post | Comment, author: User) -> None:
    """Make a just-flushed `item` anonymous: no author on it, its author sealed apart, its mark beside it."""
    kind = kind_of(item)
    item.author, item.author_id, item.anonymous = None, None, True
    item.author_mark = _mark(_mark_key(session), kind, item.id, author.id)
    sealed = seal(context_of(session).settings.anonymous_key, kind, item.id, author.id)
    session.add(AnonymousAuthor(item_kind=kind, item_id=item.id, sealed_author=sealed))
    session.flush()


def forget(session: Session, kind: str, item_ids: list[int]) -> None:
    """The sealed authors of deleted items go with them."""
    for row in session.scalars(
        select(AnonymousAuthor).where(AnonymousAuthor.item_kind == kind, AnonymousAuthor.item_id.in_(item_ids))
    ):
        session.delete(row)


def set_mode(session: Session, group: Group, mode: str) -> Group:
    """`plein group edit --anonymous` and the group's settings page: off, moderated or on."""
    if mode not in {m.value for m in AnonymousPosting}:
        raise Invalid("Anonymous posting is off, moderated or on.")
    if mode != AnonymousPosting.OFF and not context_of(session).settings.anonymous_key:
        raise Invalid("Anonymous posting is not set up on this hub: an administrator sets PLEIN_ANONYMOUS_KEY.")
    group.anonymous = mode
    session.flush()
    return group


def reveal(session: Session, kind: str, item_id: int, reason: str, private_key: str, actor: str) -> User:
    """Who wrote anonymous item `item_id`, opened with the private key; the reveal is kept in the audit log."""
    if not reason.strip():
        raise Invalid("Say why the author is revealed: --reason is kept in the audit log.")
    sealed = session.scalar(
        select(AnonymousAuthor.sealed_author).where(AnonymousAuthor.item_kind == kind, AnonymousAuthor.item_id == item_id)
    ) if kind in KINDS else None
    if sealed is None:
        raise NotFound("No anonymous %(kind)s %(id)s.", kind=kind, id=item_id)
    author = session.get(User, unseal(private_key, kind, item_id, sealed))
    if author is None:
        raise NotFound("The author of %(kind)s %(id)s is no longer a user.", kind=kind, id=item_id)
    actor_id = session.scalar(select(User.id).where(User.email == actor.strip().lower()))
    record(session, actor, REVEAL, f"{kind} {item_id}", reason.strip(), actor_id)
    return author


def record(
    session: Session, actor: str, action: str, subject: str, reason: str, actor_id: int | None = None
) -> AuditEntry:
    """One entry in the audit log; `actor` as they were named (an address, or the command line's user), and
    `actor_id` when that is a user of the hub."""
    entry = AuditEntry(actor_id=actor_id, actor=actor[:320], action=action, subject=subject[:200], reason=reason)
    session.add(entry)
    session.flush()
    return entry


def audit_log(session: Session, limit: int = 200) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
