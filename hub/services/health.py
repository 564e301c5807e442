"""Is this Plein able to work? One check per part, each answering in one line.

`plein check` prints them all; `/readyz` answers 503 when one a web process needs fails, or
when a role that does the background work is missing. `/readyz` is public, so what it says
of each check (`Check.public`) names no URL, path or error text.

The roles say they are alive with heartbeats: every worker, the indexer's two (index, extraction) and beat
touch a file of their own under `PLEIN_DATA_DIR/heartbeats` every `HEARTBEAT_SECONDS`. The
data directory is shared by every process of an installation (docs/deployment.md), so a web
process on any machine sees whether each role runs somewhere; `plein run` also removes the
file of a child it saw die, so the gap shows at once rather than when the file goes stale.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import smtplib
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from hub import jobs
from hub.context import Context
from hub.settings import Settings

SMTP_TIMEOUT = 5.0
"""Seconds the smtp check waits for the greeting and the answer to EHLO."""
_EVERY_ADDRESS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}
"""A server bound to every address is reached on this machine's loopback."""


HEARTBEAT_SECONDS = 2.0
"""How often a role touches its heartbeat file."""
HEARTBEAT_STALE_SECONDS = 15.0
"""A role not heard from for this long is missing (a few beats, and some clock skew between machines)."""
FORGOTTEN_AFTER_SECONDS = 24 * 3600.0
"""Heartbeat files this old are removed when a role starts."""
QUEUE_ROLES = {
    jobs.INBOUND_QUEUE: "inbound worker", jobs.DEFAULT_QUEUE: "worker", jobs.INDEX_QUEUE: "indexer",
    jobs.EXTRACT_QUEUE: "extractor",
}
"""The role that consumes each queue: a worker on both queues is both an inbound worker and a worker."""
BEAT = "beat"
ROLES = [*QUEUE_ROLES.values(), BEAT]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    public: str = ""
    """What `/readyz` may tell anyone: words, no URLs, paths or error text."""

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def check_database(context: Context) -> Check:
    engine = context.engine
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception as error:
        return Check(
            "database", False, f"cannot query {engine.url.render_as_string(hide_password=True)}: {error}",
            "does not answer",
        )
    return Check("database", True, f"{engine.dialect.name}, migrations {', '.join(sorted(version))}", "answers")


def check_broker(context: Context) -> Check:
    settings = context.settings
    try:
        depths = jobs.queue_depths(context.jobs)
    except Exception as error:
        return Check("broker", False, f"cannot reach {_redact(settings.broker_url)}: {error}", "does not answer")
    waiting = ", ".join(f"{queue} {depth}" for queue, depth in depths.items())
    return Check("broker", True, f"{_redact(settings.broker_url)} (waiting: {waiting})", "answers")


def check_index(context: Context) -> Check:
    settings = context.settings
    if settings.search_url:
        try:
            context.search.search("plein", [])
        except Exception as error:
            return Check(
                "index", False, f"the indexer's query service at {settings.search_url} fails: {error}",
                "the indexer does not answer searches",
            )
        return Check("index", True, f"queries go to the indexer at {settings.search_url}", "the indexer answers searches")
    index_dir = settings.index_dir
    if not index_dir.exists():
        return Check(
            "index", False, f"{index_dir} does not exist yet: start `plein indexer` or run `plein reindex`",
            "the index is not built yet",
        )
    if not os.access(index_dir, os.R_OK):
        return Check("index", False, f"{index_dir} is not readable by this user", "the index is not readable")
    return Check("index", True, str(index_dir), "readable")


def check_outbox(settings: Settings) -> Check:
    if not settings.smarthost:
        folder = settings.outbox_dir if settings.outbox_dir.exists() else settings.data_dir
        if not os.access(folder, os.W_OK):
            return Check("outbox", False, f"cannot write the outbox Maildir under {folder}")
        return Check("outbox", True, f"no smarthost: outgoing mail goes to the Maildir {settings.outbox_dir}")
    host, _, port = settings.smarthost.partition(":")
    try:
        with smtplib.SMTP(host, int(port or 25), timeout=10) as smtp:
            code, _ = smtp.noop()
    except (OSError, smtplib.SMTPException) as error:
        return Check("outbox", False, f"smarthost {settings.smarthost} does not answer: {error}")
    return Check("outbox", code == 250, f"smarthost {settings.smarthost} answers {code}")


