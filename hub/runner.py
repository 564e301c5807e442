"""Plein's roles as processes: web, SMTP, worker, beat and indexer, alone or all together.

`plein run` is the embedded profile: the web hub and the SMTP server share one asyncio loop
in this process; beat and four Celery workers run as child processes, one per queue: inbound
mail, so that parsing a hostile message never delays a sign-in link, a receipt or the outbox;
everything else; the index, so the index has one writer; and the extraction of attached
files' text (OCR included), so no post waits for a scan to be read. The runner watches its children
and starts one that dies again (`Supervisor`). In production each role runs on its own
(`plein web`, `plein smtp`, `plein worker`, `plein beat`, `plein indexer`), restarted by
systemd or the container runtime; only the indexer writes the index, and any number of web
and worker processes may run beside it.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

import click
import uvicorn
from fastapi import FastAPI

from hub.broker import use_write_ahead_log
from hub.context import Context, build_context
from hub.gateway import HubInboundSink, smtp_options, start_mailbox_watchers
from hub.jobs import DEFAULT_QUEUE, EXTRACT_QUEUE, INBOUND_QUEUE, INDEX_QUEUE
from hub.logs import configure_logging
from hub.services import accounts, demo, directory_groups, health, index_writer, indexing, signin
from hub.settings import Settings
from hub.urls import sign_in_path
from hub.web.app import create_app
from hub.web.health import serve_metrics
from mailgateway.smtp import start_smtp_server
from search.remote import serve_app

log = logging.getLogger("plein")

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a Linux process gets when its parent dies."""


def celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.app", *args]


def worker_command(queues: list[str], *, concurrency: int = 1) -> list[str]:
    pool = ["--pool=solo"] if concurrency == 1 else ["--pool=prefork", f"--concurrency={concurrency}"]
    return celery_command(
        "worker", f"--queues={','.join(queues)}", *pool, "--loglevel=INFO", "--without-gossip", "--without-mingle",
    )


def beat_command(settings: Settings) -> list[str]:
    return celery_command("beat", "--loglevel=INFO", f"--schedule={settings.data_dir / 'beat-schedule'}")


def prepare(context: Context, *, demo_data: bool = False) -> None:
    """Seed the demo and rebuild a missing index before any other process writes to it."""
    settings = context.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.signing_key()
    if settings.uses_embedded_broker:
        use_write_ahead_log(Path(settings.broker_url.removeprefix("sqla+sqlite:///")))
    if demo_data:
        with context.session_scope() as session:
            if demo.seed_demo(session):
                log.info("seeded the demo company")
    with context.session_scope() as session:
        directory_groups.ensure_company_group(session)
    if context.index.needs_rebuild:
        log.info("rebuilt the search index: %d items", index_writer.reindex(context))
    with context.session_scope() as session:
        # Changes a stopped indexer did not take in yet: flushed as soon as the index worker is up.
        indexing.requeue_stalled(session, older_than=timedelta(0))


def log_sender_authentication(settings: Settings) -> None:
    """Say at start-up how far the From of inbound mail is believed (`PLEIN_INBOUND_AUTH`)."""
    if settings.inbound_auth == "none":
        log.warning(
            "PLEIN_INBOUND_AUTH=none: the From of inbound mail is not verified, so anyone may post as anyone;"
            " set it to relay (with PLEIN_TRUSTED_AUTHSERV_IDS) or dkim"
        )
    else:
        log.info("the From of inbound mail is verified: PLEIN_INBOUND_AUTH=%s", settings.inbound_auth)


def refuse_unverified_smtp(settings: Settings) -> None:
    """Stop here, with one line saying what to set, if SMTP would let anyone post as anyone."""
    if refusal := settings.unverified_smtp_refusal():
        raise click.ClickException(refusal)


async def _start_smtp(context: Context) -> asyncio.Server:
    settings = context.settings
    log_sender_authentication(settings)
    server = await start_smtp_server(
        HubInboundSink(context), settings.smtp_host, settings.smtp_port,
        hostname=settings.mail_domain, max_message_size=settings.max_message_size, **smtp_options(settings),
    )
    log.info("SMTP on %s:%s", settings.smtp_host, settings.smtp_port)
    return server


def _web_server(context: Context) -> uvicorn.Server:
    """uvicorn logging through Plein's own handlers (`log_config=None`): one format, and quiet
    on `plein run`'s console like every other part."""
    settings = context.settings
    log.info("web hub on %s", settings.base_url)
    return uvicorn.Server(uvicorn.Config(
        create_app(context), host=settings.http_host, port=settings.http_port, log_level="info", log_config=None
    ))


