"""Parsing and reply trimming with a time limit: `parse_within`.

The `email` package takes time in proportion to what a message contains, and a crafted
message (ten thousand MIME parts, a header of endless encoded words) would hold a worker for
minutes; so would a reply whose lines trip up a trimming pattern. A thread cannot be stopped,
and a signal does not interrupt a regular expression that backtracks, so both run in another
process that can be killed: every step from raw bytes to the text of a post or comment.

Forking for every message cost more than the parse itself, so each process keeps one parser
child and sends it message after message over a pipe; a child that overruns its time is
killed and the next message gets a new one. It is a bare `os.fork`, because Celery's pool
processes may not start `multiprocessing` children. The child leaves when its parent does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import select
import signal
import struct
import threading
import time

from mailgateway.message import ParsedMessage
from mailgateway.parsing import parse_message
from mailgateway.replies import visible_text

_LENGTH = struct.Struct("!Q")
_PARENT_CHECK_SECONDS = 1.0


class ParseTimeout(Exception):
    """Parsing one message took longer than allowed, or the parser died on it."""


def parse_and_trim(raw: bytes) -> ParsedMessage:
    """`parse_message`, with the reply's own words in `reply_text`."""
    message = parse_message(raw)
    return dataclasses.replace(message, reply_text=visible_text(message.text))


class _ParserChild:
    """One forked child that parses each message its parent writes to it."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        to_child, self._requests = os.pipe()
        self._answers, from_child = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._requests)
            os.close(self._answers)
            _serve(to_child, from_child, self.owner)
        os.close(to_child)
        os.close(from_child)

    def parse(self, raw: bytes, seconds: float) -> ParsedMessage:
        _write_all(self._requests, _LENGTH.pack(len(raw)) + raw)
        deadline = time.monotonic() + seconds
        answer = self._read(_LENGTH.size, deadline, seconds)
        return pickle.loads(self._read(_LENGTH.unpack(answer)[0], deadline, seconds))

    def _read(self, size: int, deadline: float, seconds: float) -> bytes:
        chunks, left = [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._answers], [], [], remaining)[0]:
                raise ParseTimeout(f"parsing took longer than {seconds:g} seconds")
            chunk = os.read(self._answers, min(left, 1 << 20))
            if not chunk:
                raise ParseTimeout("the parser stopped without an answer")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def stop(self) -> None:
        for fd in (self._requests, self._answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        if os.getpid() == self.owner:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)


def _serve(requests: int, answers: int, parent: int) -> None:
    """The child's loop: parse what comes in, answer, and leave without cleanup handlers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the terminal is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    status = 0
    try:
        while True:
            # A pipe's write end may live on in the parent's other children: watch the parent itself.
            if not select.select([requests], [], [], _PARENT_CHECK_SECONDS)[0]:
                if os.getppid() != parent:
                    break
                continue
            header = _read_exactly(requests, _LENGTH.size)
            if header is None:
                break
            raw = _read_exactly(requests, _LENGTH.unpack(header)[0])
            if raw is None:
                break
            answer = pickle.dumps(parse_and_trim(raw))
            _write_all(answers, _LENGTH.pack(len(answer)) + answer)
    except BaseException:
        status = 1
    os._exit(status)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


_child: _ParserChild | None = None
_lock = threading.Lock()


def parse_within(raw: bytes, seconds: float) -> ParsedMessage:
    """`parse_and_trim`, given up after `seconds` with `ParseTimeout` (0: here, unbounded)."""
    global _child
    if seconds <= 0:
        return parse_and_trim(raw)
    with _lock:
        # Inherited across a fork it is not ours to use; killed from outside it is no use.
        if _child is not None and (_child.owner != os.getpid() or not _child.alive()):
            _child.stop()
            _child = None
        if _child is None:
            _child = _ParserChild()
        try:
            return _child.parse(raw, seconds)
        except (ParseTimeout, OSError) as error:  # overran, or died (a broken pipe): the next message gets a new one
            _child.stop()
            _child = None
            if isinstance(error, OSError):
                raise ParseTimeout(f"the parser stopped without an answer ({error})") from None
            raise
