"""SMTP sessions that arrive together share one commit, and share its failure."""

from __future__ import annotations

import threading
import time

import pytest

from hub.gateway import GroupCommit, HubInboundSink
from hub.services import groups


def test_callers_queued_behind_a_commit_are_written_together_in_the_next():
    first_started, release_first = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def write(batch: list[int]) -> list[int]:
        batches.append(batch)
        if batch == [0]:
            first_started.set()
            release_first.wait(5)
        return [item * 10 for item in batch]

    commits = GroupCommit(write)
    results: dict[int, int] = {}

    def submit(item: int) -> None:
        results[item] = commits.submit(item)

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    assert first_started.wait(5)
    waiting = [threading.Thread(target=submit, args=(item,)) for item in (1, 2, 3)]
    for thread in waiting:
        thread.start()
    while len(commits._queue) < 3:  # all three queued behind the first commit
        time.sleep(0.01)
    release_first.set()
    for thread in [first, *waiting]:
        thread.join(5)

    assert batches[0] == [0] and sorted(batches[1]) == [1, 2, 3] and len(batches) == 2
    assert results == {0: 0, 1: 10, 2: 20, 3: 30}


def test_a_failed_commit_fails_every_caller_in_it_and_the_next_caller_starts_afresh():
    def write(batch: list[str]) -> list[str]:
        if "bad" in batch:
            raise OSError("database is down")
        return batch

    commits = GroupCommit(write)
    with pytest.raises(OSError, match="database is down"):
        commits.submit("bad")
    assert commits.submit("good") == "good"


def test_a_recipient_found_good_is_believed_for_a_while_and_a_refusal_never_remembered(context, session, monkeypatch):
    sink = HubInboundSink(context)
    assert not sink.accepts("engineering@plein.test")
    group = groups.create_group(session, "engineering", "Engineering")
    session.commit()
    assert sink.accepts("engineering@plein.test")  # the refusal was not kept

    session.delete(group)
    session.commit()
    assert sink.accepts("Engineering@plein.test")  # believed without asking the database
    later = time.monotonic() + HubInboundSink.KNOWN_RECIPIENT_SECONDS + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert not sink.accepts("engineering@plein.test")
