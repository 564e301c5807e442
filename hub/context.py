"""What a Plein process builds once when it starts, and hands down: its context.

Settings, the database engines and sessions, the job queue (the Celery app), the catalogue of
words and templates, and the search index: the writer's (`index`) or the readers' (`search`).
An edge builds one with `build_context()` at start (the web app keeps it
on `app.state`, the worker's Celery app is the context's, the CLI puts it in click's
`ctx.obj`, `plein run` builds its own) and opens each transaction with
`context.session_scope()`. That puts the context in the session, so a service reaches settings
and the queue through the session it was given (`context_of`), and nothing is fetched from a
module cache: two contexts in one process, on two data directories, never share a database.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from celery import Celery
from sqlalchemy import Engine
from sqlalchemy.orm import Session, object_session, sessionmaker

from hub import jobs
from hub.db import get_engine
from hub.settings import Settings, get_settings
from hub.templating import Catalogue, build_catalogue
from hub.urls import from_mail

if TYPE_CHECKING:
    from search.index import SearchIndex
    from search.remote import RemoteSearchIndex

_CONTEXT = "plein.context"


@dataclass(eq=False)
class Context:
    settings: Settings
    engine: Engine
    durable_engine: Engine
    """Syncs every commit to disk, for what a 250 has promised (see `hub.db.get_engine`)."""
    installation_part: str | None = None
    """The installation's part of Message-IDs, read once by `hub.services.message_ids`."""
    kept: dict = field(default_factory=dict)
    """What a service keeps for the life of the process, by its name: the newest items of the hub for the home
    feed (`hub.services.newest_items`)."""

    def __post_init__(self) -> None:
        self._sessions = {
            durable: sessionmaker(bind=engine, expire_on_commit=False, info={_CONTEXT: self})
            for durable, engine in ((False, self.engine), (True, self.durable_engine))
        }

    @cached_property
    def jobs(self) -> Celery:
        return jobs.build_celery(self.settings)

    @cached_property
    def catalogue(self) -> Catalogue:
        """The words and templates of every language, for this installation's time zone, domain and default."""
        return build_catalogue(self.settings)

    # The search package is imported when the index is first used, not with the context: a process that
    # takes mail in never loads Tantivy (tests/test_architecture.py).

    @cached_property
    def index(self) -> SearchIndex:
        """The index as its writer opens it, creating or migrating it: for the indexer and `plein reindex` only."""
        from search.index import SearchIndex

        return SearchIndex.open(self.settings.index_dir)

    @cached_property
    def search(self) -> SearchIndex | RemoteSearchIndex:
        """Where queries go: the index on this machine opened read-only (it waits for the indexer to create
        it, then raises `IndexUnavailable`), or the indexer's query service (`PLEIN_SEARCH_URL`)."""
        if self.settings.search_url:
            from search.remote import RemoteSearchIndex

            return RemoteSearchIndex(self.settings.search_url, self.search_token())
        from search.index import SearchIndex

        return SearchIndex.open_reader(self.settings.index_dir)

    def url(self, path: str) -> str:
        """An absolute link to `path` in the web hub (`PLEIN_BASE_URL`), for mails, the API and the console."""
        return self.settings.base_url + path

    def mail_url(self, path: str) -> str:
        """`url` of a page a mail links to, marked so that following it counts as a visit from mail."""
        return self.url(from_mail(path))

    def search_token(self) -> str:
        """The bearer token web processes show the indexer's query service, derived from the secret."""
        key = self.settings.signing_key().encode()
        return hmac.new(key, b"plein index service", hashlib.sha256).hexdigest()

    @contextmanager
    def session_scope(self, *, durable: bool = False) -> Iterator[Session]:
        """A session that commits on success, rolls back on error, then sends its queued jobs."""
        session = self._sessions[durable]()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            jobs.discard(session)
            raise
        else:
            jobs.send_committed(session, self.jobs)
        finally:
            session.close()

    def close(self) -> None:
        """Let go of the database connections and the broker's; the context is not used after."""
        self.engine.dispose()
        self.durable_engine.dispose()
        if "jobs" in self.__dict__:
            self.jobs.close()


def build_context(settings: Settings | None = None) -> Context:
    """The context of a process, on `settings` or else on the `PLEIN_*` environment."""
    settings = settings or get_settings()
    engine = get_engine(settings.database_url)
    durable = get_engine(settings.database_url, durable=True) if engine.dialect.name == "sqlite" else engine
    return Context(settings, engine, durable)


def context_of(held: Session | object) -> Context:
    """The context whose `session_scope` opened `held`: a session, or a row loaded in one."""
    session = held if isinstance(held, Session) else object_session(held)
    return session.info[_CONTEXT]
