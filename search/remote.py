"""Search over HTTP, for web processes on machines that do not hold the index.

The indexer role serves `serve_app(index, token)`; a web process with `PLEIN_SEARCH_URL`
set uses `RemoteSearchIndex`, which has the read methods of `SearchIndex` (`search`,
`suggest`, `related`) with the same signatures and results. Arguments and results cross the
wire as JSON, shaped by the type hints of `SearchIndex` itself, so the two never drift apart.
"""

from __future__ import annotations

import collections.abc
import functools
import hmac
import inspect
import operator
import types
import typing
from collections.abc import Collection
from functools import lru_cache

import httpx
from fastapi import Body, FastAPI, Header, HTTPException
from pydantic import TypeAdapter

from search.index import SearchIndex, SearchUnavailable
from search.turns import SearchTurns

READ_METHODS = ("search", "suggest", "related")


@lru_cache
def _signature(method: str) -> inspect.Signature:
    return inspect.signature(getattr(SearchIndex, method))


@lru_cache
def _result_type(method: str) -> TypeAdapter:
    return TypeAdapter(typing.get_type_hints(getattr(SearchIndex, method))["return"])


@lru_cache
def _arguments_type(method: str) -> dict[str, TypeAdapter]:
    hints = typing.get_type_hints(getattr(SearchIndex, method))
    return {name: TypeAdapter(_wire_type(hints[name])) for name in _signature(method).parameters if name != "self"}


def _wire_type(hint: object) -> object:
    """A `Collection[int]` argument (or `Collection[int] | None`) travels as a JSON list."""
    if typing.get_origin(hint) is collections.abc.Collection:
        return list[typing.get_args(hint)[0]]
    if typing.get_origin(hint) is types.UnionType:
        return functools.reduce(operator.or_, (_wire_type(part) for part in typing.get_args(hint)))
    return hint


def _jsonable(value: object) -> object:
    if isinstance(value, Collection) and not isinstance(value, (str, bytes, dict)):
        return list(value)
    return value


class RemoteSearchIndex:
    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self._client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    def _call(self, method: str, *args: object, **kwargs: object) -> object:
        bound = _signature(method).bind(None, *args, **kwargs)
        payload = {name: _jsonable(value) for name, value in bound.arguments.items() if name != "self"}
        try:
            response = self._client.post(f"/index/{method}", json=TypeAdapter(dict).dump_python(payload, mode="json"))
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise SearchUnavailable(f"the search service at {self._client.base_url} did not answer: {error}") from error
        return _result_type(method).validate_python(response.json())

    def search(self, *args: object, **kwargs: object):
        return self._call("search", *args, **kwargs)

    def suggest(self, *args: object, **kwargs: object):
        return self._call("suggest", *args, **kwargs)

    def related(self, *args: object, **kwargs: object):
        return self._call("related", *args, **kwargs)


def serve_app(index: SearchIndex, token: str, searches_at_once: int) -> FastAPI:
    """The indexer's query endpoint: `POST /index/{search|suggest|related}` with a bearer token."""
    app = FastAPI(title="Plein index", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SearchTurns, paths={f"/index/{method}" for method in READ_METHODS}, at_once=searches_at_once)

    @app.post("/index/{method}")
    def call(method: str, body: dict = Body(...), authorization: str = Header("")) -> object:
        if not hmac.compare_digest(authorization, f"Bearer {token}"):
            raise HTTPException(401, "a valid index token is required")
        if method not in READ_METHODS:
            raise HTTPException(404, f"no method {method}")
        types = _arguments_type(method)
        unknown = set(body) - set(types)
        if unknown:
            raise HTTPException(422, f"unknown arguments: {', '.join(sorted(unknown))}")
        arguments = {name: types[name].validate_python(value) for name, value in body.items()}
        result = getattr(index, method)(**arguments)
        return _result_type(method).dump_python(result, mode="json")

    return app