def check_smtp_settings(settings: Settings) -> Check:
    """Whether an SMTP server greets us where PLEIN_SMTP_HOST and PLEIN_SMTP_PORT say Plein listens."""
    if refusal := settings.unverified_smtp_refusal():
        return Check("smtp", False, refusal)
    if "." not in settings.mail_domain:
        return Check("smtp", False, f"PLEIN_MAIL_DOMAIN {settings.mail_domain!r} is not a domain")
    if not 0 < settings.smtp_port < 65536:
        return Check("smtp", False, f"PLEIN_SMTP_PORT {settings.smtp_port} is not a port")
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    host = _EVERY_ADDRESS.get(settings.smtp_host, settings.smtp_host)
    try:
        with smtplib.SMTP(host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
            code, reply = smtp.ehlo()
    except (OSError, smtplib.SMTPException) as error:
        return Check("smtp", False, f"nothing answers on {where}: {error}")
    if code != 250:
        return Check("smtp", False, f"{where} answers EHLO with {code} {reply.decode(errors='replace')}")
    unverified = ""
    if settings.inbound_auth == "none" and not settings.smtp_on_loopback:
        unverified = ", anyone may post as anyone (PLEIN_INBOUND_AUTH=none)"
    return Check(
        "smtp", True,
        f"groups at @{settings.mail_domain}, answers on {where}, "
        f"up to {settings.max_message_size // (1024 * 1024)} MB{unverified}",
    )


def check_roles(data_dir: Path) -> Check:
    """Whether every role that does background work has been heard from lately."""
    missing = [role for role in ROLES if role not in roles_alive(data_dir)]
    if missing:
        said = f"not running: {_words(missing)} (none heard from in {HEARTBEAT_STALE_SECONDS:g} s)"
        return Check("roles", False, said, said)
    return Check("roles", True, f"{_words(ROLES)} are running", "all running")


def roles_alive(data_dir: Path) -> set[str]:
    """The roles of every heartbeat file under `data_dir` touched within `HEARTBEAT_STALE_SECONDS`."""
    alive: set[str] = set()
    now = time.time()
    for path in _heartbeat_dir(data_dir).glob("*.json"):
        try:
            if now - path.stat().st_mtime <= HEARTBEAT_STALE_SECONDS:
                alive.update(json.loads(path.read_text())["roles"])
        except (OSError, ValueError, KeyError):
            continue  # removed or being replaced meanwhile
    return alive


def start_heartbeat(data_dir: Path, roles: list[str]) -> None:
    """Say from now on, until this process ends, that it plays `roles` (a thread touches its file under `data_dir`)."""
    path = _heartbeat_path(data_dir, os.getpid())
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob("*.json"):  # left by processes killed outright
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > FORGOTTEN_AFTER_SECONDS:
                old.unlink()
    stop = threading.Event()

    def beat() -> None:
        while True:
            try:
                os.utime(path)
            except FileNotFoundError:
                written = path.with_suffix(".new")
                written.write_text(json.dumps({"roles": roles, "host": socket.gethostname(), "pid": os.getpid()}))
                written.replace(path)
            if stop.wait(HEARTBEAT_SECONDS):
                return

    def end() -> None:
        stop.set()
        thread.join(timeout=HEARTBEAT_SECONDS)
        forget_heartbeat(data_dir, os.getpid())

    thread = threading.Thread(target=beat, name="plein heartbeat", daemon=True)
    thread.start()
    atexit.register(end)


def forget_heartbeat(data_dir: Path, pid: int) -> None:
    """Remove the heartbeat of process `pid` on this machine: it ended."""
    _heartbeat_path(data_dir, pid).unlink(missing_ok=True)


def _heartbeat_dir(data_dir: Path) -> Path:
    return data_dir / "heartbeats"


def _heartbeat_path(data_dir: Path, pid: int) -> Path:
    return _heartbeat_dir(data_dir) / f"{socket.gethostname()}-{pid}.json"


def _words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def all_checks(context: Context) -> list[Check]:
    return [
        check_database(context), check_broker(context), check_index(context), check_outbox(context.settings),
        check_smtp_settings(context.settings),
    ]


def readiness(context: Context) -> list[Check]:
    """What `/readyz` looks at: what a web process needs, and the roles that do the work behind it."""
    return [check_database(context), check_broker(context), check_index(context), check_roles(context.settings.data_dir)]


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{'***@' if at else ''}{host}"
