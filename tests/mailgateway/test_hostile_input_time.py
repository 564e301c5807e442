"""Hostile input has a time budget: reply trimming and parsing take time in proportion to a
message, never to the square of a line's length, whatever its runs of spaces, quotes, `From`s
and quote headers.

Times are CPU seconds of this process, so that other work on the machine does not count.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgateway.replies import thread_subject, visible_text
from mailgateway.timebox import parse_and_trim

SIZE = 200_000
SECONDS = 3.0
"""The slowest inputs found take about 0.4 s on an idle machine; quadratic patterns took minutes.
The margin is for a machine busy with other work, whose caches slow this process's CPU time too."""

PREFIXES = ["", "> ", ">>>>", "On ", "Op 3 mrt. 2015 ", "From", "From:", "**From:** ", "1 ", "2015-10-18 ",
            "Sent from my ", "-- ", "-----", "Ann <ann@example.com> ", "re: ", "Am 3. März "]
UNITS = [" ", "\t", ">", "> ", "*", "-", "- ", "_", "=", ":", "From", "From ", "wrote", "wrote ", "wrote on ",
         "schreef ", "a", "a ", "1", "1 ", "2015 ", "a@b.c ", "ann@example.com", "@", "<", "<ann@x.com>", ".",
         "(", "On ", "GMT ", "é", "\u00a0", "Re: ", "[x]"]
SUFFIXES = ["", "x", ":", " wrote:", " wrote", " <ann@example.com>:", " --", "!", "é"]


@st.composite
def hostile_text(draw) -> str:
    """A block of one to four lines made of one piece repeated, the block repeated up to `SIZE`:
    one huge line, or many short ones."""
    lines = draw(st.lists(
        st.tuples(st.sampled_from(PREFIXES), st.sampled_from(UNITS), st.integers(1, 500), st.sampled_from(SUFFIXES)),
        min_size=1, max_size=4,
    ))
    block = "\n".join(prefix + unit * count + suffix for prefix, unit, count, suffix in lines)
    block += draw(st.sampled_from(["", "\n", "\n\n"]))
    return ("Thanks, that works.\n\n" + block * (SIZE // len(block) + 1))[:SIZE]


def cpu_seconds(work, *args) -> float:
    start = time.process_time()
    work(*args)
    return time.process_time() - start


HOSTILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HOSTILE
@given(hostile_text())
def test_every_reply_up_to_200_kb_is_trimmed_within_seconds(text: str):
    assert cpu_seconds(visible_text, text) < SECONDS


@HOSTILE
@given(hostile_text(), st.sampled_from(["Subject", "From", "To", "In-Reply-To"]))
def test_every_message_up_to_200_kb_is_parsed_and_trimmed_within_seconds(text: str, header: str):
    """The text as body (plain, then quoted-printable) and its first line, up to 2000 characters, as a header."""
    first = text.split("\n", 2)[2][:2000].replace("\n", " ")
    headers = {"From": "Ann <ann@example.com>", "Subject": "Re: Planning", header: first}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
    body = text.replace("\n", "\r\n").encode()
    assert cpu_seconds(parse_and_trim, head + b"\r\n" + body) < SECONDS
    qp = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    assert cpu_seconds(parse_and_trim, head + qp + body.replace(b"\r\n", b"=0D=0A=\r\n")) < SECONDS


@HOSTILE
@given(st.sampled_from(["re:", "Re: ", "AW:", "[x]", " ", "re", "re [1] ", "Fwd:"]))
def test_a_subject_of_endless_prefixes_is_reduced_within_seconds(prefix: str):
    assert cpu_seconds(thread_subject, prefix * (SIZE // len(prefix)) + "x") < SECONDS
