"""gunicorn entry point for bench/widget.py: the real app plus a trivial route returning fixed bytes."""

# Run as: TRACKER_CONFIG=… python -m gunicorn --chdir bench 'widget_app:create_bench_app()'
# The trivial route lives here, not in the app: it exists only to measure what any route of
# this app costs (WSGI, Flask dispatch, the after-request headers) without widget work.

from __future__ import annotations

from flask import Flask, Response

from tracker import create_app


def create_bench_app() -> Flask:
    """The configured app with `/_bench/fixed/<size>` added."""
    app = create_app()
    bodies: dict[int, bytes] = {}

    @app.get("/_bench/fixed/<int:size>")
    def fixed(size: int) -> Response:
        """`size` bytes, the same every time: the floor cost of a route in this app."""
        body = bodies.setdefault(size, b"x" * min(size, 1 << 20))
        return Response(body, content_type="application/octet-stream")

    return app
