from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from hub.db import upgrade_database
from hub.settings import Settings
from tests.support.hub import MAIL_DOMAIN, hub_context


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """A SQLite database migrated to the newest revision once, for each test to copy: migrating
    anew was most of a hub test's setup."""
    folder = tmp_path_factory.mktemp("migrated")
    upgrade_database(Settings(data_dir=folder))
    with sqlite3.connect(folder / "plein.db") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copy is the whole database
    return folder / "plein.db"


@pytest.fixture
def data_dir(tmp_path, monkeypatch, migrated_database):
    """A migrated database and empty index in a temporary data directory.

    It is `PLEIN_DATA_DIR` too, for the subprocesses a test starts and what reads the
    environment still (signing keys, templates)."""
    monkeypatch.setenv("PLEIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLEIN_MAIL_DOMAIN", MAIL_DOMAIN)
    (tmp_path / "data").mkdir()
    shutil.copyfile(migrated_database, tmp_path / "data" / "plein.db")
    return tmp_path / "data"


@pytest.fixture
def context(data_dir):
    """The hub's context on `data_dir`, with an empty index as the indexer creates when it starts; closed after
    the test."""
    built = hub_context(data_dir)
    built.index  # opened as its writer opens it: created empty, as the indexer does when it starts
    yield built
    built.close()


@pytest.fixture
def session(context):
    with context.session_scope() as session:
        yield session


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_context(request, tmp_path):
    """A hub on an empty data directory and database, SQLite or PostgreSQL, not yet migrated: for migration tests."""
    settings = {}
    if request.param == "postgresql":
        settings["database_url"] = request.getfixturevalue("postgres").fresh_database("unmigrated")
    (tmp_path / "unmigrated").mkdir()
    built = hub_context(tmp_path / "unmigrated", **settings)
    yield built
    built.close()
