"""Rate-limit counters in a SQLite file, shared by every process of one host (the embedded default).

Written by hand because the `limits` library, which Flask-Limiter counts through, ships
storages for memory (one process only), Redis, Memcached and MongoDB, but none that works
without another service. Gunicorn's workers are separate processes: with the memory storage
two workers let twice the advertised sign-in attempts through. One small table in
`instance/limits.db`, updated in one immediate transaction per hit, gives every worker of
the host the same count. Several hosts need Redis (`[redis] url`), as docs/deployment.md says.

Only the fixed-window strategy's operations are implemented (the app sets that strategy).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from limits.storage import Storage

SCHEME = "tracker+sqlite"
#: One hit in this many also sweeps every expired counter away.
_SWEEP_EVERY = 500


class SQLiteLimitStorage(Storage):
    """`tracker+sqlite:///absolute/path/limits.db`: fixed-window counters in a SQLite file."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if not uri or not uri.startswith(SCHEME + "://"):
            raise ValueError(f"not a {SCHEME}:// URI: {uri!r}")
        self.path = Path(uri[len(SCHEME) + 3:])
        self._local = threading.local()
        self._hits = 0
        self._connection()  # create the file and table now: a bad path fails at start-up

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            # One connection per thread and per process (a fork must not share a handle).
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("CREATE TABLE IF NOT EXISTS counter "
                               "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)")
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to `key`'s counter, starting a window of `expiry` seconds if there is none."""
        now = time.time()
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("DELETE FROM counter WHERE key = ? AND expires <= ?", (key, now))
            (count,) = connection.execute(
                "INSERT INTO counter (key, count, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET count = count + excluded.count RETURNING count",
                (key, amount, now + expiry)).fetchone()
            self._hits += 1
            if self._hits % _SWEEP_EVERY == 0:
                connection.execute("DELETE FROM counter WHERE expires <= ?", (now,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return int(count)

    def get(self, key: str) -> int:
        row = self._connection().execute("SELECT count FROM counter WHERE key = ? AND expires > ?",
                                          (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute("SELECT expires FROM counter WHERE key = ? AND expires > ?",
                                          (key, time.time())).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        cursor = self._connection().execute("DELETE FROM counter")
        return cursor.rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counter WHERE key = ?", (key,))
