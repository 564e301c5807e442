"""Is this Plein able to work? One check per part, each answering in one line.

`plein check` prints them all; `/readyz` answers 503 when one a web process needs fails.
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass

from sqlalchemy import text

from hub import jobs
from hub.db import get_engine
from hub.services import indexing
from hub.settings import get_settings

SMTP_TIMEOUT = 5.0
"""Seconds the smtp check waits for the greeting and the answer to EHLO."""
_EVERY_ADDRESS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}
"""A server bound to every address is reached on this machine's loopback."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def check_database() -> Check:
    engine = get_engine()
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception as error:
        return Check("database", False, f"cannot query {engine.url.render_as_string(hide_password=True)}: {error}")
    return Check("database", True, f"{engine.dialect.name}, migrations {', '.join(sorted(version))}")


def check_broker() -> Check:
    settings = get_settings()
    try:
        depths = jobs.queue_depths()
    except Exception as error:
        return Check("broker", False, f"cannot reach {_redact(settings.broker_url)}: {error}")
    waiting = ", ".join(f"{queue} {depth}" for queue, depth in depths.items())
    return Check("broker", True, f"{_redact(settings.broker_url)} (waiting: {waiting})")


def check_index() -> Check:
    settings = get_settings()
    if settings.search_url:
        try:
            indexing.search_reader().search("plein", [])
        except Exception as error:
            return Check("index", False, f"the indexer's query service at {settings.search_url} fails: {error}")
        return Check("index", True, f"queries go to the indexer at {settings.search_url}")
    index_dir = settings.index_dir
    if not index_dir.exists():
        return Check("index", False, f"{index_dir} does not exist yet: start `plein indexer` or run `plein reindex`")
    if not os.access(index_dir, os.R_OK):
        return Check("index", False, f"{index_dir} is not readable by this user")
    return Check("index", True, str(index_dir))


def check_outbox() -> Check:
    settings = get_settings()
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


def check_smtp_settings() -> Check:
    """Whether an SMTP server greets us where PLEIN_SMTP_HOST and PLEIN_SMTP_PORT say Plein listens."""
    settings = get_settings()
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
    return Check(
        "smtp", True,
        f"groups at @{settings.mail_domain}, answers on {where}, "
        f"up to {settings.max_message_size // (1024 * 1024)} MB",
    )


def all_checks() -> list[Check]:
    return [check_database(), check_broker(), check_index(), check_outbox(), check_smtp_settings()]


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{'***@' if at else ''}{host}"