def run_web(context: Context) -> None:
    settings = context.settings
    configure_logging(log_format=settings.log_format)
    settings.signing_key()
    serve_metrics(context)
    if settings.web_processes == 1:
        _web_server(context).run()
        return
    log.info("web hub on %s, %d processes", settings.base_url, settings.web_processes)
    uvicorn.run(
        "hub.runner:web_app", factory=True, workers=settings.web_processes, host=settings.http_host,
        port=settings.http_port, log_level="info", log_config=None,
        timeout_worker_healthcheck=60,  # a process starting on a busy machine is not a hung one
    )


def web_app() -> FastAPI:
    """The hub in one of `plein web`'s processes (`PLEIN_WEB_PROCESSES`): each builds its own context."""
    context = build_context()
    configure_logging(log_format=context.settings.log_format)
    return create_app(context)


def run_smtp(context: Context) -> None:
    refuse_unverified_smtp(context.settings)
    configure_logging(log_format=context.settings.log_format)

    async def serve() -> None:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopped.set)
        server = await _start_smtp(context)
        await stopped.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(serve())


def exec_role(command: list[str]) -> None:
    """Become the Celery process, so signals from systemd or a terminal reach it directly."""
    os.execv(command[0], command)


def _start_imap(context: Context) -> threading.Event:
    """Watch the mailboxes of `PLEIN_IMAP_URL`, if any, in threads; set the event to stop them."""
    stop = threading.Event()
    if context.settings.imap_url:
        log.info("watching %d IMAP mailbox(es)", len(start_mailbox_watchers(context, stop)))
    return stop


def run_indexer(context: Context) -> None:
    """The one writer of the index: a Celery worker on the index queue, a second one that reads
    attached files' text (the extraction lane), plus the index's query service for web processes
    that run where the index is not (`PLEIN_SEARCH_URL`)."""
    settings = context.settings
    configure_logging(log_format=settings.log_format)
    prepare(context)
    worker = Supervisor(settings.data_dir)
    worker.start("indexer", worker_command([INDEX_QUEUE]))
    worker.start("extractor", worker_command([EXTRACT_QUEUE]))
    worker.watch()
    app = serve_app(context.index, context.search_token(), settings.searches_at_once)
    log.info("index query service on %s:%s", settings.indexer_host, settings.indexer_port)
    try:
        uvicorn.Server(
            uvicorn.Config(app, host=settings.indexer_host, port=settings.indexer_port, log_level="warning")
        ).run()
    finally:
        worker.stop()


def _spawn(command: list[str], output: IO[bytes] | None = None) -> subprocess.Popen:
    """A child process that ends with this one, even when this one is killed outright.

    It runs in a session of its own, so a Ctrl-C in the terminal reaches this process alone,
    which then stops its children in order.
    """
    return subprocess.Popen(
        command, env=os.environ.copy(), preexec_fn=_terminate_with_parent, start_new_session=True,
        stdout=output, stderr=output,
    )


