"""`plein run`: every role of Plein in one command, on embedded defaults.

The web hub and the SMTP server share one asyncio loop in this process; the Celery worker
(with beat) runs as a child process, so the index has one writer. Ctrl-C stops them all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

import uvicorn

from hub.db import session_scope
from hub.gateway import HubInboundSink
from hub.services import demo, indexing
from hub.settings import get_settings
from hub.web.app import create_app
from mailgateway.smtp import start_smtp_server

log = logging.getLogger("plein")


def worker_command() -> list[str]:
    settings = get_settings()
    return [
        sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--beat",
        "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
        f"--schedule={settings.data_dir / 'beat-schedule'}",
    ]


def prepare(*, demo_data: bool) -> None:
    """Seed the demo and rebuild a missing index before any other process writes to it."""
    settings = get_settings()
    settings.signing_key()
    if demo_data:
        with session_scope() as session:
            if demo.seed_demo(session):
                log.info("seeded the demo company")
    if indexing.search_index().needs_rebuild:
        with session_scope() as session:
            log.info("rebuilt the search index: %d items", indexing.reindex(session))


async def serve() -> None:
    settings = get_settings()
    smtp = await start_smtp_server(
        HubInboundSink(), settings.smtp_host, settings.smtp_port,
        hostname=settings.mail_domain, max_message_size=settings.max_message_size,
    )
    web = uvicorn.Server(uvicorn.Config(create_app(), host=settings.http_host, port=settings.http_port, log_level="info"))
    log.info("web hub on %s, SMTP on %s:%s", settings.base_url, settings.smtp_host, settings.smtp_port)
    try:
        await web.serve()
    finally:
        smtp.close()
        await smtp.wait_closed()


def run_all(*, with_demo: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    prepare(demo_data=with_demo)
    worker = subprocess.Popen(worker_command(), env=os.environ.copy())
    try:
        asyncio.run(serve())
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        log.info("stopped")
