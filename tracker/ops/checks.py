"""Readiness: can this process reach what it needs (the database; Redis and the queue when configured)?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ..config import Settings


def readiness(engine: Engine, settings: Settings, queue: Any, redis_client: Callable[[], Any] | None = None
              ) -> dict[str, str]:
    """Each dependency's state, "ok" or why not (never the exception's details beyond its type)."""
    states: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        states["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        states["database"] = f"unreachable ({type(exc).__name__})"
    if settings.redis.url:
        try:
            import redis

            redis.Redis.from_url(settings.redis.url, socket_timeout=2, socket_connect_timeout=2).ping()
            states["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            states["redis"] = f"unreachable ({type(exc).__name__})"
    if queue is not None:
        try:
            queue.pending()
            states["queue"] = "ok"
        except Exception as exc:  # noqa: BLE001
            states["queue"] = f"unreachable ({type(exc).__name__})"
    return states
