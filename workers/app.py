"""The worker side of Plein's Celery app: which tasks exist and when beat runs them.

A worker or beat process builds its context here, once, as Celery imports this module; the
app is the context's job queue, and the tasks open their transactions on that context.
"""

from __future__ import annotations

import os

from celery.schedules import crontab
from celery.signals import beat_init, setup_logging, worker_init, worker_ready

from hub.context import build_context
from hub.logs import configure_logging
from hub.services import health

context = build_context()
app = context.jobs
sweep_interval = context.settings.sweep_interval
app.conf.beat_schedule = {
    # Each person has their own digest hour, time zone and weekday: the task finds who is due.
    "digests-due": {"task": "plein.digests.send_due", "schedule": crontab(minute=0)},
    "retry-stalled-inbound": {"task": "plein.inbound.sweep", "schedule": sweep_interval},
    "retry-stalled-outbox": {"task": "plein.outbox.sweep", "schedule": 60.0},
    "flush-stalled-index": {"task": "plein.search.sweep", "schedule": 10.0},
    # Statistics: yesterday is rolled up just after midnight (UTC); raw page views past their retention go after.
    "roll-up-participation": {"task": "plein.stats.roll_up", "schedule": crontab(minute=10, hour=0)},
    "remove-old-page-views": {"task": "plein.stats.remove_old_views", "schedule": crontab(minute=40, hour=0)},
}
if context.settings.ldap_url:
    app.conf.beat_schedule["sync-ldap"] = {
        "task": "plein.people.sync_ldap", "schedule": context.settings.ldap_sync_minutes * 60,
    }


@setup_logging.connect
def use_plein_logging(loglevel: int | str | None = None, **_: object) -> None:
    """Workers and beat log like every other Plein process (`PLEIN_LOG_FORMAT`), from `--loglevel` up."""
    configure_logging(loglevel or "INFO", log_format=context.settings.log_format)


@worker_init.connect
def give_way_to_mail_and_web(**_: object) -> None:
    """Run background work at a lower priority (`PLEIN_WORKER_NICE`); a prefork pool's children inherit it.

    Mail is accepted as soon as it is stored and processed after, so a busy machine should
    answer SMTP and the web first and catch up on the queue when it can.
    """
    os.nice(context.settings.worker_nice)


@worker_ready.connect
def say_which_queues_are_served(sender, **_: object) -> None:
    """A heartbeat for the roles of the queues this worker consumes, read by `/readyz` (hub/services/health.py)."""
    queues = sender.app.amqp.queues.consume_from
    health.start_heartbeat(
        context.settings.data_dir, [role for queue, role in health.QUEUE_ROLES.items() if queue in queues]
    )


@beat_init.connect
def say_beat_runs(**_: object) -> None:
    health.start_heartbeat(context.settings.data_dir, [health.BEAT])


app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
