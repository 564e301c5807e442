"""The worker side of Plein's Celery app: which tasks exist and when beat runs them."""

from __future__ import annotations

from celery.schedules import crontab

from hub.jobs import celery_app
from hub.settings import get_settings

app = celery_app()
settings = get_settings()
app.conf.beat_schedule = {
    "daily-digest": {
        "task": "plein.digests.send",
        "schedule": crontab(hour=settings.digest_hour, minute=0),
        "args": ("daily",),
    },
    "weekly-digest": {
        "task": "plein.digests.send",
        "schedule": crontab(hour=settings.digest_hour, minute=0, day_of_week=(settings.digest_weekday + 1) % 7),
        "args": ("weekly",),
    },
    "retry-stalled-inbound": {"task": "plein.inbound.sweep", "schedule": 60.0},
    "retry-stalled-outbox": {"task": "plein.outbox.sweep", "schedule": 60.0},
}
app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
