"""Parsing with a time limit: one parser child for message after message, replaced when it overruns."""

from __future__ import annotations

import os
import signal
import time

import pytest

from mailgateway import timebox
from mailgateway.timebox import ParseTimeout, parse_within

PLAIN = b"From: Ann <ann@example.com>\r\nSubject: Lunch\r\nMessage-ID: <lunch@example.com>\r\n\r\nShall we?\r\n"
PATHOLOGICAL = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + b"".join(
    b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(10_000)
) + b"--b--\r\n"


def parser_pid() -> int:
    return timebox._child.pid


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has left, but waits for its parent to be reaped
        return stat.read().split(") ")[1].startswith("Z")


def wait_until_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return False


def test_one_parser_child_parses_message_after_message():
    first = parse_within(PLAIN, 5)
    pid = parser_pid()
    for number in range(20):
        assert parse_within(PLAIN.replace(b"Lunch", f"Lunch {number}".encode()), 5).subject == f"Lunch {number}"
    assert first.message_id == "lunch@example.com" and first.text.strip() == "Shall we?"
    assert parser_pid() == pid


def test_a_message_that_overruns_is_given_up_and_the_next_one_gets_a_new_parser():
    parse_within(PLAIN, 5)
    stuck = parser_pid()
    with pytest.raises(ParseTimeout, match="parsing took longer than 0.2 seconds"):
        parse_within(PATHOLOGICAL, 0.2)
    assert wait_until_gone(stuck)
    assert parse_within(PLAIN, 5).subject == "Lunch"
    assert parser_pid() != stuck


def test_a_parser_killed_from_outside_is_replaced_before_the_next_message():
    parse_within(PLAIN, 5)
    killed = parser_pid()
    os.kill(killed, signal.SIGKILL)
    assert wait_until_gone(killed)
    assert parse_within(PLAIN, 5).subject == "Lunch"
    assert parser_pid() != killed


def test_a_large_message_goes_through_the_pipe_whole():
    body = b"regel\r\n" * 400_000  # 2.8 MB, far more than a pipe holds at once
    assert len(parse_within(PLAIN + body, 30).text) > 2_000_000


def test_the_parser_child_leaves_when_its_process_is_killed():
    reader, writer = os.pipe()
    worker = os.fork()
    if worker == 0:  # a worker process: starts its parser, says which one, then waits to be killed
        os.close(reader)
        parse_within(PLAIN, 5)
        os.write(writer, str(parser_pid()).encode())
        time.sleep(60)
        os._exit(0)
    os.close(writer)
    child = int(os.read(reader, 32))
    os.close(reader)
    os.kill(worker, signal.SIGKILL)
    os.waitpid(worker, 0)
    assert wait_until_gone(child)


def test_without_a_limit_the_message_is_parsed_here():
    assert parse_within(PLAIN, 0).subject == "Lunch"
