"""GET /healthz (the process answers), /readyz (its dependencies answer), /metrics (with a token)."""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from ..web.context import settings
from ..web.extensions import csrf, limiter
from .checks import readiness
from .metrics import LATENCY, REQUESTS, exposition

bp = Blueprint("ops", __name__)


def _plain(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz() -> Response:
    """The process is up and answering: no database call, so a load balancer's probe is cheap."""
    return _plain(jsonify(status="ok"))


@bp.get("/readyz")
@limiter.exempt
def readyz() -> tuple[Response, int]:
    """200 when the database (and Redis and the queue, when configured) answer; 503 and which does not."""
    extensions = current_app.extensions
    states = readiness(extensions["tracker_engine"], settings(), extensions.get("tracker_queue"))
    ready = all(state == "ok" for state in states.values())
    return _plain(jsonify(status="ok" if ready else "unavailable", checks=states)), 200 if ready else 503


@bp.get("/metrics")
@limiter.exempt
def metrics() -> Response | tuple[Response, int]:
    """Prometheus text format; off (404) unless [metrics] token is set, then it needs `Authorization: Bearer`."""
    token = settings().metrics.token
    if not token:
        return _plain(Response("metrics are off: set [metrics] token\n", 404, mimetype="text/plain")), 404
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        answer = Response("a bearer token is needed\n", 401, mimetype="text/plain")
        answer.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return _plain(answer), 401
    body = exposition(current_app.extensions["tracker_db"], current_app.extensions.get("tracker_queue"))
    return _plain(Response(body, mimetype="text/plain; version=0.0.4"))


def register_metrics(app: Flask) -> None:
    """Count every request by endpoint (the route's name, never the raw path) and status."""
    app.register_blueprint(bp)
    csrf.exempt(bp)

    @app.before_request
    def started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def counted(response: Response) -> Response:
        endpoint = request.endpoint or "unmatched"
        REQUESTS.labels(endpoint, request.method if request.method in ("GET", "HEAD", "POST") else "other",
                        str(response.status_code)).inc()
        started = g.pop("metrics_started", None)
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
