"""Liveness, readiness and Prometheus metrics of a web process.

Counts of mail and the index lag (the oldest change not yet indexed) come from the database
and queue depths from the broker at scrape time, so any web process reports the whole
installation; search latency is this process's own.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from hub import jobs
from hub.db import session_scope
from hub.models import utcnow
from hub.services import health, indexing, stats

router = APIRouter()
registry = CollectorRegistry()
SEARCH_SECONDS = Histogram(
    "plein_search_seconds", "Time to answer a search request in this process", ["endpoint"],
    registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class DatabaseCollector:
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
        with session_scope() as session:
            for status, count in stats.inbound_by_status(session).items():
                inbound.add_metric([status], count)
            for (kind, status), count in stats.outgoing_by_kind_and_status(session).items():
                outgoing.add_metric([kind, status], count)
            waiting, oldest = indexing.pending(session)
        index_pending.add_metric([], waiting)
        index_lag.add_metric([], (utcnow() - oldest).total_seconds() if oldest is not None else 0.0)
        try:
            for queue, depth in jobs.queue_depths().items():
                queued.add_metric([queue], depth)
        except Exception:
            pass  # an unreachable broker shows as missing series, and in /readyz
        yield from (inbound, outgoing, queued, index_pending, index_lag)


registry.register(DatabaseCollector())


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz() -> JSONResponse:
    checks = [health.check_database(), health.check_broker(), health.check_index()]
    ready = all(check.ok for check in checks)
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
