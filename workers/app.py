"""The worker side of Plein's Celery app: which tasks exist and when beat runs them."""

from __future__ import annotations

import os

from celery.schedules import crontab
from celery.signals import beat_init, setup_logging, worker_init, worker_ready

from hub.jobs import celery_app
from hub.logs import configure_logging
from hub.services import health
from hub.settings import get_settings

app = celery_app()
sweep_interval = get_settings().sweep_interval
app.conf.beat_schedule = {
    # Each person has their own digest hour, time zone and weekday: the task finds who is due.
    "digests-due": {"task": "plein.digests.send_due", "schedule": crontab(minute=0)},
    "retry-stalled-inbound": {"task": "plein.inbound.sweep", "schedule": sweep_interval},
    "retry-stalled-outbox": {"task": "plein.outbox.sweep", "schedule": 60.0},
    "flush-stalled-index": {"task": "plein.search.sweep", "schedule": 10.0},
}


@setup_logging.connect
def use_plein_logging(loglevel: int | str | None = None, **_: object) -> None:
    """Workers and beat log like every other Plein process (`PLEIN_LOG_FORMAT`), from `--loglevel` up."""
    configure_logging(loglevel or "INFO")


@worker_init.connect
def give_way_to_mail_and_web(**_: object) -> None:
    """Run background work at a lower priority (`PLEIN_WORKER_NICE`); a prefork pool's children inherit it.

    Mail is accepted as soon as it is stored and processed after, so a busy machine should
    answer SMTP and the web first and catch up on the queue when it can.
    """
    os.nice(get_settings().worker_nice)


@worker_ready.connect
def say_which_queues_are_served(sender, **_: object) -> None:
    """A heartbeat for the roles of the queues this worker consumes, read by `/readyz` (hub/services/health.py)."""
    queues = sender.app.amqp.queues.consume_from
    health.start_heartbeat([role for queue, role in health.QUEUE_ROLES.items() if queue in queues])


@beat_init.connect
def say_beat_runs(**_: object) -> None:
    health.start_heartbeat([health.BEAT])


app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
