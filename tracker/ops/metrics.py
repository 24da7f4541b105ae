"""Prometheus metrics (prometheus-client): requests by route and status, latency, and, read at
scrape time from the database and the queue, jobs waiting, deliveries by state, watcher lag.

Under gunicorn every worker process counts its own requests; `tracker serve` points
PROMETHEUS_MULTIPROC_DIR at a folder in the instance so /metrics adds them up (the
client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ..models import JobLease, WebhookDelivery, utcnow

REQUESTS = Counter("tracker_http_requests_total", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram("tracker_http_request_seconds", "Time to answer a request", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class StateCollector(Collector):
    """Gauges read when scraped: the queue's backlog, deliveries by state, periodic jobs' lag."""

    def __init__(self, factory: sessionmaker[Session], queue: Any) -> None:
        self.factory = factory
        self.queue = queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("tracker_jobs", "Jobs in the queue by state", labels=["state"])
        try:
            jobs.add_metric(["pending"], float(self.queue.pending()))
            jobs.add_metric(["scheduled"], float(self.queue.huey.scheduled_count()))
        except Exception:  # noqa: BLE001 - an unreachable queue shows as no sample, /readyz says why
            pass
        yield jobs
        deliveries = GaugeMetricFamily("tracker_webhook_deliveries", "Outgoing webhook deliveries by state",
                                       labels=["state"])
        lag = GaugeMetricFamily("tracker_periodic_lag_seconds",
                                "How long a periodic job (a watcher, the sweep) is overdue", labels=["job"])
        try:
            with self.factory() as session:
                for state, count in session.execute(select(WebhookDelivery.state, func.count())
                                                    .group_by(WebhookDelivery.state)):
                    deliveries.add_metric([state], float(count))
                now = utcnow()
                for name, next_run in session.execute(select(JobLease.name, JobLease.next_run_at)):
                    lag.add_metric([name], max(0.0, (now - next_run).total_seconds()))
        except Exception:  # noqa: BLE001 - the database away: /readyz says so
            pass
        yield deliveries
        yield lag


def exposition(factory: sessionmaker[Session], queue: Any) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Default())
    registry.register(StateCollector(factory, queue))
    return generate_latest(registry)


class _Default(Collector):
    def collect(self) -> Iterator[Any]:
        yield from REQUESTS.collect()
        yield from LATENCY.collect()
