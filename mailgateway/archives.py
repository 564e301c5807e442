"""Reading old mail out of an archive, one message at a time: an mbox file, a Maildir, or one IMAP folder.

Each reader yields `ArchivedMail`: the raw bytes of one message and where it sits in the archive
(a byte offset, a file name, a UID), so whoever refuses it can say which one. A reader never holds
more than one message: an mbox of a gigabyte is read line by line, and a message over `max_size`
is passed over without being kept, with its reason instead of its bytes.

The mbox reader takes a line as the start of a message only when it is a real `From ` line
(`From sender date`, as mail systems write it, RFC 4155): archives written without quoting
("mboxo") keep a body line such as "From time to time" after a blank line. Quoted lines
(`>From `, ">>From ", "mboxrd") lose one `>`.
"""

from __future__ import annotations

import mailbox
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from mailgateway.imap import MailboxUrl

FROM_LINE = re.compile(rb"^From \S*[ \t]+.*\d{1,2}:\d{2}.*\d{4}")
"""The separator line of an mbox (RFC 4155): `From `, the sender, and a date with a time and a year."""
_QUOTED_FROM = re.compile(rb"^>+From ")
IMAP_BATCH = 50
"""Messages fetched from an IMAP folder in one command."""


@dataclass(frozen=True)
class ArchivedMail:
    """One message of an archive: its bytes, or why they cannot be taken (`problem`), and where it is.

    `read_up_to` is how far the reader got with it, in the unit of the archive's size (`mbox_size` and
    the others): what a progress bar shows."""

    position: str
    raw: bytes | None
    problem: str = ""
    read_up_to: int = 0


def too_large(size: int, max_size: int) -> str:
    return f"the message is {size} bytes, more than the {max_size} bytes a message may have"


def read_mbox(path: Path, max_size: int) -> Iterator[ArchivedMail]:
    """The messages of the mbox file at `path`, in order, each with its byte offset.

    A file that ends in the middle of a message (no line end at its very end) gives that last
    message as truncated: it is reported, not half imported.
    """
    with path.open("rb") as archive:
        start, size, lines, offset, ended = None, 0, [], 0, True
        for line in archive:
            if FROM_LINE.match(line) and ended:
                if start is not None:
                    yield _mbox_mail(start, offset, lines, size, max_size)
                start, size, lines = offset, 0, []
            elif start is None:
                if line.strip():
                    yield ArchivedMail(f"byte {offset}", None, "this is not an mbox file: it does not start with a From line")
                    return
            else:
                size += len(line)
                if size <= max_size:
                    lines.append(line[1:] if _QUOTED_FROM.match(line) else line)
                elif lines:
                    lines = []  # past the limit: what was kept goes, the rest is only counted
            offset += len(line)
            ended = not line.strip()
        if start is not None:
            truncated = bool(lines) and not lines[-1].endswith(b"\n")
            mail = _mbox_mail(start, offset, lines, size, max_size)
            if truncated and not mail.problem:
                mail = ArchivedMail(mail.position, None, "the archive ends in the middle of this message (truncated)",
                                    offset)
            yield mail


def _mbox_mail(start: int, end: int, lines: list[bytes], size: int, max_size: int) -> ArchivedMail:
    position = f"byte {start}"
    if size > max_size:
        return ArchivedMail(position, None, too_large(size, max_size), end)
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]  # the blank line before the next From line belongs to the mbox, not the message
    return ArchivedMail(position, b"".join(lines), read_up_to=end)


def mbox_size(path: Path) -> int:
    """What `read_mbox` reports progress in: bytes."""
    return path.stat().st_size


def read_maildir(path: Path, max_size: int) -> Iterator[ArchivedMail]:
    """The messages of the Maildir at `path` (`new` and `cur`), in the order of their file names."""
    folder = mailbox.Maildir(path, factory=None, create=False)
    for done, key in enumerate(sorted(folder.keys(), key=_delivery_order), 1):
        name = folder._lookup(key)  # noqa: SLF001 - the file's own name, to report where a message is
        file = Path(path) / name
        size = file.stat().st_size
        if size > max_size:
            yield ArchivedMail(name, None, too_large(size, max_size), done)
            continue
        yield ArchivedMail(name, file.read_bytes(), read_up_to=done)


_DELIVERED = re.compile(r"^(\d+)\.(?:[^.]*?M(\d+))?")


def _delivery_order(key: str) -> tuple[int, int, str]:
    """A Maildir file name starts with when it was delivered: seconds, then often `M` and microseconds
    (`1577836800.M123P45Q6.host`); sorted as numbers, the messages come in the order they arrived.

    >>> sorted(["10.M999P1.h", "10.M1000P1.h", "9.M5P1.h"], key=_delivery_order)
    ['9.M5P1.h', '10.M999P1.h', '10.M1000P1.h']
    """
    found = _DELIVERED.match(key)
    if found is None:
        return (0, 0, key)
    return (int(found.group(1)), int(found.group(2) or 0), key)


def maildir_size(path: Path) -> int:
    return len(mailbox.Maildir(path, factory=None, create=False))


def imap_client(url: MailboxUrl, timeout: float = 60.0) -> IMAPClient:
    context = ssl.create_default_context() if url.use_ssl else None
    client = IMAPClient(url.host, port=url.port, ssl=url.use_ssl, ssl_context=context, timeout=timeout)
    client.login(url.user, url.password)
    return client


def read_imap(url: MailboxUrl, max_size: int) -> Iterator[ArchivedMail]:
    """The messages of one IMAP folder, by UID, read-only: the folder is left as it was."""
    client = imap_client(url)
    try:
        client.select_folder(url.folder, readonly=True)
        uids = sorted(client.search(["ALL"]))
        for at in range(0, len(uids), IMAP_BATCH):
            batch = uids[at: at + IMAP_BATCH]
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            wanted = [uid for uid in batch if sizes.get(uid, {}).get(b"RFC822.SIZE", 0) <= max_size]
            bodies = client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {}
            for done, uid in enumerate(batch, at + 1):
                if uid not in bodies:
                    size = sizes.get(uid, {}).get(b"RFC822.SIZE", 0)
                    yield ArchivedMail(f"UID {uid}", None, too_large(size, max_size), done)
                else:
                    yield ArchivedMail(f"UID {uid}", bodies[uid][b"BODY[]"], read_up_to=done)
    finally:
        client.logout()


def imap_size(url: MailboxUrl) -> int:
    client = imap_client(url)
    try:
        return client.select_folder(url.folder, readonly=True)[b"EXISTS"]
    finally:
        client.logout()
