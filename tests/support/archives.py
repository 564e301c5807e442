"""Generated list-mail archives with realistic threading, for the import tests and bench/import.py.

A thread starts with a question and gets answers over the next days: most answer the newest
message (In-Reply-To and References), some only by subject (`Re:`, `AW:`, `Antw:` and a list
tag, as old mail clients wrote), and a few come before the message they answer, as archives
merged from two mailboxes have them. Some carry an attachment. The archive is written message by
message, so its size does not depend on memory.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

START = datetime(2019, 3, 4, 9, 0, tzinfo=UTC)
PEOPLE = [(f"Medewerker {n}", f"person{n}@example.com") for n in range(40)]
WORDS = (
    "glasvezel modem storing netwerk klant monteur planning offerte router wifi koper centrale "
    "kabel aansluiting ticket escalatie rapport budget kwartaal release backup server migratie"
).split()


@dataclass
class GeneratedArchive:
    path: Path
    messages: int
    threads: int
    replies_by_subject: int = 0
    replies_before_parent: int = 0
    attachments: int = 0
    thread_of: dict[str, str] = field(default_factory=dict)
    """Message-ID -> the Message-ID of its thread's first message."""


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _messages(count: int, seed: int, archive: GeneratedArchive, message_kb: float = 0) -> Iterator[EmailMessage]:
    rng = random.Random(seed)
    made = 0
    thread = 0
    while made < count:
        thread += 1
        archive.threads += 1
        started = START + timedelta(hours=7 * thread)
        subject = f"{_text(rng, 3)[:-1]} {thread}"
        root_id = f"<t{thread}.m0@archive.example>"
        chain = [root_id]
        size = min(count - made, rng.choice([1, 1, 2, 3, 4, 6, 9]))
        thread_messages = []
        for n in range(size):
            message = EmailMessage()
            name, address = rng.choice(PEOPLE)
            message["From"] = f"{name} <{address}>"
            message["To"] = "team@lists.example"
            message["Date"] = format_datetime(started + timedelta(hours=3 * n))
            message["Message-ID"] = root_id if n == 0 else f"<t{thread}.m{n}@archive.example>"
            if n == 0:
                message["Subject"] = f"[team] {subject}"
            elif n % 5 == 4:
                message["Subject"] = f"{rng.choice(['Re:', 'AW:', 'Antw:'])} [team] {subject}"
                archive.replies_by_subject += 1
            else:
                message["Subject"] = f"Re: [team] {subject}"
                message["In-Reply-To"] = chain[-1]
                message["References"] = " ".join(chain)
            message.set_content(f"{_text(rng, 12)}\n\n{_text(rng, 20)}\n{_quoted(rng, message_kb)}")
            if rng.random() < 0.05:
                message.add_attachment(_text(rng, 30).encode(), maintype="text", subtype="plain",
                                       filename=f"notes-{thread}-{n}.txt")
                archive.attachments += 1
            chain.append(message["Message-ID"])
            archive.thread_of[message["Message-ID"].strip("<>")] = root_id.strip("<>")
            thread_messages.append(message)
        if size >= 3 and rng.random() < 0.1 and "In-Reply-To" in thread_messages[2]:
            thread_messages[1], thread_messages[2] = thread_messages[2], thread_messages[1]
            archive.replies_before_parent += 1
        made += size
        yield from thread_messages


def _quoted(rng: random.Random, kilobytes: float) -> str:
    """About `kilobytes` of quoted history under the answer, as mail clients add it."""
    lines, size = [], 0
    while size < kilobytes * 1024:
        lines.append("> " + _text(rng, 12))
        size += len(lines[-1]) + 1
    return ("\nOn an earlier day someone wrote:\n" + "\n".join(lines) + "\n") if lines else ""


def write_mbox(path: Path, count: int, seed: int = 21, message_kb: float = 0) -> GeneratedArchive:
    """An mbox of `count` messages in threads, written one message at a time; each about `message_kb` larger."""
    archive = GeneratedArchive(path, count, 0)
    with path.open("wb") as out:
        for message in _messages(count, seed, archive, message_kb):
            archive.messages = count
            out.write(mbox_entry(message))
    return archive


def mbox_entry(message: EmailMessage) -> bytes:
    """One message as an mbox holds it: a From line, `>From ` quoting (mboxrd), and a blank line after."""
    raw = message.as_bytes(policy=message.policy.clone(linesep="\n"))
    quoted = b"\n".join(b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in raw.split(b"\n"))
    when = datetime(2019, 1, 1).strftime("%a %b %d %H:%M:%S %Y").encode()
    return b"From archive@example.com " + when + b"\n" + quoted.rstrip(b"\n") + b"\n\n"


def messages_of(count: int, seed: int = 21) -> tuple[GeneratedArchive, list[EmailMessage]]:
    """The messages `write_mbox` would write, in memory: for a Maildir or an IMAP folder of a test."""
    archive = GeneratedArchive(Path(), count, 0)
    return archive, list(_messages(count, seed, archive))
