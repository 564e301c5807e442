"""Jobs go to the broker after commit; drains and flushes asked for in a burst go once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hub import jobs
from hub.db import upgrade_database
from hub.services import outbox
from tests.support.hub import hub_context


@pytest.fixture
def clock(monkeypatch):
    """The time `hub.jobs` reads, moved by hand."""
    now = [1_000_000.0]
    monkeypatch.setattr(jobs, "time", SimpleNamespace(time=lambda: now[0]))
    monkeypatch.setattr(jobs, "_held_until", {})
    return now


def queue_one_mail(context, number: int) -> None:
    with context.session_scope() as session:
        outbox.queue_mail(session, f"test:{number}", outbox.compose(
            subject=f"Mail {number}", sender=("Plein", "plein@plein.test"),
            recipient=("Bob", "bob@example.com"), text="Hallo", html="<p>Hallo</p>",
        ))


def queued_drains(context) -> int:
    return jobs.queue_depths(context.jobs)[jobs.DEFAULT_QUEUE]


def test_a_burst_of_commits_asks_for_one_drain_and_a_commit_after_it_started_for_another(context, clock):
    for number in range(20):
        queue_one_mail(context, number)
    assert queued_drains(context) == 1, "the drain sent first has yet to start, and will send all twenty"

    clock[0] += jobs.COALESCE_SECONDS - 0.01
    queue_one_mail(context, 20)
    assert queued_drains(context) == 1

    clock[0] += 0.02  # the first drain may have started and read the outbox before this commit
    queue_one_mail(context, 21)
    assert queued_drains(context) == 2


def test_a_job_with_arguments_is_sent_every_time(context, clock):
    for inbound_id in (1, 2, 2):
        with context.session_scope() as session:
            jobs.after_commit(session, "plein.inbound.process", inbound_id)
    assert jobs.queue_depths(context.jobs)[jobs.INBOUND_QUEUE] == 3


def test_a_drain_held_for_one_broker_does_not_hold_one_for_another(context, clock, monkeypatch, tmp_path):
    queue_one_mail(context, 1)
    assert queued_drains(context) == 1
    elsewhere = hub_context(tmp_path / "elsewhere")
    upgrade_database(elsewhere.settings)
    queue_one_mail(elsewhere, 2)
    assert queued_drains(elsewhere) == 1, "the new broker has a drain of its own"
    elsewhere.close()


def test_nothing_is_sent_for_a_transaction_that_rolled_back(context, clock):
    with pytest.raises(RuntimeError), context.session_scope() as session:
        outbox.schedule_drain(session)
        raise RuntimeError("the request failed")
    assert queued_drains(context) == 0
    queue_one_mail(context, 1)
    assert queued_drains(context) == 1
