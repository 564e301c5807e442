"""An in-process hub on a fresh data directory, for service-level tests."""

from __future__ import annotations

from hub import db, jobs, templating
from hub.services import index_writer, message_ids, searching
from hub.settings import get_settings


def reset_caches() -> None:
    """Forget every process-wide object built from settings, so new `PLEIN_*` values apply."""
    for cached in (
        get_settings, db._engine, db._session_factory, index_writer.search_index, searching.search_reader,
        jobs.celery_app, templating.catalogue, message_ids._installation_part,
    ):
        cached.cache_clear()
