"""Reading archives message by message: mbox separators and quoting, truncation, and a message of 100 MB."""

from __future__ import annotations

import doctest
import tracemalloc

import mailgateway.archives
from mailgateway.archives import read_mbox

MB = 1024 * 1024


def test_the_doctests_hold():
    assert doctest.testmod(mailgateway.archives).failed == 0


def test_only_a_real_from_line_after_a_blank_line_starts_a_message_and_quoted_ones_lose_one_quote(tmp_path):
    path = tmp_path / "a.mbox"
    first = b"From ann@example.com Mon Jan  6 10:00:00 2020\nSubject: one\n\nFrom time to time\n>From here\n\n"
    path.write_bytes(first + b"From bert@example.com Tue Jan  7 11:30:00 2020\r\nSubject: two\r\n\r\nbody\r\n")
    mails = list(read_mbox(path, MB))
    assert [m.position for m in mails] == ["byte 0", f"byte {len(first)}"]
    assert mails[0].raw == b"Subject: one\n\nFrom time to time\nFrom here\n"
    assert mails[1].raw == b"Subject: two\r\n\r\nbody\r\n"
    assert mails[-1].read_up_to == path.stat().st_size


def test_a_truncated_last_message_is_reported_not_given_half(tmp_path):
    path = tmp_path / "cut.mbox"
    path.write_bytes(b"From a@b Mon Jan  6 10:00:00 2020\nSubject: whole\n\nok\n\n"
                     b"From a@b Mon Jan  6 10:00:00 2020\nSubject: cut\n\nthis line never en")
    whole, cut = read_mbox(path, MB)
    assert whole.raw == b"Subject: whole\n\nok\n"
    assert (cut.raw, cut.problem) == (None, "the archive ends in the middle of this message (truncated)")


def test_a_message_of_100_mb_is_passed_over_without_being_held_in_memory(tmp_path):
    path = tmp_path / "huge.mbox"
    with path.open("wb") as out:
        out.write(b"From a@b Mon Jan  6 10:00:00 2020\nSubject: huge\n\n")
        line = b"A" * 1023 + b"\n"
        for _ in range(100 * 1024):
            out.write(line)
        out.write(b"\nFrom a@b Mon Jan  6 10:00:00 2020\nSubject: small\n\nhello\n")
    tracemalloc.start()
    try:
        huge, small = read_mbox(path, 25 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert huge.raw is None and "more than the 26214400 bytes a message may have" in huge.problem
    assert small.raw == b"Subject: small\n\nhello\n"
    assert peak < 40 * MB  # at most the 25 MB a message may have, never the 100 MB
