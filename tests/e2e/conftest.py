"""One real Plein for the end-to-end tests: `plein run` with people and groups made by the CLI."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from tests.support.servers import PleinServer, ProductionPlein


@dataclass
class Company:
    server: PleinServer
    tokens: dict[str, str]

    def address(self, local: str) -> str:
        return f"{local}@{self.server.domain}"


PEOPLE = {
    "alice": "Alice Aalders",
    "bob": "Bob Bos",
    "erin": "Erin Ekker",
    "carol": "Carol Claes",
    "dave": "Dave Dekker",
}


_BROKERS = itertools.count(1)
"""Redis databases handed to production hubs in turn, so that two hubs alive at once never share a queue."""


def make_server(request, tmp_path_factory, **settings: str) -> PleinServer:
    """A Plein on the profile the test asks for: embedded, or production on PostgreSQL and Redis, with a database
    and a broker of its own (the session's servers are shared; the package's hub runs beside a module's)."""
    data_dir = tmp_path_factory.mktemp(request.param) / "data"
    if request.param == "production":
        postgres = request.getfixturevalue("postgres")
        redis = request.getfixturevalue("redis_server")
        database = postgres.fresh_database(data_dir.parent.name)
        return ProductionPlein(data_dir, database, redis.database(next(_BROKERS) % 16), **settings)
    return PleinServer(data_dir, **settings)


@pytest.fixture(scope="package")
def demo(tmp_path_factory) -> PleinServer:
    """`plein run --demo`, as a newcomer starts it first; one for every test that looks at it."""
    server = PleinServer(tmp_path_factory.mktemp("demo") / "data")
    server.start("--demo")
    yield server
    server.stop()


@pytest.fixture(scope="package", params=["embedded", "production"])
def company(request, tmp_path_factory) -> Company:
    server = make_server(request, tmp_path_factory, max_message_size=str(2 * 1024 * 1024), log_format="json")
    outputs = server.cli_batch(
        ["db", "upgrade"],
        *(["user", "add", f"{name}@example.com", "--name", full_name] for name, full_name in PEOPLE.items()),
        ["group", "create", "engineering", "--name", "Engineering"],
        ["group", "create", "board", "--name", "Board", "--private"],
        ["group", "add-member", "engineering", "alice@example.com"],
        ["group", "add-member", "engineering", "bob@example.com", "--delivery", "each"],
        ["group", "add-member", "engineering", "erin@example.com", "--delivery", "daily"],
        ["group", "add-member", "board", "dave@example.com"],
        *(["token", "create", f"{name}@example.com"] for name in PEOPLE),
    )
    tokens = {name: output.strip() for name, output in zip(PEOPLE, outputs[-len(PEOPLE):])}
    server.start()
    yield Company(server, tokens)
    server.stop()