def _terminate_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(*children: subprocess.Popen, timeout: float = 20) -> None:
    """Ask every child to finish its task and leave (a warm shutdown), all at once; kill what stays."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def run_all(context: Context, *, with_demo: bool, verbose: bool = False) -> None:
    """Everything in one terminal. Quiet unless `verbose`: one banner and any warning on the
    console, and the whole log, every process's, in `LOG_FILE` under the data directory."""
    settings = context.settings
    refuse_unverified_smtp(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = None if verbose else settings.data_dir / LOG_FILE
    configure_logging(log_format=settings.log_format, log_file=log_path)
    prepare(context, demo_data=with_demo)
    log_file = log_path.open("ab") if log_path else None
    children = Supervisor(settings.data_dir, log_file)
    # Solo pools: with the embedded broker's polling loop a prefork pool waits on every task.
    children.start("inbound worker", worker_command([INBOUND_QUEUE]))
    children.start("worker", worker_command([DEFAULT_QUEUE]))
    children.start("indexer", worker_command([INDEX_QUEUE]))
    children.start("extractor", worker_command([EXTRACT_QUEUE]))
    children.start("beat", beat_command(settings))
    children.watch()
    imap_stop = _start_imap(context)
    serve_metrics(context)

    async def serve() -> None:
        smtp = await _start_smtp(context)
        web = _web_server(context)
        serving = asyncio.create_task(web.serve())
        while not (web.started or serving.done()):
            await asyncio.sleep(0.05)
        if web.started:
            click.echo(banner(context, with_demo=with_demo, log_file=log_path))
        try:
            await serving
        finally:
            smtp.close()
            await smtp.wait_closed()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass  # Ctrl-C: the usual way to stop, not an error
    finally:
        imap_stop.set()
        children.stop()
        if log_file:
            log_file.close()
    click.echo("Plein stopped.")


@dataclass
class _Child:
    role: str
    command: list[str]
    process: subprocess.Popen
    started: float
    quick_deaths: int = 0
    restart_at: float | None = None


class Supervisor:
    """The children of `plein run` or `plein indexer`, each started again when it dies.

    A child that dies is logged, its heartbeat removed at once (so `/readyz` names its role
    as missing until the new one is up), and started again after `RESTART_PAUSE_SECONDS`,
    doubled for each death within `STEADY_SECONDS` of its start, up to `RESTART_PAUSE_MAX_SECONDS`:
    a child that cannot start does not spin.
    """

    RESTART_PAUSE_SECONDS = 1.0
    RESTART_PAUSE_MAX_SECONDS = 60.0
    STEADY_SECONDS = 60.0
    LOOK_SECONDS = 0.2

    def __init__(self, data_dir: Path, output: IO[bytes] | None = None) -> None:
        self.data_dir = data_dir
        self.output = output
        self.children: list[_Child] = []
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="plein supervisor", daemon=True)

    def start(self, role: str, command: list[str]) -> None:
        self.children.append(_Child(role, command, _spawn(command, self.output), time.monotonic()))

    def watch(self) -> None:
        self._watcher.start()

    def stop(self) -> None:
        """Stop watching, then stop every child as `_stop` does."""
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join()
        _stop(*(child.process for child in self.children))

    def _watch(self) -> None:
        while not self._stopping.wait(self.LOOK_SECONDS):
            for child in self.children:
                self._look_after(child)

    def _look_after(self, child: _Child) -> None:
        now = time.monotonic()
        if child.restart_at is None:
            status = child.process.poll()
            if status is None:
                return
            health.forget_heartbeat(self.data_dir, child.process.pid)
            if now - child.started >= self.STEADY_SECONDS:
                child.quick_deaths = 0
            pause = min(self.RESTART_PAUSE_SECONDS * 2 ** child.quick_deaths, self.RESTART_PAUSE_MAX_SECONDS)
            child.quick_deaths += 1
            child.restart_at = now + pause
            log.warning(
                "the %s (pid %d) stopped with exit status %s; starting it again in %g s",
                child.role, child.process.pid, status, pause,
            )
        elif now >= child.restart_at:
            child.process, child.started, child.restart_at = _spawn(child.command, self.output), now, None
            log.warning("started the %s again (pid %d)", child.role, child.process.pid)


LOG_FILE = "plein.log"
"""Where `plein run` writes the whole log of all its processes, unless `--verbose` puts it on the console."""
DEMO_LINK_LIFETIME_SECONDS = 24 * 3600
"""The demo's sign-in links, printed on the console only, work once within a day."""


def banner(context: Context, *, with_demo: bool, log_file: Path | None) -> str:
    """What `plein run` prints once it listens: where to go, and for the demo whom to be."""
    settings = context.settings
    lines = [
        "",
        "Plein is running.",
        f"  Web hub   {settings.base_url}",
        f"  SMTP      {settings.smtp_host}:{settings.smtp_port}, for mail to GROUP@{settings.mail_domain}",
        f"  Data      {settings.data_dir}",
    ]
    if log_file:
        lines.append(f"  Log       {log_file}  (plein run --verbose shows it here)")
    with context.session_scope() as session:
        if with_demo:
            lines += ["", "Sign in as one of the demo's people (each link works once, within a day):"]
            for person in demo.PEOPLE:
                token = signin.sign_in_token(accounts.get_user(session, person.email), DEMO_LINK_LIFETIME_SECONDS)
                lines += [f"  {person.name} <{person.email}>, {person.role}", f"    {context.url(sign_in_path(token))}"]
        elif not accounts.has_users(session):
            lines += ["", "No one can sign in yet: add yourself with", '  plein user add you@example.com --name "Your Name"']
    lines += ["", "Press Ctrl-C to stop.", ""]
    return "\n".join(lines)
