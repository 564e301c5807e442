"""Liveness, readiness and Prometheus metrics of a web process.

`/healthz` and `/readyz` are on the hub's port for load balancers, and say no more than
ready or not and why, in words. `/metrics` counts mail and queues, which is nobody's
business but the operator's: it is served on a port of its own (`PLEIN_METRICS_HOST`,
`PLEIN_METRICS_PORT`, loopback by default), never on the hub's.

Counts of mail and the index lag (the oldest change not yet indexed) come from the database
and queue depths from the broker at scrape time, so any web process reports the whole
installation; search latency is this process's own.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from hub import jobs
from hub.context import Context
from hub.models import utcnow
from hub.services import health, indexing, stats
from hub.web.deps import context_of_app

log = logging.getLogger(__name__)
router = APIRouter()
registry = CollectorRegistry()
SEARCH_SECONDS = Histogram(
    "plein_search_seconds", "Time to answer a search request in this process", ["endpoint"],
    registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class DatabaseCollector:
    def __init__(self, context: Context) -> None:
        self.context = context

    def collect(self):
        inbound = GaugeMetricFamily(
            "plein_inbound_messages", "Messages accepted over SMTP or IMAP, by what became of them", labels=["status"]
        )
        outgoing = GaugeMetricFamily(
            "plein_outgoing_messages", "Messages written to the outbox, by kind and status", labels=["kind", "status"]
        )
        queued = GaugeMetricFamily("plein_queue_depth", "Tasks waiting in a Celery queue", labels=["queue"])
        index_pending = GaugeMetricFamily("plein_index_pending_items", "Changed items the search index has yet to take in")
        index_lag = GaugeMetricFamily(
            "plein_index_lag_seconds", "How long the oldest change not yet in the search index has waited"
        )
        with self.context.session_scope() as session:
            for status, count in stats.inbound_by_status(session).items():
                inbound.add_metric([status], count)
            for (kind, status), count in stats.outgoing_by_kind_and_status(session).items():
                outgoing.add_metric([kind, status], count)
            waiting, oldest = indexing.pending(session)
        index_pending.add_metric([], waiting)
        index_lag.add_metric([], (utcnow() - oldest).total_seconds() if oldest is not None else 0.0)
        try:
            for queue, depth in jobs.queue_depths(self.context.jobs).items():
                queued.add_metric([queue], depth)
        except Exception:
            pass  # an unreachable broker shows as missing series, and in /readyz
        yield from (inbound, outgoing, queued, index_pending, index_lag)


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    checks = health.readiness(context_of_app(request))
    ready = all(check.ok for check in checks)
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": {c.name: {"ok": c.ok, "detail": c.public} for c in checks}},
        status_code=200 if ready else 503,
    )


def serve_metrics(context: Context) -> None:
    """Serve `/metrics` from a thread on `PLEIN_METRICS_HOST:PLEIN_METRICS_PORT`, if that port is free.

    Where several web processes share a machine and its settings, the first to start takes
    the port and the others say so and serve none: the counts are the installation's anyway.
    """
    settings = context.settings
    if not settings.metrics_port:
        return
    collector = DatabaseCollector(context)
    registry.register(collector)
    try:
        start_http_server(settings.metrics_port, settings.metrics_host, registry=registry)
    except OSError as error:
        registry.unregister(collector)
        log.warning(
            "not serving /metrics: %s:%s is taken (%s), by another web process?",
            settings.metrics_host, settings.metrics_port, error.strerror,
        )
        return
    log.info("metrics on http://%s:%s/metrics", settings.metrics_host, settings.metrics_port)


class SearchLatency:
    """ASGI middleware: how long the searches of `paths` take, into `SEARCH_SECONDS`."""

    def __init__(self, app, paths: set[str]) -> None:
        self.app, self.paths = app, paths

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            SEARCH_SECONDS.labels(scope["path"]).observe(time.perf_counter() - started)
