"""Running queued Celery jobs in the test's process, through the tasks' real code path."""

from __future__ import annotations

from hub import jobs
from workers import tasks


def run_jobs(context, task_name: str) -> int:
    """Take the jobs named `task_name` off the broker, as a worker would, and run them; how many."""
    ran = 0
    with context.jobs.connection_for_read() as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(jobs.DEFAULT_QUEUE)) is not None:
            channel.basic_ack(message.delivery_tag)
            if message.headers["task"] == task_name:
                args, kwargs, _ = message.decode()
                tasks.app.tasks[task_name].apply(args, kwargs).get()
                ran += 1
    return ran
