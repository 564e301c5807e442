"""The worker side of Plein's Celery app: which tasks exist and when beat runs them."""

from __future__ import annotations

from celery.schedules import crontab
from celery.signals import setup_logging

from hub.jobs import celery_app
from hub.logs import configure_logging
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
def use_plein_logging(**_: object) -> None:
    """Workers and beat log like every other Plein process (`PLEIN_LOG_FORMAT`)."""
    configure_logging()


app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
