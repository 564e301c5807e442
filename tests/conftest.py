"""Servers shared by the whole run: PostgreSQL and Redis start once, on first use."""

from __future__ import annotations

import pytest

from tests.support.databases import PostgresServer, RedisServer


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    yield server
    server.close()
