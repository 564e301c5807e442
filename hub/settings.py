"""Every setting of Plein, read once from `PLEIN_*` environment variables.

On embedded defaults everything lives under `PLEIN_DATA_DIR`: the SQLite database, the
Tantivy index, the attachment store, the raw inbound mail, the broker's folders and the
outbox Maildir that stands in for a smarthost.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.locale import LANGUAGES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLEIN_")

    data_dir: Path = Path("plein-data")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 8002
    """Where a web process serves Prometheus's `/metrics`, apart from the hub's port; 0 for nowhere.
    Where several web processes share a machine, the first to take the port serves it."""
    mail_domain: str = "plein.localhost"
    base_url: str = ""
    database_url: str = ""
    broker_url: str = ""
    smarthost: str = ""
    """`host:port` of the relay for outgoing mail; empty writes to the outbox Maildir."""
    smarthost_user: str = ""
    smarthost_password: str = ""
    secret_key: str = ""
    max_message_size: int = 25 * 1024 * 1024
    digest_hour: int = 7
    digest_weekday: int = 0
    """Day of the weekly digest, 0 = Monday."""
    timezone: str = "Europe/Amsterdam"
    """The digest hour, weekday and time zone above are what new users start with."""
    default_language: str = Field(
        default="en",
        validation_alias=AliasChoices("PLEIN_DEFAULT_LANGUAGE", "PLEIN_LANGUAGE", "default_language", "language"),
    )
    """The language of new users and of visitors whose browser asks for none Plein speaks: `en` or `nl`.
    `PLEIN_LANGUAGE` is its older name, still read."""
    bounce_threshold: float = 3.0
    """Bounce score at which mail to an address stops (a hard bounce counts 1, a soft one 0.5)."""
    outbox_batch_size: int = 100
    """Queued messages sent over one smarthost connection before the worker looks again."""
    outbox_lease_seconds: int = 300
    """How long a worker holds the messages it took; after a crash they are due again then."""
    page_size: int = 20
    search_url: str = ""
    """The indexer's query service (`http://host:8001`) for web processes without the index."""
    indexer_host: str = "127.0.0.1"
    indexer_port: int = 8001
    worker_nice: int = 10
    """How much Celery workers lower their CPU priority (nice(2)), so that when background work
    fills the CPU, SMTP still answers and pages still load; 0 for none."""
    web_processes: int = Field(default=1, ge=1)
    """Processes `plein web` serves the hub with, on one port: one per core on a machine that only
    serves the web (docs/deployment.md). `plein run` serves it in its own process."""
    searches_at_once: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    """Searches a process answers at a time (the web process, or the indexer's query service);
    the next ones wait their turn. The number of cores by default (search/turns.py)."""
    index_commit_interval: float = 1.0
    """Seconds the indexer leaves between two commits; what changes meanwhile goes into the next one."""
    log_format: str = "text"
    """`text` for people, `json` for one JSON object per line."""
    sweep_interval: float = 60.0
    """Seconds between sweeps that hand stalled inbound mail to the workers again."""
    sweep_after: float = 120.0
    """Seconds a message may wait for its job before a sweep hands it out again."""
    smtp_tls_cert: str = ""
    """PEM certificate (chain) for STARTTLS; with `smtp_tls_key`, SMTP offers STARTTLS."""
    smtp_tls_key: str = ""
    smtp_max_per_sender_per_minute: int = 60
    """Messages one envelope sender may start per minute before SMTP answers 451; 0 for no limit."""
    smtp_max_per_client_per_minute: int = 300
    """Messages one client IP address may start per minute before SMTP answers 451; 0 for no limit."""
    max_attachments: int = 50
    """A message with more attachments is refused, with the reason on record."""
    web_upload_max_bytes: int = 500 * 1024 * 1024
    """Largest post or comment with its files sent on the web or over the API, streamed to disk (a video);
    mail keeps `max_message_size`."""
    parse_time_limit: float = 30.0
    """Seconds a worker may spend parsing one message before it is quarantined; 0 for no limit."""
    imap_url: str = ""
    """`imap[s]://user:password@host:port/FOLDER` of mailboxes to take mail from, separated by spaces."""
    imap_done_folder: str = ""
    """Move stored IMAP messages to this folder; empty marks them seen where they are."""
    imap_poll_interval: float = 60.0
    """Seconds between looks at a mailbox whose server offers no IDLE."""
    inbound_auth: Literal["none", "relay", "dkim"] = "none"
    """How a From address is believed: not checked (`none`), by trusted relays' Authentication-Results
    (`relay`), or by verifying DKIM here (`dkim`); see `mailgateway.authentication`."""
    trusted_authserv_ids: str = ""
    """Comma-separated authserv-ids of the relays whose Authentication-Results count, e.g. `mx.corp.example`."""
    dns_resolver: str = ""
    """`IP:port` of the DNS server for DKIM key lookups; empty uses the system's resolver."""
    extract_time_limit: float = 10.0
    """Seconds the indexer may spend reading the text of one attached file; one that takes longer is
    found by its name only, with the reason on its row (`attachments.extraction_error`)."""
    ocr_time_limit: float = 30.0
    """Seconds the extractor may spend reading the text in one image with Tesseract (OCR); an A4 scan at 300 dpi
    takes a few. Like `extract_time_limit`, but for photos and scans."""
    extract_memory_limit: int = 512 * 1024 * 1024
    """Bytes of memory the process that reads one attached file may use; the same goes for a file that needs more."""
    max_mail_comments_per_sender_per_thread_per_hour: int = 10
    """Comments by mail one sender may add to one thread within an hour; more are refused (a mail
    loop between autoresponders) and answered by no mail. 0 for no limit."""
    max_mail_comments_per_thread_per_hour: int = 60
    """Comments by mail one thread may take within an hour from all senders together; 0 for no limit."""
    group_creation: Literal["everyone", "admins"] = "everyone"
    """Who creates groups on the web and over the API: every active person, or hub admins only."""
    anonymous_key: str = ""
    """The public key anonymous authors are sealed to (`plein anonymous keygen` makes the pair; its private
    key stays with the administrators who may reveal an author). Empty: no group takes anonymous posts."""
    company_group: str = "everyone"
    """The address (slug) of the all-company group, whose members are every active person: made when Plein
    starts or by `plein group company`; empty for none."""
    ldap_url: str = ""
    """`ldap://host:389` or `ldaps://host:636` of the directory server `plein people sync-ldap` reads; when set,
    beat runs the sync every `ldap_sync_minutes`."""
    ldap_bind_dn: str = ""
    """Who the sync binds as; empty binds anonymously."""
    ldap_password: str = ""
    ldap_base_dn: str = ""
    ldap_filter: str = ""
    """Which entries are people; empty for the schema's default (hub/services/ldap_directory.py)."""
    ldap_schema: Literal["openldap", "ad"] = "openldap"
    """Whose attribute names to read: OpenLDAP's inetOrgPerson or Active Directory's."""
    ldap_attributes: str = ""
    """Changes to the schema's attribute map, `field=attribute|fallback,...`, e.g.
    `department=ou,expertise=businessCategory`."""
    ldap_sync_minutes: float = 60.0
    stats_view_retention_days: int = Field(default=90, ge=1)
    """Days raw page views are kept before beat removes them; the daily rollups the statistics read are kept
    (hub/services/participation.py)."""
    photo_max_bytes: int = 10 * 1024 * 1024
    """The largest profile photo a person may upload, in bytes; a larger one is refused, nothing stored."""

    @field_validator("default_language")
    @classmethod
    def _spoken(cls, language: str) -> str:
        if language not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return language

    @property
    def language(self) -> str:
        """The older name of `default_language`."""
        return self.default_language

    @property
    def smtp_on_loopback(self) -> bool:
        """True when only this machine can reach the SMTP server (an empty host is every address)."""
        if self.smtp_host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.smtp_host).is_loopback
        except ValueError:
            return False

    def unverified_smtp_refusal(self) -> str:
        """Why SMTP must not start, in one line, or "".

        With `PLEIN_INBOUND_AUTH=none` the From of inbound mail is believed as written: fine for
        trying Plein on loopback, but on an address others reach it lets anyone post as any
        member. There it takes an explicit `PLEIN_INBOUND_AUTH=none` to accept that.
        """
        if self.inbound_auth != "none" or "inbound_auth" in self.model_fields_set or self.smtp_on_loopback:
            return ""
        return (
            f"SMTP on {self.smtp_host or 'every address'} would let anyone post as any member:"
            " set PLEIN_INBOUND_AUTH=relay (with PLEIN_TRUSTED_AUTHSERV_IDS) or dkim,"
            " or PLEIN_INBOUND_AUTH=none to accept unverified senders, or PLEIN_SMTP_HOST=127.0.0.1"
        )

    def model_post_init(self, __context: object) -> None:
        self.data_dir = self.data_dir.resolve()
        if not self.base_url:
            self.base_url = f"http://{self.http_host}:{self.http_port}"
        self.base_url = self.base_url.rstrip("/")
        if not self.database_url:
            self.database_url = self.embedded_database_url
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{self.data_dir / 'broker.db'}"

    @property
    def embedded_database_url(self) -> str:
        """The SQLite file under the data directory: the database unless `PLEIN_DATABASE_URL` names another."""
        return f"sqlite:///{self.data_dir / 'plein.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def inbound_dir(self) -> Path:
        return self.data_dir / "inbound"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def uses_embedded_broker(self) -> bool:
        """True when Celery's messages sit in a SQLite file under the data directory."""
        return self.broker_url.startswith("sqla+sqlite")

    def signing_key(self) -> str:
        """The secret that signs reply addresses, sign-in links and cookies.

        Taken from `PLEIN_SECRET_KEY`, or generated once and kept in the data directory so
        that links mailed yesterday still work after a restart.
        """
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(key_file, "x") as new_key:  # exclusive: two processes never race
                key_file.chmod(0o600)
                new_key.write(secrets.token_hex(32))
        except FileExistsError:
            pass
        self.secret_key = key_file.read_text().strip()
        return self.secret_key


def get_settings() -> Settings:
    """The settings of the `PLEIN_*` environment as it is now.

    Read in one place: a process builds its context from these once (`hub.context.build_context`)
    and passes them down. The alembic CLI, which runs no context, builds its own (hub/migrations/env.py).
    """
    return _settings_of(frozenset((name, value) for name, value in os.environ.items() if name.startswith("PLEIN_")))


@lru_cache(maxsize=4)
def _settings_of(environment: frozenset[tuple[str, str]]) -> Settings:
    """One `Settings` per set of `PLEIN_*` values: a memo, since reading them takes a couple of milliseconds."""
    return Settings()
