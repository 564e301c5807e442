from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.db import get_engine, session_scope, upgrade_database
from hub.services import index_writer
from tests.support.hub import reset_caches


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """A SQLite database migrated to the newest revision once, for each test to copy: migrating
    anew was most of a hub test's setup."""
    folder = tmp_path_factory.mktemp("migrated")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PLEIN_DATA_DIR", str(folder))
        reset_caches()
        upgrade_database()
        get_engine().dispose()  # the last connection closes: the write-ahead log is folded in
        reset_caches()
    return folder / "plein.db"


@pytest.fixture
def data_dir(tmp_path, monkeypatch, migrated_database):
    """A migrated database and empty index under a temporary `PLEIN_DATA_DIR`."""
    monkeypatch.setenv("PLEIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLEIN_MAIL_DOMAIN", "plein.test")
    reset_caches()
    (tmp_path / "data").mkdir()
    shutil.copyfile(migrated_database, tmp_path / "data" / "plein.db")
    upgrade_database()  # at the newest revision already: it checks, and changes nothing
    index_writer.search_index()  # created empty, as the indexer does when it starts
    yield tmp_path / "data"
    reset_caches()


@pytest.fixture
def session(data_dir):
    with session_scope() as session:
        yield session
