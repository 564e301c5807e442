"""Migrations build exactly the schema of the models, on SQLite and on PostgreSQL, and alembic's CLI
autogenerates nothing from them. They run only when asked (`plein db upgrade`, or `plein run` on the
embedded database); every other process refuses, in one line, a database not at the head revision."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hub.db import MIGRATIONS_DIR, get_engine, upgrade_database
from hub.models import Base
from hub.settings import Settings
from tests.support.hub import hub_context
from tests.support.migrations import at_revision, insert
from tests.support.servers import PleinServer, free_port, wait_for

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"
HEADS = ", ".join(sorted(ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_heads()))
ROLES = [("web",), ("smtp",), ("worker",), ("beat",), ("indexer",), ("imap",)]


def differences_from_the_models(database_url: str) -> list:
    engine = get_engine(database_url)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_schema_of_the_models(context):
    assert differences_from_the_models(context.settings.database_url) == []


def test_migrations_build_exactly_the_schema_of_the_models_on_postgresql(postgres, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", database_url=postgres.fresh_database("migrations_check"))
    upgrade_database(settings)
    upgrade_database(settings)  # a second `plein db upgrade` changes nothing
    assert differences_from_the_models(settings.database_url) == []


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def alembic(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The alembic CLI, as a developer runs it, on the database of `PLEIN_*` in this process's environment."""
    return run([sys.executable, "-m", "alembic", *args], os.environ.copy(), cwd)


def test_alembic_check_finds_nothing_to_autogenerate_on_a_migrated_database(data_dir, tmp_path):
    result = alembic("-c", str(ALEMBIC_INI), "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected." in result.stdout


def test_alembic_revision_autogenerate_writes_a_migration_that_changes_nothing(data_dir, tmp_path):
    drafts = tmp_path / "drafts"
    config = tmp_path / "alembic.ini"  # the repository's, with a folder of our own for the new file
    config.write_text(
        f"[alembic]\nscript_location = {MIGRATIONS_DIR}\nversion_locations = {MIGRATIONS_DIR / 'versions'} {drafts}\n"
    )
    newest = max(HEADS.split(", "))  # alembic writes on one head; until a merge revision there are several
    result = alembic(
        "-c", str(config), "revision", "--autogenerate", "-m", "x", "--rev-id", "9999",
        "--version-path", str(drafts), "--head", newest, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    [written] = drafts.glob("9999_*.py")
    upgrade = re.search(r"def upgrade\(\) -> None:\n(.*?)\n\n", written.read_text(), re.DOTALL)[1]
    assert [line.strip() for line in upgrade.splitlines() if not line.strip().startswith("#")] == ["pass"]


def plein_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PLEIN_")}
    settings = {"data_dir": str(data_dir), "http_port": str(free_port()), "metrics_port": str(free_port()), **settings}
    return env | {f"PLEIN_{name.upper()}": value for name, value in settings.items()}


def plein(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "hub.cli", *args], env, Path(env["PLEIN_DATA_DIR"]).parent)


def refusal(where: str) -> str:
    return f"Error: Plein's database is {where}, the code needs {HEADS}: run plein db upgrade.\n"


@pytest.mark.parametrize("command", [*ROLES, ("run",)], ids=" ".join)
def test_each_role_and_plein_run_on_a_configured_new_database_refuses_in_one_line(tmp_path, command):
    env = plein_env(tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'configured.db'}")
    result = plein(env, *command)
    assert result.returncode == 1
    assert result.stderr == refusal("not migrated yet")
    assert not (tmp_path / "configured.db").exists()


def test_a_role_on_a_database_behind_head_refuses_in_one_line_and_starts_after_plein_db_upgrade(tmp_path):
    env = plein_env(tmp_path / "data")
    behind = run([sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "upgrade", "0012"], env, tmp_path)
    assert behind.returncode == 0, behind.stderr

    refused = plein(env, "web")
    assert refused.returncode == 1
    assert refused.stderr == refusal("at revision 0012")

    assert plein(env, "db", "upgrade").stdout == "Database is up to date\n"
    web = subprocess.Popen([sys.executable, "-m", "hub.cli", "web"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: answers(web, f"http://127.0.0.1:{env['PLEIN_HTTP_PORT']}/healthz"), timeout=60, what="web")
    finally:
        web.terminate()
        web.wait(timeout=30)


def answers(process: subprocess.Popen, url: str) -> bool:
    assert process.poll() is None, process.stderr.read()
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_database_migrated_by_newer_code_is_refused_too(data_dir):
    env = plein_env(data_dir)
    with closing(sqlite3.connect(data_dir / "plein.db")) as connection, connection:
        connection.execute("DELETE FROM alembic_version")
        connection.execute("INSERT INTO alembic_version VALUES ('9999')")
    refused = plein(env, "worker")
    assert refused.returncode == 1
    assert refused.stderr == (
        f"Error: Plein's database is at revision 9999, newer than this code knows (it needs {HEADS}):"
        " run the Plein that migrated it.\n"
    )


def test_plein_run_on_a_new_embedded_data_directory_upgrades_it_and_starts(tmp_path):
    server = PleinServer(tmp_path / "data")
    server.start()
    try:
        assert server.cli("user", "list").stdout == "No users\n"
    finally:
        server.stop()


def test_a_sqlite_database_that_was_migrated_has_its_statistics_made_again(tmp_path):
    """A migration that rebuilds a table drops what ANALYZE knew of it; the upgrade makes the statistics again."""
    (tmp_path / "data").mkdir()
    context = hub_context(tmp_path / "data")
    try:
        with at_revision(context, "0037") as connection:
            insert(connection, "users", id=1, email="alice@example.com", name="Alice", created_at="2026-01-01 00:00:00",
                   timezone="UTC", digest_hour=7, digest_weekday=0, language="en", notify_replies=1)
        upgrade_database(context.settings)
        with closing(sqlite3.connect(context.settings.data_dir / "plein.db")) as database:
            analysed = {table for (table,) in database.execute("SELECT DISTINCT tbl FROM sqlite_stat1")}
        assert "users" in analysed
    finally:
        context.close()
